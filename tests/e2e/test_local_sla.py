"""e2e: the cases walk-through on the local stack over HTTP. An urgent case from the public form
escalates level by level as POST /_local/clock moves past each deadline (Scheduler schedules fired
by the ticker, the timer queue polled into its function); every notice lands in the outbox once;
GET /cases/{id} shows the escalation level and the audit trail. Runs last: it moves the clock by hours."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e


def _now(local: Local) -> datetime:
    return datetime.fromisoformat(local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"])


def _case(local: Local, case_id: str) -> dict[str, Any]:
    answer = local.call("GET", f"/cases/{case_id}", role="agent")
    assert answer.status == 200, answer.text
    return dict(answer.json)


def _notices(local: Local, reference: str) -> list[str]:
    return [m["subject"] for m in local.call("GET", "/_local/outbox").json if f"[{reference}]" in m["subject"]]


def test_an_urgent_case_from_the_public_form_escalates_at_each_deadline_and_is_seen_to(local: Local):
    form = {
        "email": f"e2e-{uuid.uuid4().hex[:10]}@example.org",
        "subject": "Printer on fire",
        "description": "It smokes.",
        "priority": "urgent",
    }
    posted = local.call("POST", "/cases", form)  # the form's JSON post (a browser's gets a 303)
    assert posted.status == 201
    case_id = posted.json["id"]
    case = _case(local, case_id)
    assert (case["priority"], case["escalation_level"], case["channel"]) == ("urgent", 0, "web")
    steps = [s for s in case["sla_steps"] if s["milestone"] == "first_response"]
    assert [s["step"] for s in steps] == [0, 1, 2, 3]
    reference = case_id[:8]

    for step in steps:
        wait = (datetime.fromisoformat(step["at"]) - _now(local)).total_seconds() + 1
        fired = local.call("POST", "/_local/clock", {"advance_seconds": max(wait, 0)}).json["fired"]
        assert any(case_id in f["name"] and f["target"].endswith("CaseTimerQueue") for f in fired)
        expected = int(step["step"])

        def escalated(expected: int = expected) -> bool:
            level = _case(local, case_id)["escalation_level"]
            return bool(level == expected and len(_notices(local, reference)) == expected + 1)

        local.wait_for(escalated, timeout=20, what=f"escalation step {expected} and its notice")

    final = _case(local, case_id)
    assert (final["escalation_level"], final["team"]) == (3, "escalations")
    trail = [(e["action"], e["detail"].get("level", 0)) for e in final["history"]]
    assert trail == [("created", 0), ("sla_warning", 0), ("escalated", 1), ("escalated", 2), ("escalated", 3)]
    assert {e["actor"] for e in final["history"][1:]} == {"system:sla"}
    notices = _notices(local, reference)
    assert len(notices) == len(set(notices)) == 4  # each once
    assert [n.split("] ")[1].split(":")[0] for n in notices] == [
        "SLA warning",
        "Escalation level 1",
        "Escalation level 2",
        "Escalation level 3",
    ]
    local.call("POST", "/_local/clock", {"advance_seconds": 1})  # a tick more changes nothing
    assert _notices(local, reference) == notices and _case(local, case_id)["version"] == final["version"]
    # The requester was told once that the request arrived, with the reference to quote.
    (ack,) = local.mail_to(form["email"])
    assert ack["subject"] == f"We received your request: Printer on fire [#{reference}]"
