"""The contact 360 reads through the other capabilities' own adapters (their
`adapters/dynamo_personal_data.py`): it keeps no table of its own yet."""
