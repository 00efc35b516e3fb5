"""unit: the delivery rules: message ids, payloads, filters, backoff and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecrm.webhooks.catalogue import BY_NAME
from ecrm.webhooks.delivery import backoff, matches, message_id, message_range, payload, wait_after
from ecrm.webhooks.ports import PostResult

AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
DETAIL = {"occurred_at": AT.isoformat(), "contact_id": "c1", "tags": ["vip"], "form_id": "f1", "secret_field": "x"}


def test_the_same_event_for_the_same_endpoint_is_the_same_message_and_ids_sort_by_time():
    one = message_id("ep_1", "ecrm.contacts", "ContactCaptured.v1", DETAIL, AT)
    assert one == message_id("ep_1", "ecrm.contacts", "ContactCaptured.v1", dict(DETAIL), AT)
    assert one != message_id("ep_2", "ecrm.contacts", "ContactCaptured.v1", DETAIL, AT)
    assert len(one) == 36 and one.startswith("msg_")
    later = message_id("ep_1", "ecrm.contacts", "ContactCaptured.v1", DETAIL, AT + timedelta(milliseconds=1))
    first, last = message_range(AT, AT + timedelta(milliseconds=1))
    assert first <= one <= last < later


def test_the_payload_names_the_actor_when_someone_signed_in_or_a_client_made_the_change():
    updated = {"occurred_at": AT.isoformat(), "contact_id": "c1", "changed": ["tags"]}
    by_shop = payload(BY_NAME["contact.updated"], {**updated, "actor": "client:shop"}, AT)
    assert '"data":{"contact_id":"c1","changed":["tags"],"actor":"client:shop"}' in by_shop
    assert '"actor"' not in payload(BY_NAME["contact.updated"], updated, AT)  # the contact's own change
    assert all("actor" not in BY_NAME[name].fields for name in ("points.earned", "tier.changed", "case.escalated"))


def test_the_payload_carries_the_types_fields_only():
    body = payload(BY_NAME["contact.captured"], DETAIL, AT)
    assert body == (
        '{"type":"contact.captured","timestamp":"2026-12-06T10:00:00Z",'
        '"data":{"contact_id":"c1","form_id":"f1","tags":["vip"]}}'
    )


def test_filters_need_every_field_to_hold_one_of_its_values():
    data = {"tags": ["vip", "b2b"], "form_id": "f1"}
    assert matches({}, data)
    assert matches({"tags": ["vip"]}, data) and matches({"tags": ["x", "b2b"], "form_id": ["f1"]}, data)
    assert not matches({"tags": ["x"]}, data) and not matches({"form_id": ["f2"]}, data)
    assert not matches({"utm_source": ["ads"]}, data)  # a field the event does not hold


def test_backoff_doubles_with_jitter_up_to_four_hours_and_reaches_a_day_within_seventeen_attempts():
    low, high = (lambda a, b: a), (lambda a, b: b)
    assert backoff(1, low) == timedelta(seconds=22.5) and backoff(1, high) == timedelta(seconds=37.5)
    assert backoff(3, low) == timedelta(minutes=1.5)
    assert backoff(30, high) == timedelta(hours=5)  # 4 h + 25 %
    assert sum((backoff(n, low) for n in range(1, 18)), timedelta()) >= timedelta(hours=24)


def test_retry_after_is_honoured_on_429_and_503_only():
    middle = lambda a, b: 1.0  # noqa: E731
    assert wait_after(PostResult(429, 10, retry_after=120), 1, middle) == timedelta(seconds=120)
    assert wait_after(PostResult(503, 10, retry_after=7200), 1, middle) == timedelta(hours=2)
    assert wait_after(PostResult(503, 10, retry_after=10**7), 1, middle) == timedelta(hours=24)
    assert wait_after(PostResult(500, 10, retry_after=120), 1, middle) == timedelta(seconds=30)
    assert wait_after(PostResult(429, 10), 2, middle) == timedelta(minutes=1)
