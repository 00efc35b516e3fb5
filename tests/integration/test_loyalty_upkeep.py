"""integration: time passing under moto: Scheduler's one-time timers (fired by the local stack's
Firing against the process clock) expire lots, warn before, review tiers; erasure reaches the ledger."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from ecrm.clock import SYSTEM_CLOCK
from ecrm.loyalty.ledger import expires_at, lot_for
from ecrm.loyalty.names import DetailType, Resource
from ecrm.loyalty.programme_versions import DEFAULT
from ecrm_local import schedules
from loyalty_upkeep import handler as upkeep

from tests.loyalty_support import MEMBER, drain, order, publish, sqs_batch
from tests.support import LambdaContext, Stack

TABLE = "LOYALTY_TABLE_NAME"
EVENTS = Path(__file__).resolve().parents[2] / "events"


def accrue() -> None:
    assert drain(Resource.LOYALTY_ACCRUAL_QUEUE, "loyalty_accrual").failed == []


def travel(to: datetime) -> list[str]:
    """Move the process clock to `to`, firing every timer that comes due on the way (each at its
    own time, as Scheduler would) into the upkeep queue, and handling it. Answers the timers fired."""
    firing = schedules.Firing(boto3.session.Session(), SYSTEM_CLOCK)
    fired: list[str] = []
    while True:
        pending = sorted(_due_times(to))
        if not pending:
            break
        SYSTEM_CLOCK.advance(max(0.0, (pending[0] - SYSTEM_CLOCK.now()).total_seconds()) + 1)
        fired += [f.name.split("/")[-1] for f in firing.fire_due()]
        assert drain(Resource.LOYALTY_TIMER_QUEUE, "loyalty_upkeep").failed == []
    SYSTEM_CLOCK.advance(max(0.0, (to - SYSTEM_CLOCK.now()).total_seconds()))
    return fired


def _due_times(until: datetime) -> list[datetime]:
    scheduler = boto3.client("scheduler")
    group = resources_group()
    times = []
    for summary in scheduler.list_schedules(GroupName=group)["Schedules"]:
        expression = scheduler.get_schedule(Name=summary["Name"], GroupName=group)["ScheduleExpression"]
        at = schedules.at_time(expression, None)
        if at is not None and at <= until:
            times.append(at)
    return times


def resources_group() -> str:
    from ecrm_local import resources

    return resources.physical_name(Resource.LOYALTY_SCHEDULES)


def member_view(stack: Stack, member: str = MEMBER) -> dict[str, Any]:
    answer = stack.call("GET", f"/loyalty/members/{member}", roles="agent")
    assert answer.status == 200, answer.body
    view: dict[str, Any] = answer.json
    return view


def history(stack: Stack, member: str = MEMBER) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = stack.call("GET", f"/loyalty/members/{member}/history", roles="agent").json["items"]
    return items


def sent_mail() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends["123456789012"]["us-east-1"].sent_messages)


def customer(stack: Stack, email: str, amount: int) -> str:
    """A customer known to the contacts (so a warning has somewhere to go) with one order."""
    contact_id = str(stack.call("POST", "/contacts", {"email": email}).json["id"])
    publish((DetailType.ORDER_PLACED, order(f"ORD-{email[:4]}", amount, contact_id=contact_id)))
    accrue()
    return contact_id


def test_a_lot_is_warned_about_then_expires_when_its_timers_fire_and_not_before(stack: Stack):
    member = customer(stack, "keeper@example.com", 10_000)
    expiry = expires_at(lot_for(SYSTEM_CLOCK.now()), DEFAULT.expiry_months)
    warning = expiry - DEFAULT.warn_before
    assert travel(warning - timedelta(hours=1)) == []
    assert member_view(stack, member)["balance"] == 100 and sent_mail() == []
    assert [f.split("-")[1] for f in travel(warning + timedelta(hours=1))] == ["warn"]
    (mail,) = sent_mail()
    assert set(mail.destinations) == {"keeper@example.com"}
    assert f"Subject: 100 points expire on {expiry:%d %B %Y}" in mail.raw_data
    assert member_view(stack, member)["expiring_soon"] == [
        {"points": 100, "expires_at": expiry.isoformat().replace("+00:00", "Z")}
    ]
    stack.bus_detail_types()
    stack.seen.clear()
    assert [f.split("-")[1] for f in travel(expiry + timedelta(hours=1))] == ["expire"]
    assert member_view(stack, member)["balance"] == 0
    assert [(e["kind"], e["points"]) for e in history(stack, member)][:1] == [("expire", -100)]
    assert stack.bus_detail_types() == ["PointsExpired.v1"]
    # the timer's message again (Scheduler retries, a duplicate): nothing more expires
    payload = {"kind": "loyalty.lot-expiry", "member_id": member, "lot": lot_for(expiry - timedelta(days=800))}
    assert upkeep.lambda_handler(sqs_batch(payload), LambdaContext("loyalty_upkeep")) == {"batchItemFailures": []}
    assert [e["kind"] for e in history(stack, member)].count("expire") == 1
    assert len(sent_mail()) == 1


def test_only_what_is_left_of_a_lot_expires(stack: Stack):
    member = customer(stack, "spender@example.com", 10_000)
    headers = {"Idempotency-Key": "spend-0001"}
    path = f"/loyalty/members/{member}/redemptions"
    assert stack.call("POST", path, {"points": 30}, roles="agent", headers=headers).status == 201
    travel(expires_at(lot_for(SYSTEM_CLOCK.now()), DEFAULT.expiry_months) + timedelta(minutes=1))
    assert [(e["kind"], e["points"]) for e in history(stack, member)] == [
        ("expire", -70),
        ("redeem", -30),
        ("earn", 100),
    ]
    assert member_view(stack, member)["balance"] == 0


def test_tier_goes_up_with_the_order_that_crosses_and_down_when_the_points_leave_the_window(stack: Stack):
    publish((DetailType.ORDER_PLACED, order("BIG-1", 60_000)))  # 600 points: silver from 500
    accrue()
    assert member_view(stack)["tier"] == "silver"
    changes = [e for e in stack.bus_detail_types() if e == "TierChanged.v1"]
    assert changes == ["TierChanged.v1"]
    travel(SYSTEM_CLOCK.now() + timedelta(days=400))  # 13 months on: the window holds nothing
    view = member_view(stack)
    assert (view["tier"], view["balance"]) == ("bronze", 600)  # points live 24 months, tiers count 12
    assert stack.bus_detail_types().count("TierChanged.v1") == 2
    (member,) = [i for i in stack.table_items(TABLE) if i["sk"] == "MEMBER"]
    assert (member["tier"], member["tier_version"]) == ("bronze", 2)


def test_erasure_strips_the_ledgers_free_text_and_no_warning_goes_out(stack: Stack):
    member = customer(stack, "forget.me@example.com", 10_000)
    credit = {"points": 5, "reason": "Forget Me complained on the phone"}
    path = f"/loyalty/members/{member}/adjustments"
    assert stack.call("POST", path, credit, roles="admin", headers={"Idempotency-Key": "adj-000001"}).status == 201
    assert stack.admin("DELETE", f"/contacts/{member}").status == 204  # publishes ContactErased.v1
    assert drain(Resource.LOYALTY_TIMER_QUEUE, "loyalty_upkeep").failed == []
    stored = json.dumps(stack.table_items(TABLE), default=str)
    assert "complained" not in stored and "forget.me" not in stored
    assert member_view(stack, member)["balance"] == 105  # the points stay, under the id
    travel(expires_at(lot_for(SYSTEM_CLOCK.now()), DEFAULT.expiry_months) - timedelta(days=1))
    assert sent_mail() == []  # the warning found no contact


def test_unreadable_upkeep_messages_fail_alone(stack: Stack):
    bad = [
        {"kind": "loyalty.lot-expiry", "member_id": MEMBER, "lot": "November"},
        {"kind": "loyalty.unknown", "member_id": MEMBER},
        {"detail-type": "ContactUpdated.v1", "detail": {}},
        "not json",
    ]
    batch = sqs_batch({"kind": "loyalty.tier-review", "member_id": MEMBER}, *bad)
    result = upkeep.lambda_handler(batch, LambdaContext("loyalty_upkeep"))
    assert result == {"batchItemFailures": [{"itemIdentifier": f"m{i}"} for i in range(1, 5)]}


def test_the_sample_upkeep_batch_is_handled(stack: Stack):
    event = json.loads((EVENTS / "sqs" / "loyalty_upkeep_batch.json").read_text())
    assert upkeep.lambda_handler(event, LambdaContext("loyalty_upkeep")) == {"batchItemFailures": []}
