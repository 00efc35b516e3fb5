"""integration: the shop's gateway under moto, called as a machine client at `/integrations/...`.

An order or refund is on the bus once, however often the shop sends it; the same id with another
body is a 409 that publishes nothing; bad input is a 4xx naming the field and writes nothing; a
publish that failed is made good by the shop's retry; and an order posted here is accrued by
loyalty, whose balance the shop then reads and redeems as itself (`client:shop`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from ecrm.clock import SYSTEM_CLOCK
from ecrm.errors import Unavailable
from ecrm.loyalty.shop import ShopEvent
from ecrm.names import Scope
from ecrm.orders.adapters.dynamo_orders import DynamoAcceptances
from ecrm.orders.models import OrderRequest
from ecrm.orders.names import Env
from ecrm.orders.service import OrderGateway

from tests.support import Answer, Stack, moto_stack

SHOP = ("shop", (Scope.ORDERS_WRITE, Scope.LOYALTY_READ, Scope.LOYALTY_REDEEM, Scope.CONTACTS_READ))
ORDER: dict[str, Any] = {
    "order_id": "SO-1001",
    "email": "ann@example.com",
    "total": {"amount_minor": 12_000, "currency": "EUR"},
    "lines": [{"sku": "SPADE", "category": "garden", "quantity": 2, "amount_minor": 12_000}],
    "placed_at": "2026-12-07T10:00:00Z",
}
REFUND: dict[str, Any] = {
    "refund_id": "RF-1",
    "amount_minor": 6_000,
    "currency": "EUR",
    "lines": [{"sku": "SPADE", "quantity": 1, "amount_minor": 6_000}],
}


@pytest.fixture(scope="module")
def shared() -> Iterator[Stack]:
    with moto_stack() as stack:
        yield stack


def post(stack: Stack, path: str, body: Any, scopes: tuple[str, ...] = SHOP[1]) -> Answer:
    return stack.call("POST", f"/integrations{path}", body, client=SHOP[0], scopes=scopes)


def on_bus(stack: Stack, detail_type: str, order_id: str) -> list[dict[str, Any]]:
    return [d for t, d in stack.bus_events() if t == detail_type and d.get("order_id") == order_id]


def order(order_id: str, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(ORDER), "order_id": order_id, **changes}


def test_an_order_is_on_the_bus_once_and_a_repeat_gets_the_first_answer(shared: Stack):
    first = post(shared, "/orders", order("SO-1001"))
    again = post(shared, "/orders", order("SO-1001"))
    assert (first.status, again.status) == (202, 200)
    assert first.json == again.json
    assert first.json["event"] == "OrderPlaced.v1" and first.json["order_id"] == "SO-1001"
    (published,) = on_bus(shared, "OrderPlaced.v1", "SO-1001")
    assert published == {k: v for k, v in order("SO-1001").items()}  # the shop's own fields, no nulls added


def test_a_repeat_is_recognised_by_its_meaning_not_its_bytes(shared: Stack):
    assert post(shared, "/orders", order("SO-1005")).status == 202
    reordered = dict(reversed(list(order("SO-1005", placed_at="2026-12-07T10:00:00+00:00").items())))
    assert post(shared, "/orders", json.dumps(reordered, indent=4)).status == 200
    assert len(on_bus(shared, "OrderPlaced.v1", "SO-1005")) == 1


def test_the_same_id_with_another_body_is_409_and_publishes_nothing(shared: Stack):
    assert post(shared, "/orders", order("SO-1002")).status == 202
    other = order("SO-1002", total={"amount_minor": 1, "currency": "EUR"})
    answer = post(shared, "/orders", other)
    assert answer.status == 409 and "SO-1002" in answer.json["message"]
    assert len(on_bus(shared, "OrderPlaced.v1", "SO-1002")) == 1


def test_a_refund_is_on_the_bus_once_under_its_order_and_refund_ids(shared: Stack):
    first = post(shared, "/orders/SO-1003/refunds", REFUND)
    again = post(shared, "/orders/SO-1003/refunds", REFUND)
    assert (first.status, again.status, first.json) == (202, 200, again.json)
    assert first.json["refund_id"] == "RF-1" and first.json["event"] == "OrderRefunded.v1"
    assert post(shared, "/orders/SO-1003/refunds", {**REFUND, "amount_minor": 6_001}).status == 409
    # the same refund id under another order is another refund
    assert post(shared, "/orders/SO-1004/refunds", REFUND).status == 202
    (published,) = on_bus(shared, "OrderRefunded.v1", "SO-1003")
    assert published == {"order_id": "SO-1003", **REFUND}


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("/orders", {k: v for k, v in ORDER.items() if k != "lines"}, "lines"),
    ("/orders", {**ORDER, "emial": "ann@example.com"}, "emial"),
    ("/orders", {**ORDER, "lines": []}, "lines"),
    ("/orders", {**ORDER, "order_id": "has spaces"}, "order_id"),
    ("/orders", {**ORDER, "total": {"amount_minor": 12.5, "currency": "EUR"}}, "total.amount_minor"),
    ("/orders", {**ORDER, "placed_at": "2026-12-07T10:00:00"}, "placed_at"),  # no time zone
    ("/orders", {k: v for k, v in ORDER.items() if k != "email"}, "contact_id"),  # nobody to credit
    ("/orders", {**ORDER, "lines": [{**ORDER["lines"][0], "colour": "red"}]}, "lines.0.colour"),
    ("/orders/SO-2000/refunds", {**REFUND, "amount_minor": 100}, "lines"),  # lines add up to more
    ("/orders/SO-2000/refunds", {**REFUND, "order_id": "SO-9"}, "order_id"),  # the path names the order
    ("/orders/not%20an%20id/refunds", REFUND, "order_id"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD, ids=[f"{p} {f}" for p, _, f in BAD])
def test_bad_input_is_422_naming_the_field_and_publishes_nothing(shared: Stack, path: str, body: Any, field: str):
    before = len(shared.bus_events())
    answer = post(shared, path, body)
    assert answer.status == 422, answer.body
    assert field in [e["field"] for e in answer.json["errors"]], answer.json
    assert len(shared.bus_events()) == before


class FlakyBus:
    """The bus, refusing the first `failures` events (the shop sees a 503 and retries)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.published: list[ShopEvent] = []

    def publish(self, event: ShopEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise Unavailable("the bus did not take it")
        self.published.append(event)


def test_a_publish_that_failed_is_made_good_by_the_shops_retry(shared: Stack):
    bus = FlakyBus(failures=1)
    gateway = OrderGateway(DynamoAcceptances(boto3.client("dynamodb"), shared.env[Env.ORDERS_TABLE]), bus, SYSTEM_CLOCK)
    request = OrderRequest.model_validate(order("SO-3001"))
    with pytest.raises(Unavailable):
        gateway.place(request)
    retried = gateway.place(request)  # accepted before, never published: published now
    repeated = gateway.place(request)
    assert (retried.replayed, repeated.replayed, len(bus.published)) == (False, True, 1)
    assert retried.accepted == repeated.accepted
    assert retried.accepted.accepted_at <= datetime.now(UTC)


def test_an_order_posted_here_is_accrued_and_the_shop_redeems_as_itself(shared: Stack):
    assert post(shared, "/orders", order("SO-4001", email="bea@example.com")).status == 202
    shared.pump()
    found = shared.call(
        "GET", "/integrations/contacts", query={"email": "bea@example.com"}, client="shop", scopes=SHOP[1]
    )
    assert found.status == 200, found.body
    (contact,) = found.json["items"]
    member = f"/integrations/loyalty/members/{contact['id']}"
    balance = shared.call("GET", member, client="shop", scopes=(Scope.LOYALTY_READ,))
    assert balance.status == 200 and balance.json["balance"] == 120  # 1 point per euro, garden
    redeemed = shared.call(
        "POST",
        f"{member}/redemptions",
        {"points": 20, "reference": "till-7"},
        headers={"Idempotency-Key": "till-7-000001"},
        client="shop",
        scopes=(Scope.LOYALTY_REDEEM,),
    )
    assert redeemed.status == 201, redeemed.body
    assert redeemed.json["entry"]["actor"] == "client:shop"
    events = [d for t, d in shared.bus_events() if t == "PointsRedeemed.v1" and d["member_id"] == contact["id"]]
    assert [e.get("actor") for e in events] == ["client:shop"]
