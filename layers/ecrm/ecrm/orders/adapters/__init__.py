"""The orders capability's boto3 adapters."""
