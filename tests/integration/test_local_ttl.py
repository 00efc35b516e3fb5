"""DynamoDB TTL in the local stack (ecrm_local.ttl): expired items leave moto as DynamoDB's TTL
process removes them, and the REMOVE records those deletions put on the Outbox's stream are dropped
by the relay's INSERT filter: no event published twice, none lost."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ecrm.clock import SYSTEM_CLOCK
from ecrm.names import Env
from ecrm_local import ttl
from moto import mock_aws

from tests.support import Stack, keyed_table

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _table(db: Any, *, ttl_on: bool = True) -> str:
    name = keyed_table(db)
    db.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": ttl_on, "AttributeName": "expires_at"})
    return name


def _put(db: Any, table: str, pk: str, expires: dict[str, str] | None) -> None:
    db.put_item(
        TableName=table, Item={"pk": {"S": pk}, "sk": {"S": "x"}, **({"expires_at": expires} if expires else {})}
    )


def _keys(db: Any, table: str) -> list[str]:
    return sorted(item["pk"]["S"] for item in db.scan(TableName=table)["Items"])


@mock_aws
def test_items_expire_as_dynamodb_reads_their_ttl_attribute() -> None:
    db = boto3.client("dynamodb", region_name="us-east-1")
    table, off = _table(db), _table(db, ttl_on=False)
    epoch = int(NOW.timestamp())
    _put(db, table, "due", {"N": str(epoch)})
    _put(db, table, "past", {"N": str(epoch - 86400)})
    _put(db, table, "future", {"N": str(epoch + 1)})
    _put(db, table, "string", {"S": str(epoch - 86400)})  # not a Number: DynamoDB ignores it
    _put(db, table, "ancient", {"N": str(epoch - 6 * 365 * 86400)})  # over five years: ignored too
    _put(db, table, "none", None)
    _put(db, off, "past", {"N": str(epoch - 86400)})

    assert ttl.sweep(NOW) == 2

    assert _keys(db, table) == ["ancient", "future", "none", "string"]
    assert _keys(db, off) == ["past"]  # TTL disabled on that table


@mock_aws
def test_a_table_given_a_shorter_local_retention_expires_that_much_earlier() -> None:
    db = boto3.client("dynamodb", region_name="us-east-1")
    table, other = _table(db), _table(db)
    in_an_hour = {"N": str(int((NOW + timedelta(hours=1)).timestamp()))}
    for name in (table, other):
        _put(db, name, "soon", in_an_hour)

    assert ttl.sweep(NOW, {table: timedelta(minutes=59)}) == 0
    assert ttl.sweep(NOW, {table: timedelta(hours=1)}) == 1

    assert (_keys(db, table), _keys(db, other)) == ([], ["soon"])


def test_the_local_outbox_retention_is_the_weeks_remainder() -> None:
    outbox = next(iter(ttl.earlier_by(timedelta(minutes=10)).items()))

    assert outbox[0].endswith("Outbox")
    assert outbox[1] == timedelta(days=7) - timedelta(minutes=10)
    assert ttl.earlier_by(timedelta(days=30))[outbox[0]] == timedelta(0)  # never later than AWS


def _outbox_stream(stack: Stack) -> list[dict[str, Any]]:
    db = boto3.client("dynamodb")
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = db.describe_table(TableName=stack.env[Env.OUTBOX_TABLE])["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=it["ShardIterator"], Limit=1000)["Records"]
    return records


def _capture(stack: Stack, who: str) -> None:
    answer = stack.call("POST", "/contacts", {"email": f"{who}@example.org", "marketing_consent": True})
    assert answer.status in (200, 201, 202), answer.body


@pytest.mark.parametrize("relayed_first", [True, False], ids=["relayed-then-expired", "expired-before-relay"])
def test_outbox_rows_expiring_publish_nothing_twice_and_lose_nothing(stack: Stack, relayed_first: bool) -> None:
    stack.auto_relay = relayed_first
    _capture(stack, "ttl")
    committed = len(stack.table_items(Env.OUTBOX_TABLE))
    assert committed > 0

    expired = ttl.sweep(SYSTEM_CLOCK.now() + timedelta(days=8))

    assert expired >= committed
    assert stack.table_items(Env.OUTBOX_TABLE) == []
    removes = [r for r in _outbox_stream(stack) if r["eventName"] == "REMOVE"]
    assert len(removes) == committed
    assert [r.get("userIdentity") for r in removes] == [ttl.TTL_IDENTITY] * committed
    events = stack.bus_events()  # relays what is left on the stream first
    assert len(events) == committed  # each INSERT published once, no REMOVE published
    assert stack.relay() == 0
    assert len(stack.bus_events()) == committed


@mock_aws
def test_the_sweeper_thread_sweeps_until_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    db = boto3.client("dynamodb", region_name="us-east-1")
    table = _table(db)
    _put(db, table, "past", {"N": str(int(NOW.timestamp()) - 1)})
    monkeypatch.setattr(ttl, "SWEEP_SECONDS", 0.01)
    swept = threading.Event()
    stop = threading.Event()

    def now() -> datetime:
        if not _keys(db, table):
            swept.set()
        return NOW

    sweeper = ttl.Sweeper(now, {}, stop)
    sweeper.start()
    swept.wait(30)
    stop.set()
    sweeper.join(30)

    assert swept.is_set() and not sweeper.is_alive()
