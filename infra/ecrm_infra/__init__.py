"""The CDK app's package. Importing it imports no CDK: `topology` is plain data."""
