"""unit: case events become EMF metrics once they are on the bus (counts, business times, ratings)."""

from datetime import UTC, datetime

import pytest
from ecrm.adapters.case_metrics import MeteredEvents
from ecrm.cases.events import CaseCommented, CaseRated, CaseSolved, CaseUpdated, SlaBreached
from ecrm.errors import PublishFailed

from tests.unit.fakes import RecordingPublisher

AT = datetime(2026, 6, 1, 10, tzinfo=UTC)
CID = "c" * 32


class Recorded:
    def __init__(self) -> None:
        self.added: list[tuple[str, str, float]] = []

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.added.append((name, str(unit), value))


def test_events_on_the_bus_are_counted_and_their_numbers_recorded():
    metrics, bus = Recorded(), RecordingPublisher()
    MeteredEvents(bus, metrics).publish(  # type: ignore[arg-type]
        [
            SlaBreached(occurred_at=AT, case_id=CID, milestone="first_response", cycle=1, due_at=AT),
            CaseCommented(occurred_at=AT, case_id=CID, comment_id="x", visibility="public", first_response_seconds=90),
            CaseSolved(occurred_at=AT, case_id=CID, cycle=1, resolution_seconds=3600),
            CaseRated(occurred_at=AT, case_id=CID, rating=4),
            CaseUpdated(occurred_at=AT, case_id=CID, version=2, changed=["tags"], status="open", priority="low"),
        ]
    )
    assert len(bus.events) == 5
    assert [(name, value) for name, _, value in metrics.added] == [
        ("SlaBreached", 1),
        ("FirstResponseBusinessSeconds", 90),
        ("CaseSolved", 1),
        ("ResolutionBusinessSeconds", 3600),
        ("CaseRated", 1),
        ("CsatRating", 4),
    ]


def test_nothing_is_counted_when_the_publish_fails():
    metrics = Recorded()

    class Down:
        def publish(self, events):
            raise PublishFailed("bus down")

    with pytest.raises(PublishFailed):
        MeteredEvents(Down(), metrics).publish(  # type: ignore[arg-type]
            [SlaBreached(occurred_at=AT, case_id=CID, milestone="resolution", cycle=1, due_at=AT)]
        )
    assert metrics.added == []
