"""integration: the ledger's property, on the real DynamoDB adapter under moto. Any sequence of order,
refund and redemption events, each delivered 1-3 times in any order, ends at the balance the pure
reference computes; and so it does when TransactWriteItems are throttled or their answers lost.

The strategies are the unit tier's (tests/unit/loyalty/test_property.py); fewer examples here,
each on a fresh table."""

from __future__ import annotations

import itertools
import json
from contextlib import suppress
from typing import Any

import boto3
from ecrm.clock import FixedClock
from ecrm.errors import NotFound, Unavailable
from ecrm.loyalty.accrual import AccrualService
from ecrm.loyalty.adapters.dynamo_loyalty import DynamoLedger
from ecrm.loyalty.effects import Effects
from ecrm.loyalty.errors import InsufficientPoints
from ecrm.loyalty.ledger import Delivery, expected_balance
from ecrm.loyalty.members import ContactMembers
from ecrm.loyalty.models import RedemptionRequest
from ecrm.loyalty.redemption import RedemptionService
from ecrm.loyalty.shop import OrderPlaced, OrderRefunded
from ecrm.outbox import Outbox
from hypothesis import HealthCheck, given, settings
from hypothesis import event as statistic
from hypothesis import strategies as st

from tests.loyalty_support import DynamoRequests
from tests.support import Stack
from tests.unit.fakes import MemoryContacts, RecordingPublisher
from tests.unit.loyalty.fakes import MemoryTimers
from tests.unit.loyalty.test_property import TIERS, deliveries
from tests.unit.loyalty.world import MEMBER, NOW, programme

_tables = itertools.count()
RELAXED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


class Ledger:
    """Accrual and redemption over a DynamoLedger on a table of its own."""

    def __init__(self, client: Any) -> None:
        self.table = f"loyalty-property-{next(_tables)}"
        client.create_table(
            TableName=self.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        outbox = f"{self.table}-outbox"  # the ledger's events commit here, in the same transaction
        client.create_table(
            TableName=outbox,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        self.client = client
        self.repo = DynamoLedger(client, self.table, Outbox(outbox))
        self.programme = programme(tiers=TIERS)
        clock = FixedClock(NOW)
        bus = RecordingPublisher()
        effects = Effects(MemoryTimers(), self.programme)
        members = ContactMembers(MemoryContacts(bus), clock)
        self.accrual = AccrualService(self.repo, members, effects, clock, self.programme)
        self.redemption = RedemptionService(self.repo, effects, clock, self.programme)

    def handle(self, event: Delivery) -> None:
        if isinstance(event, OrderPlaced):
            self.accrual.on_order_placed(event)
        elif isinstance(event, OrderRefunded):
            self.accrual.on_order_refunded(event)
        else:
            with suppress(InsufficientPoints, NotFound):  # refused: the API answers 409/404, stores nothing
                self.redemption.redeem(MEMBER, RedemptionRequest(points=event.points), event.key, actor=None)

    def deliver(self, event: Delivery) -> None:
        """Like the queue: a message whose handling failed comes again until it succeeds."""
        for _ in range(20):
            try:
                return self.handle(event)
            except Unavailable:
                continue
        raise AssertionError("never got through")

    def items(self) -> list[dict[str, Any]]:
        # A Scan, in a test: it shows everything that was written.
        return boto3.resource("dynamodb").Table(self.table).scan(ConsistentRead=True)["Items"]

    def check(self, sequence: list[Delivery]) -> None:
        items = self.items()
        member = next((i for i in items if i["sk"] == "MEMBER"), {"balance": 0})
        lots = {k: int(v) for k, v in member.items() if k.startswith("lot:")}
        entries = {
            i["sk"].removeprefix("ENTRY#"): json.loads(i["entry"]) for i in items if i["sk"].startswith("ENTRY#")
        }
        balance = int(member["balance"])
        assert balance == expected_balance(sequence, self.programme.rules, TIERS)
        assert balance >= 0 and balance == sum(lots.values()) and all(p >= 0 for p in lots.values())
        assert balance == sum(int(e["points"]) for e in entries.values())
        orders = {o.order_id for o in sequence if isinstance(o, OrderPlaced)}
        refunds = {r.refund_id for r in sequence if isinstance(r, OrderRefunded) and r.order_id in orders}
        assert {k for k in entries if k.startswith("earn#")} == {f"earn#{o}" for o in orders}
        assert {k for k in entries if k.startswith("reverse#")} == {f"reverse#{r}" for r in refunds}


@settings(max_examples=20, deadline=None, suppress_health_check=RELAXED)
@given(sequence=deliveries())
def test_any_order_of_duplicated_events_ends_at_the_reference_balance_in_dynamodb(stack: Stack, sequence):
    ledger = Ledger(boto3.client("dynamodb"))
    for event in sequence:
        ledger.deliver(event)
    ledger.check(sequence)


@settings(max_examples=15, deadline=None, suppress_health_check=RELAXED)
@given(
    sequence=deliveries(),
    throttled=st.sets(st.integers(1, 60), max_size=10),
    lost=st.sets(st.integers(1, 60), max_size=10),
)
def test_throttled_and_unanswered_transactions_lose_nothing_and_count_nothing_twice(
    stack: Stack, sequence, throttled, lost
):
    ledger = Ledger(boto3.client("dynamodb"))
    requests = DynamoRequests(ledger.client)
    requests.throttle, requests.lose = throttled, lost - throttled
    for event in sequence:
        ledger.deliver(event)
    ledger.check(sequence)
    hit = set(range(1, requests.calls["TransactWriteItems"] + 1))
    statistic(f"faults injected: {bool(hit & (throttled | lost))}")  # `pytest --hypothesis-show-statistics`
