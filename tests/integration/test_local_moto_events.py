"""integration: with the local stack's JSONPath cache, moto's EventBridge parses each input path
once and still delivers events to their targets unchanged."""

from __future__ import annotations

import importlib
import json
from typing import Any

import boto3
from ecrm_local import moto_events, resources
from moto import mock_aws


def test_events_are_delivered_and_each_path_is_parsed_once():
    moto_events.install()
    ext: Any = importlib.import_module("jsonpath_ng.ext")
    with mock_aws():
        sqs, events = boto3.client("sqs", region_name="us-east-1"), boto3.client("events", region_name="us-east-1")
        url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        arn = resources.queue_arn(boto3.session.Session(region_name="us-east-1"), url)
        events.put_rule(Name="tap", EventPattern=json.dumps({"source": ["test"]}))
        events.put_targets(Rule="tap", Targets=[{"Id": "q", "Arn": arn}])
        before = ext.parse.cache_info()
        for i in range(5):
            events.put_events(Entries=[{"Source": "test", "DetailType": "T", "Detail": json.dumps({"i": i})}])
        after = ext.parse.cache_info()
        got = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            got += [json.loads(m["Body"])["detail"]["i"] for m in batch]
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)]
            )
    assert sorted(got) == [0, 1, 2, 3, 4]
    assert after.hits > before.hits and after.currsize >= 1
