"""The contacts capability's adapters: boto3 behind its ports (imported by compose.py, never by the domain)."""
