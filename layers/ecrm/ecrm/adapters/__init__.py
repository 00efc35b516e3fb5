"""Adapters: boto3 behind the domain's ports. Each takes its client; none creates one at import."""
