"""Outbound webhooks: endpoints admins register, signed deliveries of bus events, retried for a day."""
