"""unit: outbox items and the relay's answer to Lambda (which records to read again)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ecrm.events import ContactCaptured
from ecrm.outbox import RETENTION, Outbox, entry
from ecrm.relay import EventRelay

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


class Bus:
    def __init__(self, reject: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.reject = reject
        self.entries: list[dict[str, Any]] = []

    def put(self, entries: Sequence[dict[str, Any]]) -> list[int]:
        self.entries += [e for i, e in enumerate(entries) if i not in self.reject]
        return sorted(i for i in self.reject if i < len(entries))


def _record(seq: int, image: dict[str, Any] | None, name: str = "INSERT") -> dict[str, Any]:
    return {"eventName": name, "dynamodb": {"SequenceNumber": str(seq), "NewImage": image}}


def _image(contact: str) -> dict[str, Any]:
    put = Outbox("Outbox").put(ContactCaptured(occurred_at=NOW, contact_id=contact))
    return put["Put"]["Item"]


def test_an_outbox_item_is_the_event_it_stands_for_and_expires_after_the_retention() -> None:
    put = Outbox("Outbox").put(ContactCaptured(occurred_at=NOW, contact_id="c1", tags=["vip"]))["Put"]
    assert put["TableName"] == "Outbox" and put["ConditionExpression"] == "attribute_not_exists(pk)"
    assert int(put["Item"]["expires_at"]["N"]) == int((NOW + RETENTION).timestamp())
    made = entry(put["Item"], "bus")
    assert made is not None
    assert (made["Source"], made["DetailType"], made["EventBusName"]) == ("ecrm.contacts", "ContactCaptured.v1", "bus")
    assert json.loads(made["Detail"])["contact_id"] == "c1"
    assert entry({"pk": {"S": "CONTACT#1"}}, "bus") is None  # not an event item


def test_two_events_of_one_write_get_two_items() -> None:
    events = [ContactCaptured(occurred_at=NOW, contact_id=c) for c in ("a", "b")]
    keys = {p["Put"]["Item"]["pk"]["S"] for p in Outbox("Outbox").puts(events)}
    assert len(keys) == 2


def test_the_relay_publishes_inserts_only_and_reports_nothing_failed() -> None:
    bus = Bus()
    records = [_record(1, _image("a")), _record(2, None, "REMOVE"), _record(3, _image("b"))]
    relayed = EventRelay(bus, "bus").forward(records)
    assert (relayed.published, relayed.failed_from) == (2, None)
    assert [json.loads(e["Detail"])["contact_id"] for e in bus.entries] == ["a", "b"]


def test_the_relay_names_the_first_record_the_bus_still_rejected() -> None:
    bus = Bus(reject={1, 2})
    records = [
        _record(10, _image("a")),
        _record(11, None, "MODIFY"),
        _record(12, _image("b")),
        _record(13, _image("c")),
    ]
    relayed = EventRelay(bus, "bus").forward(records)
    # entry 1 is record 12 (the MODIFY announces nothing): Lambda reads again from there
    assert (relayed.published, relayed.failed_from) == (1, "12")
