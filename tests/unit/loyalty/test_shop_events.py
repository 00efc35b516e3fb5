"""unit: the shop's event schemas: strict money, tolerant of new fields, errors naming the field."""

import copy
from typing import Any

import pytest
from ecrm.loyalty.errors import MalformedEvent
from ecrm.loyalty.shop import OrderPlaced, OrderRefunded, parse_shop_event

PLACED: dict[str, Any] = {
    "order_id": "ORD-1001",
    "email": "Ann@Example.com ",
    "total": {"amount_minor": 4599, "currency": "EUR"},
    "lines": [{"sku": "BK-1", "category": "books", "quantity": 1, "amount_minor": 4599}],
    "placed_at": "2026-11-22T09:15:00Z",
}
REFUNDED: dict[str, Any] = {"order_id": "ORD-1001", "refund_id": "RF-1", "amount_minor": 1000}


def with_(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `base` with the dotted `path` set to `value` (or removed, for ...)."""
    out = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


def field_of(detail_type: str, detail: dict[str, Any]) -> str:
    with pytest.raises(MalformedEvent) as caught:
        parse_shop_event(detail_type, detail)
    assert caught.value.status == 422
    return caught.value.field


def test_a_valid_order_parses_and_normalizes_the_address():
    placed = parse_shop_event("OrderPlaced.v1", PLACED)
    assert isinstance(placed, OrderPlaced)
    assert placed.email == "ann@example.com" and placed.total.amount_minor == 4599


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("total.amount_minor", 45.99, "total.amount_minor"),
        ("total.amount_minor", "4599", "total.amount_minor"),
        ("total.amount_minor", True, "total.amount_minor"),
        ("total.amount_minor", -1, "total.amount_minor"),
        ("total.currency", "eur", "total.currency"),
        ("total.currency", "EURO", "total.currency"),
        ("lines.0.quantity", True, "lines.0.quantity"),
        ("lines.0.quantity", 0, "lines.0.quantity"),
        ("lines.0.amount_minor", 1.0, "lines.0.amount_minor"),
        ("lines", [], "lines"),
        ("placed_at", "2026-11-22T09:15:00", "placed_at"),
        ("order_id", "has space", "order_id"),
        ("email", "not-an-address", "email"),
    ],
)
def test_bad_orders_name_the_field(path, value, field):
    assert field_of("OrderPlaced.v1", with_(PLACED, path, value)) == field


def test_an_order_names_its_member_by_email_or_contact_id():
    assert field_of("OrderPlaced.v1", with_(PLACED, "email", ...)) == "contact_id"
    by_id = parse_shop_event("OrderPlaced.v1", {**with_(PLACED, "email", ...), "contact_id": "f" * 32})
    assert isinstance(by_id, OrderPlaced) and by_id.contact_id == "f" * 32


def test_fields_the_shop_adds_later_are_ignored():
    placed = parse_shop_event("OrderPlaced.v1", {**PLACED, "channel": "app", "coupon": {"code": "X"}})
    assert isinstance(placed, OrderPlaced) and not hasattr(placed, "channel")


@pytest.mark.parametrize(
    ("detail", "field"),
    [
        (with_(REFUNDED, "amount_minor", 10.0), "amount_minor"),
        (with_(REFUNDED, "amount_minor", 0), "amount_minor"),
        (with_(REFUNDED, "refund_id", ...), "refund_id"),
        ({**REFUNDED, "lines": [{"sku": "BK-1", "quantity": 1, "amount_minor": 1001}]}, "lines"),
        ({**REFUNDED, "currency": "usd"}, "currency"),
    ],
)
def test_bad_refunds_name_the_field(detail, field):
    assert field_of("OrderRefunded.v1", detail) == field


def test_a_partial_refund_with_lines_parses():
    refund = parse_shop_event(
        "OrderRefunded.v1", {**REFUNDED, "lines": [{"sku": "BK-1", "quantity": 1, "amount_minor": 900}]}
    )
    assert isinstance(refund, OrderRefunded) and refund.lines[0].amount_minor == 900


def test_an_unknown_detail_type_is_malformed():
    assert field_of("OrderShipped.v1", PLACED) == "detail-type"
