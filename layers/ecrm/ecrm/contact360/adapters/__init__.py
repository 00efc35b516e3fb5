"""The contact 360's own table (the timelines). The other capabilities' data is read through their
own adapters (their `adapters/dynamo_personal_data.py`)."""
