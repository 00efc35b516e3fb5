"""Shared code of the eCRM functions: domain services, ports, adapters and models (shipped as a layer)."""
