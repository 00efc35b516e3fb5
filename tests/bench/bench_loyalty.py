"""`make bench ONLY=loyalty`: the accrual function in-process under moto, on its real adapter.

Figures are ratios to baselines measured in the same run (a bare PutItem, a bare GetItem, and a bare
three-item TransactWriteItems on the same table). DynamoDB requests are counted on the handler's
own client with a botocore hook, so "requests per event" is what the shipped code path asks for.
Prints; asserts nothing about time.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any

import boto3
from ecrm.loyalty.ledger import Delivery, expected_balance
from ecrm.loyalty.programme_versions import DEFAULT
from ecrm.loyalty.shop import OrderPlaced, OrderRefunded
from loyalty_accrual import handler

from tests.bench.sink import quiet
from tests.loyalty_support import DynamoRequests, order, placed, refund, refunded, sqs_batch
from tests.support import LambdaContext, Stack, moto_stack

BATCH = 10
HOT_EVENTS = int(os.environ.get("BENCH_LOYALTY_EVENTS", "1000"))
SPREAD_EVENTS = 100


def accrue(bodies: list[dict[str, Any]]) -> None:
    for start in range(0, len(bodies), BATCH):
        result = handler.lambda_handler(sqs_batch(*bodies[start : start + BATCH]), LambdaContext("loyalty_accrual"))
        assert not result["batchItemFailures"], result


def per_call(call: Callable[[int], Any], n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        call(i)
    return (time.perf_counter() - started) / n


def baselines(stack: Stack) -> tuple[float, float]:
    db = boto3.client("dynamodb")
    table = stack.env["LOYALTY_TABLE_NAME"]
    put = per_call(lambda i: db.put_item(TableName=table, Item={"pk": {"S": f"BASE#{i}"}, "sk": {"S": "X"}}), 300)
    get = per_call(lambda i: db.get_item(TableName=table, Key={"pk": {"S": f"BASE#{i}"}, "sk": {"S": "X"}}), 300)
    for i in range(300):
        db.delete_item(TableName=table, Key={"pk": {"S": f"BASE#{i}"}, "sk": {"S": "X"}})
    return put, get


def bare_transaction(stack: Stack) -> float:
    """A three-item TransactWriteItems (entry, order, member) on the table as it is now: moto deep-copies
    the whole table for its rollback (once per transaction under tests.support.moto_stack, which
    skips moto's identical extra copies), so this cost grows with the table; DynamoDB's does not."""
    db = boto3.client("dynamodb")
    table = stack.env["LOYALTY_TABLE_NAME"]

    def write(i: int) -> None:
        items: list[Any] = [
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"TX#{i}"}, "sk": {"S": s}}}} for s in ("A", "B", "C")
        ]
        db.transact_write_items(TransactItems=items)

    return per_call(write, 30)


def member(i: int) -> str:
    return f"{i:032x}"


def requests_per_kind(counter: DynamoRequests) -> list[tuple[str, int, int]]:
    """(kind, writes, reads) of one event of each kind, each counted alone on a warm function."""
    cases: list[tuple[str, dict[str, Any]]] = [
        ("OrderPlaced, by contact id", placed(order("K-1", 5_000, contact_id=member(900)))),
        ("OrderPlaced, same member again", placed(order("K-2", 5_000, contact_id=member(900)))),
        ("OrderRefunded, partial", refunded(refund("K-1", "KR-1", 1_000))),
        ("OrderPlaced, a duplicate", placed(order("K-1", 5_000, contact_id=member(900)))),
        ("OrderRefunded, before its order", refunded(refund("K-3", "KR-3", 1_000))),
        ("OrderPlaced, with that refund parked", placed(order("K-3", 5_000, contact_id=member(900)))),
        ("OrderPlaced, by a new e-mail", placed(order("K-4", 5_000, email="bench.new@example.com"))),
        ("OrderPlaced, by that e-mail again", placed(order("K-5", 5_000, email="bench.new@example.com"))),
    ]
    rows = []
    for name, body in cases:
        counter.calls.clear()
        accrue([body])
        rows.append((name, counter.writes, counter.reads))
    return rows


def spread(counter: DynamoRequests) -> tuple[float, int, int]:
    """SPREAD_EVENTS orders over 30 members in batches of 10: seconds per event, writes, reads."""
    bodies = [placed(order(f"S-{i}", 1_000 + i, contact_id=member(i % 30))) for i in range(SPREAD_EVENTS)]
    counter.calls.clear()
    started = time.perf_counter()
    accrue(bodies)
    return (time.perf_counter() - started) / len(bodies), counter.writes, counter.reads


def hot_member_events(n: int) -> list[Delivery]:
    """n events for one member: orders, and partial refunds of orders already sent (about 1 in 5)."""
    rng = random.Random(7)
    events: list[Delivery] = []
    orders: list[str] = []
    while len(events) < n:
        if orders and rng.random() < 0.2:
            target = rng.choice(orders)
            detail = refund(target, f"HR-{len(events)}", rng.randint(100, 2_000))
            events.append(OrderRefunded.model_validate(detail))
        else:
            order_id = f"H-{len(events)}"
            orders.append(order_id)
            detail = order(
                order_id, rng.randint(1_000, 20_000), rng.choice(["garden", "books"]), contact_id=member(777)
            )
            events.append(OrderPlaced.model_validate(detail))
    return events


def hot_member(stack: Stack, counter: DynamoRequests) -> dict[str, Any]:
    events = hot_member_events(HOT_EVENTS)
    bodies = [
        placed(e.model_dump(mode="json")) if isinstance(e, OrderPlaced) else refunded(e.model_dump(mode="json"))
        for e in events
        if isinstance(e, OrderPlaced | OrderRefunded)
    ]
    counter.calls.clear()
    laps: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(bodies), 100):
        lap = time.perf_counter()
        accrue(bodies[start : start + 100])
        laps.append((time.perf_counter() - lap) / len(bodies[start : start + 100]))
    elapsed = time.perf_counter() - started
    view = stack.call("GET", f"/loyalty/members/{member(777)}", roles="agent").json
    reference = expected_balance(events, DEFAULT.rules, DEFAULT.tiers)
    return {
        "seconds": elapsed,
        "per_event": elapsed / len(events),
        "writes": counter.writes,
        "reads": counter.reads,
        "first_lap": laps[0],
        "last_lap": laps[-1],
        "balance": view["balance"],
        "reference": reference,
        "tier": view["tier"],
    }


def main() -> None:
    with moto_stack() as stack, quiet():
        put, get = baselines(stack)
        accrue([placed(order("WARM-1", 1_000, contact_id=member(999)))])  # composition root and programme read
        counter = DynamoRequests.on(handler.service().ledger)
        kinds = requests_per_kind(counter)
        spread_per_event, spread_writes, spread_reads = spread(counter)
        hot = hot_member(stack, counter)
        transaction_after = bare_transaction(stack)
    print("\n== loyalty accrual, in-process under moto: one worker, the real handler, adapter and clients")
    print(f"baselines: bare PutItem {put * 1000:.2f} ms, bare GetItem {get * 1000:.2f} ms")
    rate = 1 / spread_per_event
    print(
        f"{SPREAD_EVENTS} OrderPlaced over 30 members, batches of {BATCH}: {rate:.0f} events/s per worker, "
        f"{spread_per_event * 1000:.2f} ms/event = {spread_per_event / put:.1f}x a bare PutItem; "
        f"DynamoDB writes/event {spread_writes / SPREAD_EVENTS:.2f}, reads/event {spread_reads / SPREAD_EVENTS:.2f}"
    )
    print("\nDynamoDB requests for one event of each kind (counted on the function's client):")
    print(f"  {'event':40} {'writes':>6} {'reads':>6}")
    for name, writes, reads in kinds:
        print(f"  {name:40} {writes:6d} {reads:6d}")
    n = HOT_EVENTS
    print(f"\none member receiving {n:,} events (orders and partial refunds, batches of {BATCH}):")
    print(
        f"  {hot['seconds']:.1f} s, {n / hot['seconds']:.0f} events/s per worker, {hot['per_event'] * 1000:.2f} ms/event "
        f"= {hot['per_event'] / put:.1f}x a bare PutItem"
    )
    print(f"  DynamoDB writes/event {hot['writes'] / n:.3f}, reads/event {hot['reads'] / n:.3f}")
    print(
        f"  first 100 events {hot['first_lap'] * 1000:.2f} ms/event, last 100 {hot['last_lap'] * 1000:.2f} ms/event; "
        f"a bare 3-item TransactWriteItems on the table after the run: {transaction_after * 1000:.2f} ms "
        f"(moto deep-copies the table for each transaction's rollback; DynamoDB does not)"
    )
    print(
        f"  final balance {hot['balance']} (tier {hot['tier']}), the pure reference computes {hot['reference']}: "
        f"{'equal' if hot['balance'] == hot['reference'] else 'DIFFERENT'}"
    )
