"""unit: support metrics in business time, and requesters kept as contacts."""

from datetime import timedelta

import pytest
from ecrm.cases.metrics import summarize
from ecrm.cases.models import CommentRequest, CsatRequest, Requester
from ecrm.cases.requesters import ContactRequesters
from ecrm.errors import AlreadyExists

from tests.unit.cases.test_mail_and_csat import survey_token
from tests.unit.cases.world import AGENT, World
from tests.unit.fakes import MemoryContacts, RecordingPublisher


def test_metrics_count_business_time_and_skip_what_has_not_happened():
    world = World()
    quick, slow, open_case = world.open(), world.open(), world.open()
    world.advance(minutes=30)
    world.work.comment(quick.id, CommentRequest(body="on it", visibility="public"), AGENT)
    world.work.solve(quick.id, AGENT)
    world.deliver_mail()
    world.survey.rate(CsatRequest(token=survey_token(world), rating=5))
    world.advance(hours=23, minutes=30)  # Tuesday 09:00: eight business hours since Monday 09:00
    world.fire_due()
    world.work.comment(slow.id, CommentRequest(body="sorry", visibility="public"), AGENT)
    world.work.solve(slow.id, AGENT)
    world.deliver_mail()
    world.survey.rate(CsatRequest(token=survey_token(world), rating=2))
    metrics = summarize(world.case(c.id) for c in (quick, slow, open_case))
    assert metrics.cases == 3
    assert metrics.breach_rate == pytest.approx(2 / 3)  # slow and the open one missed first response
    assert metrics.median_first_response == timedelta(hours=4, minutes=15)  # of 30 min and 8 h
    assert metrics.median_resolution == timedelta(hours=4, minutes=15)
    assert (metrics.csat_average, metrics.csat_answers) == (3.5, 2)
    assert summarize([]).breach_rate is None


def test_a_requester_is_the_contact_with_that_address_or_a_new_one():
    bus = RecordingPublisher()
    contacts = MemoryContacts(bus)
    world = World()
    directory = ContactRequesters(contacts, world.clock)
    first = directory.find_or_create(Requester(email="Dan@Example.com", first_name="Dan"))
    again = directory.find_or_create(Requester(email="dan@example.com"))
    assert first == again and len(contacts.contacts) == 1
    assert directory.get(first) == Requester(email="dan@example.com", first_name="Dan")
    assert contacts.contacts[first].consent.status == "none"  # asking for help is not subscribing
    assert bus.types() == ["ContactCaptured.v1"]
    assert directory.get("0" * 32) is None


def test_two_first_requests_from_one_address_at_once_share_a_contact():
    bus = RecordingPublisher()
    contacts = MemoryContacts(bus)
    world = World()
    directory = ContactRequesters(contacts, world.clock)
    create = contacts.create

    def lose_the_race(contact, consent, events=()):
        contacts.create = create  # type: ignore[method-assign]
        ContactRequesters(contacts, world.clock).find_or_create(Requester(email=contact.email))
        raise AlreadyExists(contact.email)

    contacts.create = lose_the_race  # type: ignore[method-assign]
    winner = directory.find_or_create(Requester(email="eve@example.com"))
    assert list(contacts.contacts) == [winner] and bus.types() == ["ContactCaptured.v1"]
