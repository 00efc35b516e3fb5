"""Shared by the loyalty tests and its bench: shop events, delivery through the real (moto) queues
into the handlers, and botocore hooks that count or break DynamoDB requests on one client."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from ecrm.loyalty.adapters.dynamo_loyalty import DynamoLedger
from ecrm.loyalty.names import DetailType
from ecrm.names import Source
from ecrm_local import lambdas, pollers, resources

MEMBER = "a" * 32
PLACED = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)


def order(order_id: str, amount: int = 10_000, category: str = "garden", **detail: Any) -> dict[str, Any]:
    """An OrderPlaced.v1 detail of one line of `amount` minor units (EUR), by contact id unless
    `email` is given."""
    fields: dict[str, Any] = {
        "order_id": order_id,
        "total": {"amount_minor": amount, "currency": "EUR"},
        "lines": [{"sku": f"SKU-{category}", "category": category, "quantity": 1, "amount_minor": amount}],
        "placed_at": PLACED.isoformat(),
    }
    if "email" not in detail:
        fields["contact_id"] = MEMBER
    return {**fields, **detail}


def refund(order_id: str, refund_id: str, amount: int, **detail: Any) -> dict[str, Any]:
    return {"order_id": order_id, "refund_id": refund_id, "amount_minor": amount, **detail}


def envelope(detail_type: str, detail: Any, source: str = Source.SHOP) -> dict[str, Any]:
    """The EventBridge event as a rule puts it on a queue."""
    return {
        "version": "0",
        "id": f"evt-{abs(hash(json.dumps(detail, sort_keys=True, default=str))):x}",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-20T09:15:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def placed(detail: dict[str, Any]) -> dict[str, Any]:
    return envelope(DetailType.ORDER_PLACED, detail)


def refunded(detail: dict[str, Any]) -> dict[str, Any]:
    return envelope(DetailType.ORDER_REFUNDED, detail)


def sqs_batch(*bodies: Any) -> dict[str, Any]:
    """A Lambda SQS event of these bodies (dicts become JSON), message ids m0, m1, ..."""
    messages = [
        {
            "MessageId": f"m{i}",
            "ReceiptHandle": f"r{i}",
            "Body": body if isinstance(body, str) else json.dumps(body),
            "Attributes": {"ApproximateReceiveCount": "1"},
            "MD5OfBody": "0" * 32,
        }
        for i, body in enumerate(bodies)
    ]
    return pollers.sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:queue", "us-east-1")


def publish(*events: tuple[str, dict[str, Any]], source: str = Source.SHOP) -> None:
    """Put events on the stack's bus, as the shop does (the rules copy them to their queues)."""
    bus = resources.physical_name("Bus")
    entries = [
        {"EventBusName": bus, "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}
        for detail_type, detail in events
    ]
    for start in range(0, len(entries), 10):
        answer = boto3.client("events").put_events(Entries=entries[start : start + 10])  # type: ignore[arg-type]
        assert answer["FailedEntryCount"] == 0


@dataclass
class Drained:
    invocations: int = 0
    handled: int = 0
    failed: list[str] = field(default_factory=list)  # bodies of failed records, per failure


def drain(queue: str, function: str, rounds: int = 30) -> Drained:
    """Feed a queue into its function as Lambda's poller does, until the queue is empty: settled
    messages are deleted, failed ones come back at once (their visibility timeout cut to 0) until
    the queue's redrive policy moves them to the DLQ."""
    sqs = boto3.client("sqs")
    url = resources.queue_url(boto3.session.Session(), queue)
    drained = Drained()
    for _ in range(rounds):
        answer: dict[str, Any] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])  # type: ignore[assignment]
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        if not messages:
            return drained
        try:
            result = lambdas.invoke(
                function, pollers.sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
            )
        except Exception:  # as in Lambda: the whole batch returns to the queue
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        drained.invocations += 1
        done = pollers.settled(messages, result)
        drained.handled += len(done)
        for m in messages:
            if m in done:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            else:
                drained.failed.append(m["Body"])
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    raise AssertionError(f"{queue} did not drain in {rounds} rounds")


def dead_letters(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=resources.dlq_name(queue))["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


class DynamoRequests:
    """botocore event hooks on one DynamoDB client: every request counted by operation, and chosen
    TransactWriteItems (by number, from 1) refused as throttled before anything is written
    (`throttle`) or applied and then answered with a timeout (`lose`)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.throttle: set[int] = set()
        self.lose: set[int] = set()
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.TransactWriteItems", self._after)

    @classmethod
    def on(cls, ledger: Any) -> DynamoRequests:
        assert isinstance(ledger, DynamoLedger)
        return cls(ledger.client)

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if op in WRITES)

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if op in READS)

    def _before(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems" and self.calls[model.name] in self.throttle:
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "injected: throttled"}
            response = AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, HTTPHeaders(), None)
            return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None

    def _after(self, http_response: AWSResponse, **_: Any) -> None:
        if self.calls["TransactWriteItems"] in self.lose and http_response.status_code < 300:
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/ (injected: answer lost)")


WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
READS = frozenset({"GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems"})
