"""e2e: a campaign on `ecrm local` over HTTP: contacts confirm consent, a template, a segment and a
campaign 1 hour ahead; the clock moves past it; the outbox holds one mail per eligible contact with
working RFC 8058 headers; the simulator's bounce and an unsubscribe keep addresses out of the next one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e

BOUNCE = "bounce@simulator.amazonses.com"
HTML = '<p>Hi {{ first_name | default("there") }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'


def _confirmed(local: Local, email: str, tag: str) -> None:
    """Capture with consent, then confirm through the link in the double opt-in mail."""
    assert local.call("POST", "/contacts", {"email": email, "marketing_consent": True, "tags": [tag]}).status == 201
    (mail,) = local.wait_for(lambda: local.mail_to(email), what=f"the confirmation mail to {email}")
    link = next(w for w in mail["text"].split() if "token=" in w)
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert local.call("POST", "/contacts/confirm", {"token": token}).status == 200


def _count(local: Local, segment: str) -> int:
    count: int = local.call("GET", f"/segments/{segment}/count", role="marketer").json["count"]
    return count


def _holds(probe: Callable[[], bool], polls: int = 10) -> Callable[[], bool]:
    """A probe true on `polls` successive calls (wait_for polls every 0.2 s)."""
    streak = [0]

    def held() -> bool:
        streak[0] = streak[0] + 1 if probe() else 0
        return streak[0] >= polls

    return held


def _campaign(local: Local, template: str, segment: str) -> str:
    now = datetime.fromisoformat(local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"])
    at = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    body = {"name": "e2e", "template_id": template, "segment_id": segment, "schedule": {"kind": "one_off", "at": at}}
    created = local.call("POST", "/campaigns", body, role="marketer")
    assert created.status == 201, created.text
    cid: str = created.json["id"]
    assert local.call("POST", f"/campaigns/{cid}/schedule", role="marketer").json["status"] == "scheduled"
    return cid


def _sent(local: Local, subject: str) -> list[dict[str, Any]]:
    return [m for m in local.call("GET", "/_local/outbox").json if m["subject"] == subject]


def test_a_scheduled_campaign_reaches_each_eligible_contact_once(local: Local):
    tag = f"e2e{uuid.uuid4().hex[:8]}"
    ann, bob = f"ann-{tag}@example.org", f"bob-{tag}@example.org"
    for email in (ann, bob, BOUNCE):
        _confirmed(local, email, tag)
    subject = f"News {tag}"
    template = local.call(
        "POST",
        "/templates",
        {"name": tag, "subject": subject, "html": HTML, "text": "{{ unsubscribe_url }}"},
        role="marketer",
    ).json["id"]
    rules = {"include": [{"kind": "tag", "any_of": [tag]}]}
    segment = local.call("POST", "/segments", {"name": tag, "rules": rules}, role="marketer").json["id"]
    # The simulator bounced the opt-in mail to bounce@: SES feedback suppressed the address, and it
    # left the segment's mailable contacts.
    # Events reach the index through the outbox, the relay and a queue, each contact's on its own
    # way: 2 can be a passing moment (ann and the bounce address indexed, bob not yet), so the
    # count must hold for two seconds.
    local.wait_for(_holds(lambda: _count(local, segment) == 2), timeout=30, what="two mailable contacts, settled")

    first = _campaign(local, template, segment)
    assert _sent(local, subject) == []
    local.call("POST", "/_local/clock", {"advance_seconds": 3601})
    mail = local.wait_for(
        lambda: len(_sent(local, subject)) == 2 and _sent(local, subject), timeout=40, what="the campaign mail"
    )
    assert sorted(m["to"][0] for m in mail) == [ann, bob]
    by_address = {m["to"][0]: m for m in mail}
    headers = by_address[bob]["headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = headers["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{local.base}/unsubscribe?token=")
    stats = local.wait_for(
        lambda: (
            (s := local.call("GET", f"/campaigns/{first}/stats", role="marketer").json["total"])["delivered"] == 2 and s
        ),
        what="delivery events",
    )
    assert (stats["targeted"], stats["sent"]) == (2, 2)

    # The one-click POST a mail client would make, to the header's own URL.
    answer = local.call(
        "POST",
        link.removeprefix(local.base),
        "List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 200 and "no more" in answer.text

    local.call("POST", "/_local/clock", {"advance_seconds": 60})
    second = _campaign(local, template, segment)
    local.call("POST", "/_local/clock", {"advance_seconds": 3601})
    local.wait_for(lambda: len(_sent(local, subject)) == 3, timeout=40, what="the second campaign's mail")
    assert [m["to"][0] for m in _sent(local, subject)].count(ann) == 2
    assert not [m for m in _sent(local, subject) if m["to"][0] in (BOUNCE,)]
    totals = local.wait_for(
        lambda: (
            (s := local.call("GET", f"/campaigns/{second}/stats", role="marketer").json["total"])["sent"] == 1 and s
        ),
        what="the second campaign's stats",
    )
    assert (totals["targeted"], totals["suppressed"]) == (2, 1)  # bob unsubscribed; bounce@ not even targeted
