"""e2e: a campaign to a modest audience on `ecrm local` completes at the local SES quota, and the API
answers while it sends (the sender runs beside the HTTP server, not in its way)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.events import ContactCaptured
from ecrm.names import Resource
from ecrm_local import resources

from tests.e2e.conftest import SES_SEND_RATE, Local
from tests.unit.campaigns.world import make_contact

pytestmark = pytest.mark.e2e

AUDIENCE = 30
HTML = (
    '<p>Hi {{ first_name }}</p><p><a href="https://shop.example.org/sale">Sale</a></p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)
TEXT = "Sale: https://shop.example.org/sale\nUnsubscribe: {{ unsubscribe_url }}"


def seed(local: Local, tag: str, n: int) -> None:
    """`n` consented contacts tagged `tag`, written as capture writes them and announced."""
    contacts = DynamoContacts(local.boto("dynamodb"), resources.physical_name(Resource.CONTACTS_TABLE))
    events = local.boto("events")
    base = random.randrange(10**9)  # ids stay unique across the session's tests
    created = datetime.fromisoformat(local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"])
    for i in range(n):
        contact = make_contact(base + i, email=f"r{i}-{tag}@example.org", tags=(tag,), company=None, created=created)
        contacts.create(contact, [])
        announced = ContactCaptured(occurred_at=created, contact_id=contact.id, tags=[tag])
        entry: Any = {
            "Source": announced.source,
            "DetailType": announced.detail_type,
            "Detail": announced.model_dump_json(),
            "EventBusName": resources.physical_name(Resource.EVENT_BUS),
        }
        events.put_events(Entries=[entry])


def start_campaign(local: Local, tag: str, n: int) -> tuple[str, str]:
    """A template with a link, a segment of `n` seeded contacts, a campaign due in an hour: its id and subject."""
    seed(local, tag, n)
    subject = f"Sale {tag}"
    template = local.call(
        "POST", "/templates", {"name": tag, "subject": subject, "html": HTML, "text": TEXT}, role="marketer"
    ).json["id"]
    rules = {"include": [{"kind": "tag", "any_of": [tag]}]}
    segment = local.call("POST", "/segments", {"name": tag, "rules": rules}, role="marketer").json["id"]
    local.wait_for(
        lambda: local.call("GET", f"/segments/{segment}/count", role="marketer").json["count"] == n,
        timeout=60,
        what=f"{n} contacts in the segment",
    )
    now = datetime.fromisoformat(local.call("POST", "/_local/clock", {"advance_seconds": 0}).json["now"])
    at = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    body = {"name": tag, "template_id": template, "segment_id": segment, "schedule": {"kind": "one_off", "at": at}}
    cid: str = local.call("POST", "/campaigns", body, role="marketer").json["id"]
    assert local.call("POST", f"/campaigns/{cid}/schedule", role="marketer").json["status"] == "scheduled"
    return cid, subject


def sent(local: Local, subject: str) -> list[dict[str, Any]]:
    return [m for m in local.call("GET", "/_local/outbox").json if m["subject"] == subject]


def test_the_local_ses_quota_is_the_configured_one_not_motos_one_per_second(local: Local):
    quota = local.boto("ses").get_send_quota()
    assert quota["MaxSendRate"] == SES_SEND_RATE > 1


def test_a_campaign_completes_and_the_api_answers_while_it_sends(local: Local):
    tag = f"send{uuid.uuid4().hex[:8]}"
    cid, subject = start_campaign(local, tag, AUDIENCE)
    local.call("POST", "/_local/clock", {"advance_seconds": 3601})

    # At SES_SEND_RATE mails a second the send takes several seconds: an answer that arrives while
    # some but not all of the mail is out was served beside the sender, not after it.
    local.wait_for(lambda: sent(local, subject), timeout=60, what="the first campaign mail")
    answer = local.call("GET", f"/campaigns/{cid}", role="marketer")
    out_when_answered = len(sent(local, subject))
    assert answer.status == 200 and answer.json["id"] == cid
    assert out_when_answered < AUDIENCE

    local.wait_for(lambda: len(sent(local, subject)) == AUDIENCE, timeout=120, what="every campaign mail")
    assert sorted(m["to"][0] for m in sent(local, subject)) == sorted(
        f"r{i}-{tag}@example.org" for i in range(AUDIENCE)
    )
    stats = local.wait_for(
        lambda: (
            (s := local.call("GET", f"/campaigns/{cid}/stats", role="marketer").json["total"])["delivered"] == AUDIENCE
            and s
        ),
        timeout=60,
        what="every delivery counted",
    )
    assert (stats["targeted"], stats["sent"]) == (AUDIENCE, AUDIENCE)
