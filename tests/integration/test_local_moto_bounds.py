"""What moto keeps is bounded in the local stack (ecrm_local.moto_bounds): its instance tracking,
its shard iterators, stream records the local reader has settled, and empty partitions."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
from botocore.config import Config
from ecrm_local import moto_bounds
from moto import mock_aws

from tests.support import keyed_table


def test_moto_keeps_only_the_newest_instances_of_each_model() -> None:
    from moto.sqs.models import Message

    moto_bounds.install()
    made = [Message(str(i), "body", {}) for i in range(moto_bounds.TRACKED + 50)]
    tracked: Any = vars(Message)["instances_tracked"]

    assert len(tracked) == moto_bounds.TRACKED
    assert tracked[-1] is made[-1]
    assert made[0] not in tracked


@mock_aws
def test_settled_stream_records_leave_moto_and_sequence_numbers_stay() -> None:
    moto_bounds.install()
    db = boto3.client("dynamodb", region_name="us-east-1")
    table = db.create_table(
        TableName=f"t-{uuid.uuid4().hex[:8]}",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    for key in "abc":
        db.put_item(TableName=table["TableName"], Item={"pk": {"S": key}})
    streams = boto3.client(
        "dynamodbstreams", region_name="us-east-1", config=Config(account_id_endpoint_mode="disabled")
    )
    arn = table["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def records(**where: Any) -> list[tuple[str, str]]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **where)["ShardIterator"]
        found = streams.get_records(ShardIterator=it)["Records"]
        return [(r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"]) for r in found]

    before = records(ShardIteratorType="TRIM_HORIZON")
    assert moto_bounds.trim_stream(arn, {shard: before[1][1]}) == 2
    assert moto_bounds.trim_stream(arn, {shard: before[1][1]}) == 0

    assert records(ShardIteratorType="TRIM_HORIZON") == before[2:]
    assert records(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=before[1][1]) == before[2:]


def test_shard_iterators_keep_the_newest() -> None:
    newest = moto_bounds._Newest({}, limit=3)
    for i in range(5):
        newest[f"it{i}"] = i

    assert list(newest) == ["it2", "it3", "it4"]


@mock_aws
def test_reading_a_missing_key_or_deleting_the_last_item_leaves_no_empty_partition() -> None:
    from moto.dynamodb.models import dynamodb_backends

    moto_bounds.install()
    db = boto3.client("dynamodb", region_name="us-east-1")
    name = keyed_table(db)
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    partitions = dynamodb_backends["123456789012"]["us-east-1"].tables[name].items

    assert "Item" not in db.get_item(TableName=name, Key={"pk": {"S": "missing"}, "sk": {"S": "1"}})
    assert len(partitions) == 0
    db.put_item(TableName=name, Item={**key, "n": {"N": "1"}})
    db.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "2"}})
    db.delete_item(TableName=name, Key=key)
    assert db.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "2"}})["Item"]["sk"] == {"S": "2"}
    assert len(partitions) == 1
    db.delete_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "2"}})
    assert len(partitions) == 0


def test_a_queue_keeps_the_newest_deleted_receipt_handles() -> None:
    recent = moto_bounds._Recent(limit=3)
    recent.update(["a", "b"], ["c", "d"])
    recent.add("b")

    assert sorted(recent) == ["b", "c", "d"] and "a" not in recent


@mock_aws
def test_deleting_a_message_twice_still_succeeds_with_the_bound() -> None:
    moto_bounds.install()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    from moto.sqs.models import sqs_backends

    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    queue = sqs_backends["123456789012"]["us-east-1"].queues[url.rsplit("/", 1)[1]]
    assert isinstance(queue.deleted_messages, moto_bounds._Recent)
    assert message["ReceiptHandle"] in queue.deleted_messages
