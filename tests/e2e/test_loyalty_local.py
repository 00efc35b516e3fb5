"""e2e: the loyalty walk-through on the running local stack: the shop's events on the bus, the same
order twice, a partial refund, the balance over HTTP; then the clock past the warning and the expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e
ACCRUAL_QUEUE = "ecrm-local-LoyaltyAccrualQueue"


def shop_event(local: Local, detail_type: str, detail: dict[str, Any]) -> None:
    answer = local.call("POST", "/_local/events", {"Source": "shop", "DetailType": detail_type, "Detail": detail})
    assert answer.status == 200 and answer.json["FailedEntryCount"] == 0


def queue_settled(local: Local, name: str) -> bool:
    sqs = local.boto("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(counts[n] == "0" for n in names)


def member(local: Local, member_id: str) -> dict[str, Any]:
    answer = local.call("GET", f"/loyalty/members/{member_id}", role="agent")
    return answer.json if answer.status == 200 else {}


def history(local: Local, member_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = local.call("GET", f"/loyalty/members/{member_id}/history", role="agent").json["items"]
    return items


def first_of_month(at: datetime, months_ahead: int) -> datetime:
    index = at.year * 12 + at.month - 1 + months_ahead
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def test_orders_twice_and_a_partial_refund_give_the_exact_balance_and_expiry_takes_it(local: Local):
    email = f"loyal-{uuid.uuid4().hex[:10]}@example.org"
    order_id = f"ORD-{uuid.uuid4().hex[:8]}"
    placed = {
        "order_id": order_id,
        "email": email,
        "total": {"amount_minor": 6498, "currency": "EUR"},
        "lines": [
            {"sku": "BK-9781", "category": "books", "quantity": 2, "amount_minor": 3998},
            {"sku": "GD-SPADE", "category": "garden", "quantity": 1, "amount_minor": 2500},
        ],
        "placed_at": datetime.now(UTC).isoformat(),
    }
    shop_event(local, "OrderPlaced.v1", placed)
    shop_event(local, "OrderPlaced.v1", placed)  # the shop's retry: the same order again

    def contact_id() -> str | None:
        found = local.call("GET", f"/contacts?email={email}", role="agent").json.get("items", [])
        return str(found[0]["id"]) if found else None

    member_id = local.wait_for(contact_id, what="the member created for the order's address")
    local.wait_for(lambda: member(local, member_id).get("balance") == 104, what="104 points")  # books earn double
    local.wait_for(lambda: queue_settled(local, ACCRUAL_QUEUE), what="both deliveries handled")
    assert member(local, member_id)["balance"] == 104

    refund = {
        "order_id": order_id,
        "refund_id": f"RF-{uuid.uuid4().hex[:8]}",
        "amount_minor": 2199,
        "lines": [{"sku": "BK-9781", "quantity": 1, "amount_minor": 1999}],
    }
    shop_event(local, "OrderRefunded.v1", refund)
    local.wait_for(lambda: member(local, member_id).get("balance") == 62, what="the refund's 42 points reversed")
    assert [(e["kind"], e["points"]) for e in history(local, member_id)] == [("reverse", -42), ("earn", 104)]

    now = datetime.fromisoformat(local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"])
    expiry = first_of_month(now, 25)  # points live 24 months: the lot expires at the start of the 25th
    warning = expiry - timedelta(days=30)
    # What fires is judged by its effects: the stack's ticker may fire a due timer before the clock
    # route's own look, and then the route's `fired` list does not show it.
    local.call("POST", "/_local/clock", {"advance_seconds": (warning - now).total_seconds() + 3600})
    mail = local.wait_for(lambda: local.mail_to(email), what="the expiry warning")
    assert mail[0]["subject"] == f"62 points expire on {expiry:%d %B %Y}"
    assert member(local, member_id)["expiring_soon"] == [
        {"points": 62, "expires_at": expiry.isoformat().replace("+00:00", "Z")}
    ]

    local.call("POST", "/_local/clock", {"advance_seconds": 31 * 86400})
    assert member(local, member_id)["balance"] == 0  # an expired lot never counts, even before its timer ran
    local.wait_for(lambda: history(local, member_id)[0]["kind"] == "expire", what="the expiry in the ledger")
    assert history(local, member_id)[0]["points"] == -62
