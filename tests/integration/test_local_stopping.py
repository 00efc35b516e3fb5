"""Stopping `ecrm local` mid-drain is prompt and loses nothing: a stream reader hands over no
further batch once the stop flag is set and reads the rest on its next drain; a queue poller that
received messages as the stop came hands them back to the queue unprocessed."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from ecrm.names import Env
from ecrm_infra import topology
from ecrm_local import lambdas, pollers, resources, streams

from tests.support import Stack

CONSENT = topology.function("consent_mailer")


def _outbox_rows(stack: Stack, keys: list[str]) -> None:
    db = boto3.client("dynamodb")
    for key in keys:
        db.put_item(TableName=stack.env[Env.OUTBOX_TABLE], Item={"pk": {"S": key}, "sk": {"S": "event"}})


def test_a_stop_mid_drain_hands_over_no_further_batch_and_the_next_drain_reads_the_rest(stack: Stack) -> None:
    trigger, fn = next(iter(topology.stream_triggers()))
    keys = [f"EVENT#{i:03}" for i in range(3 * trigger.batch_size + 5)]
    _outbox_rows(stack, keys[:20])
    boto3.client("dynamodb").delete_item(  # a REMOVE among the INSERTs, as TTL makes them
        TableName=stack.env[Env.OUTBOX_TABLE], Key={"pk": {"S": keys[0]}, "sk": {"S": "event"}}
    )
    _outbox_rows(stack, keys[20:])
    stop, handed = threading.Event(), list[str]()

    def invoke(name: str, event: dict[str, Any]) -> dict[str, Any]:
        handed.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"])
        stop.set()  # the stop arrives while the function runs its first batch
        return {"batchItemFailures": []}

    reader = streams.StreamReader(boto3.session.Session(), trigger, fn, invoke)

    assert reader.drain(stop) == trigger.batch_size
    assert reader.drain(stop) == 0
    assert handed == keys[: trigger.batch_size]
    stop.clear()
    handed_later = reader.drain()

    assert handed_later == len(keys) - trigger.batch_size
    assert handed == keys  # each INSERT once, in order; the REMOVE never


@pytest.fixture
def consent_queue(stack: Stack) -> tuple[Any, str]:
    session = boto3.session.Session()
    assert CONSENT.queue is not None
    url = resources.queue_url(session, CONSENT.queue.queue)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="a consent request")
    return session, url


def test_messages_received_as_the_stop_comes_go_back_to_the_queue_unprocessed(
    consent_queue: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    session, url = consent_queue
    invoked: list[str] = []
    monkeypatch.setattr(lambdas, "invoke", lambda name, event: invoked.append(name))
    stop = threading.Event()
    poller = pollers.QueuePoller(session, CONSENT, stop)
    stop.set()

    assert poller.poll_once() == 0
    assert invoked == []
    again = boto3.client("sqs").receive_message(QueueUrl=url).get("Messages", [])  # visible now, not in 6x timeout
    assert [m["Body"] for m in again] == ["a consent request"]
