"""e2e: a journey walked end to end on `ecrm local` over HTTP, by moving the stack's clock.

A marketer saves and starts a two-mail journey; a contact confirms consent through the form and
the opt-in mail (ConsentConfirmed.v1 lets them in); the welcome mail is in the outbox at once; the
clock moves two days; the wait's Scheduler timer fires and the branch (not opened) sends the
nudge; the stats count both mails and the completed journey."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e

HTML = '<p>Hi {{ first_name | default("there") }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'


def test_a_journey_walks_on_the_local_clock(local: Local):
    tag = f"j{uuid.uuid4().hex[:8]}"
    email = f"walker-{tag}@example.org"
    template = local.call(
        "POST",
        "/templates",
        {"name": tag, "subject": f"Hello {tag}", "html": HTML, "text": "{{ unsubscribe_url }}"},
        role="marketer",
    ).json["id"]
    definition = {
        "name": f"Welcome {tag}",
        "entry": {"event": "ConsentConfirmed.v1"},
        "goals": [{"event": "OrderPlaced.v1"}],
        "steps": [
            {"id": "welcome", "type": "send_mail", "template_id": template, "topic": "newsletter"},
            {"id": "two-days", "type": "wait", "duration": {"days": 2}},
            {"id": "opened", "type": "branch", "cases": [{"if": {"opened": "welcome"}, "next": "done"}]},
            {"id": "nudge", "type": "send_mail", "template_id": template, "topic": "newsletter"},
            {"id": "done", "type": "exit"},
        ],
    }
    created = local.call("POST", "/journeys", {"definition": definition}, role="marketer")
    assert created.status == 201, created.text
    journey = created.json["journey"]["id"]
    assert local.call("POST", f"/journeys/{journey}/start", role="marketer").json["status"] == "live"

    assert local.call("POST", "/contacts", {"email": email, "marketing_consent": True, "tags": [tag]}).status == 201
    (confirm,) = local.wait_for(lambda: local.mail_to(email), what="the opt-in mail")
    link = next(w for w in confirm["text"].split() if "token=" in w)
    assert local.call("POST", "/contacts/confirm", {"token": parse_qs(urlsplit(link).query)["token"][0]}).status == 200

    def journey_mail() -> list[dict[str, object]]:
        return [m for m in local.mail_to(email) if m["subject"] == f"Hello {tag}"]

    local.wait_for(lambda: len(journey_mail()) == 1, what="the welcome mail")
    local.call("POST", "/_local/clock", {"advance_seconds": 2 * 86_400 + 60})
    local.wait_for(lambda: len(journey_mail()) == 2, what="the nudge after two days on the local clock")

    def completed() -> dict[str, object] | None:
        stats = local.call("GET", f"/journeys/{journey}/stats", role="marketer").json
        return stats if stats["completed"] == 1 else None

    stats = local.wait_for(completed, what="the completed journey in the stats")
    mails = {s["step"]: s["mails_sent"] for s in stats["steps"] if s["type"] == "send_mail"}
    assert mails == {"welcome": 1, "nudge": 1}
