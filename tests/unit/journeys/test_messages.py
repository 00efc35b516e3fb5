"""unit: what the runner's queue carries is told apart, and a message that can never be read is
named (it fails each receive and ends in the DLQ, never half-handled)."""

from __future__ import annotations

import json

import pytest
from ecrm.consumer import Unprocessable
from ecrm.journeys.messages import parse_message
from ecrm.journeys.models import ResumePage, TimerFire
from ecrm.journeys.runner import Delivery

JOURNEY = "a" * 32
CONTACT = "b" * 32


def test_an_eventbridge_event_a_timer_and_a_resume_page_are_told_apart():
    event = {
        "detail-type": "ContactCaptured.v1",
        "source": "ecrm.contacts",
        "id": "e-1",
        "detail": {"contact_id": CONTACT},
    }
    assert parse_message(json.dumps(event)) == Delivery(
        "ContactCaptured.v1", "ecrm.contacts", {"contact_id": CONTACT}, "e-1"
    )
    timer = {"action": "timer", "journey_id": JOURNEY, "contact_id": CONTACT, "seq": 3}
    assert parse_message(json.dumps(timer)) == TimerFire(action="timer", journey_id=JOURNEY, contact_id=CONTACT, seq=3)
    page = {"action": "resume", "journey_id": JOURNEY, "cursor": None}
    assert parse_message(json.dumps(page)) == ResumePage(action="resume", journey_id=JOURNEY)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ("[1, 2]", "body"),
        (json.dumps({"action": "sweep"}), "action"),
        (json.dumps({"journey_id": JOURNEY}), "action"),
        (json.dumps({"action": "timer", "journey_id": JOURNEY, "contact_id": CONTACT, "seq": -1}), "seq"),
        (json.dumps({"action": "timer", "journey_id": "../x", "contact_id": CONTACT, "seq": 1}), "journey_id"),
        (json.dumps({"action": "resume", "journey_id": JOURNEY, "extra": 1}), "extra"),
        (json.dumps({"detail-type": "ContactCaptured.v1", "source": "ecrm.contacts", "detail": {}}), "id"),
    ],
)
def test_a_message_that_can_never_be_read_names_its_field(body: str, field: str):
    with pytest.raises(Unprocessable) as refused:
        parse_message(body)
    assert field in refused.value.field
