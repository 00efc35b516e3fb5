"""The webhooks capability's adapters: its table, the HTTP sender and host resolution."""
