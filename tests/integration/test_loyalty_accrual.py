"""integration: the shop's events through the bus, the rule and the accrual queue into the handler,
under moto: duplicates, refunds in any order, malformed events, throttling and lost answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecrm.loyalty.names import DetailType, Resource
from ecrm.names import Source
from loyalty_accrual import handler

from tests.loyalty_support import (
    MEMBER,
    DynamoRequests,
    dead_letters,
    drain,
    order,
    placed,
    publish,
    refund,
    refunded,
    sqs_batch,
)
from tests.support import LambdaContext, Stack

QUEUE = Resource.LOYALTY_ACCRUAL_QUEUE
TABLE = "LOYALTY_TABLE_NAME"


def accrue() -> Any:
    return drain(QUEUE, "loyalty_accrual")


def balance(stack: Stack, member: str = MEMBER) -> int:
    answer = stack.call("GET", f"/loyalty/members/{member}", roles="agent")
    assert answer.status == 200, answer.body
    points: int = answer.json["balance"]
    return points


def ledger_keys(stack: Stack, member: str = MEMBER) -> list[str]:
    return sorted(i["sk"] for i in stack.table_items(TABLE) if i["pk"] == f"MEMBER#{member}" and i["sk"] != "MEMBER")


def test_an_order_twice_then_a_partial_refund_leave_the_exact_balance(stack: Stack):
    publish((DetailType.ORDER_PLACED, order("O-1", 10_000)), (DetailType.ORDER_PLACED, order("O-1", 10_000)))
    accrue()
    publish((DetailType.ORDER_REFUNDED, refund("O-1", "R-1", 2_500)))
    accrue()
    assert balance(stack) == 75  # 100 earned, a quarter refunded
    assert ledger_keys(stack) == ["ENTRY#earn#O-1", "ENTRY#reverse#R-1"]
    types = stack.bus_detail_types()
    assert types.count("PointsReversed.v1") == 1
    assert types.count("PointsEarned.v1") >= 1  # the duplicate replays its event: consumers dedupe on entry_id


def test_a_refund_before_its_order_is_parked_and_applied_once_the_order_comes(stack: Stack):
    publish((DetailType.ORDER_REFUNDED, refund("O-2", "R-2", 5_000)))
    accrue()
    assert ledger_keys(stack) == []  # parked on the order record, nothing on the member
    publish((DetailType.ORDER_PLACED, order("O-2", 10_000)), (DetailType.ORDER_REFUNDED, refund("O-2", "R-2", 5_000)))
    accrue()
    assert balance(stack) == 50
    assert ledger_keys(stack) == ["ENTRY#earn#O-2", "ENTRY#reverse#R-2"]
    (item,) = [i for i in stack.table_items(TABLE) if i["pk"] == "ORDER#O-2"]
    record = json.loads(item["record"])
    assert record["parked"] == [] and record["refunds"]["applied"] == {"R-2": 50}


def test_an_order_by_e_mail_creates_the_contact_once_and_announces_it(stack: Stack):
    by_mail = {"email": "New.Buyer@Example.com"}
    publish(
        (DetailType.ORDER_PLACED, order("O-3", 2_000, **by_mail)),
        (DetailType.ORDER_PLACED, order("O-4", 3_000, **by_mail)),
    )
    accrue()
    found = stack.admin("GET", "/contacts", query={"email": "new.buyer@example.com"}).json["items"]
    (contact,) = found
    assert balance(stack, contact["id"]) == 50
    assert stack.bus_detail_types().count("ContactCaptured.v1") == 1


BAD_DETAILS: list[tuple[dict[str, Any], str]] = [
    ({"total": {"amount_minor": 45.99, "currency": "EUR"}}, "total.amount_minor"),
    ({"total": {"amount_minor": "4599", "currency": "EUR"}}, "total.amount_minor"),
    ({"total": {"amount_minor": 4599, "currency": "eur"}}, "total.currency"),
    ({"lines": [{"sku": "A", "category": "x", "quantity": 0, "amount_minor": 5}]}, "lines.0.quantity"),
    ({"placed_at": "2026-11-20T09:15:00"}, "placed_at"),  # no offset
    ({"contact_id": None, "email": "not-an-address"}, "email"),
]


def test_malformed_orders_name_their_field_and_rest_in_the_dlq_with_nothing_written(
    stack: Stack, caplog: pytest.LogCaptureFixture
):
    details = {}
    for i, (change, field) in enumerate(BAD_DETAILS):
        details[f"O-5{i}"] = ({k: v for k, v in {**order(f"O-5{i}"), **change}.items() if v is not None}, field)
    publish(*((DetailType.ORDER_PLACED, detail) for detail, _ in details.values()))
    drained = accrue()
    assert len(drained.failed) == 5 * len(details)  # every receive the queue allows; then the redrive policy
    dead = dead_letters(QUEUE)
    assert sorted(d["detail"]["order_id"] for d in dead) == sorted(details)
    assert all(d["detail"] == details[d["detail"]["order_id"]][0] for d in dead)
    assert stack.table_items(TABLE) == []
    logged = [vars(r) for r in caplog.records if r.getMessage() == "malformed shop event"]
    assert {entry["field"] for entry in logged} == {field for _, field in details.values()}
    assert "not-an-address" not in str([vars(r) for r in caplog.records])  # the field is logged, never the value


def test_a_refund_in_another_currency_than_its_order_goes_to_the_dlq(stack: Stack):
    publish((DetailType.ORDER_PLACED, order("O-6", 10_000)))
    accrue()
    publish((DetailType.ORDER_REFUNDED, refund("O-6", "R-6", 100, currency="USD")))
    accrue()
    assert [d["detail"]["refund_id"] for d in dead_letters(QUEUE)] == ["R-6"]
    assert balance(stack) == 100


def test_events_of_other_sources_or_types_never_reach_accrual(stack: Stack):
    publish((DetailType.ORDER_PLACED, order("O-7")), source="not-the-shop")
    publish(("OrderShipped.v1", {"order_id": "O-7"}))
    assert accrue().invocations == 0


def test_a_throttled_write_fails_only_its_record_and_the_redelivery_applies_it_once(stack: Stack):
    batch = sqs_batch(
        placed(order("O-10", 1_000)), placed(order("O-11", 2_000)), refunded(refund("O-10", "R-10", 1_000))
    )
    handler.lambda_handler(batch, LambdaContext("loyalty_accrual"))  # warm: composition and programme
    requests = DynamoRequests.on(handler.service().ledger)
    second = sqs_batch(placed(order("O-12", 3_000)), placed(order("O-13", 4_000)), placed(order("O-14", 500)))
    requests.throttle = {2}  # O-13's write
    result = handler.lambda_handler(second, LambdaContext("loyalty_accrual"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert balance(stack) == 20 + 30 + 5  # below every tier threshold: 1 point per euro
    handler.lambda_handler(second, LambdaContext("loyalty_accrual"))  # the queue delivers the batch again
    assert balance(stack) == 20 + 30 + 40 + 5
    assert len(ledger_keys(stack)) == 6


def test_a_write_whose_answer_was_lost_is_found_on_redelivery_and_its_events_went_with_it(stack: Stack):
    handler.lambda_handler(sqs_batch(placed(order("O-0", 1_000))), LambdaContext("loyalty_accrual"))
    stack.bus_detail_types()
    stack.seen.clear()
    requests = DynamoRequests.on(handler.service().ledger)
    requests.lose = {1}
    batch = sqs_batch(placed(order("O-20", 10_000)))
    assert handler.lambda_handler(batch, LambdaContext("loyalty_accrual"))["batchItemFailures"]
    assert balance(stack) == 110  # written, though the handler never heard so
    assert stack.bus_detail_types() == ["PointsEarned.v1"]  # committed with the entry (the outbox)
    assert handler.lambda_handler(batch, LambdaContext("loyalty_accrual")) == {"batchItemFailures": []}
    assert balance(stack) == 110
    assert stack.bus_detail_types() == ["PointsEarned.v1"]  # the redelivery announced nothing twice


def test_an_order_costs_one_write_and_one_read_and_so_does_a_refund(stack: Stack):
    handler.lambda_handler(sqs_batch(placed(order("O-0", 1_000))), LambdaContext("loyalty_accrual"))  # warm
    requests = DynamoRequests.on(handler.service().ledger)
    handler.lambda_handler(sqs_batch(placed(order("O-30", 10_000))), LambdaContext("loyalty_accrual"))
    assert (requests.writes, requests.reads) == (1, 1)
    handler.lambda_handler(sqs_batch(refunded(refund("O-30", "R-30", 1_000))), LambdaContext("loyalty_accrual"))
    assert (requests.writes, requests.reads) == (2, 2)
    assert requests.calls == {"GetItem": 2, "TransactWriteItems": 2}


def test_the_sample_shop_events_are_accepted_by_the_rule_and_the_handler(stack: Stack):
    from pathlib import Path

    events = Path(__file__).resolve().parents[2] / "events" / "eventbridge"
    samples = sorted(events.glob("shop_*.json"))
    assert samples
    for path in samples:
        sample = json.loads(path.read_text())
        assert sample["source"] == Source.SHOP
        publish((sample["detail-type"], sample["detail"]))
    assert accrue().failed == []
