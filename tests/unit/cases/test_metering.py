"""unit: the events of a committed case write become EMF metrics (counts, business times, ratings)."""

from datetime import UTC, datetime

from ecrm.cases.adapters.case_metrics import CaseMetrics
from ecrm.cases.events import CaseCommented, CaseRated, CaseSolved, CaseUpdated, SlaBreached

AT = datetime(2026, 6, 1, 10, tzinfo=UTC)
CID = "c" * 32


class Recorded:
    def __init__(self) -> None:
        self.added: list[tuple[str, str, float]] = []

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.added.append((name, str(unit), value))


def test_committed_events_are_counted_and_their_numbers_recorded():
    metrics = Recorded()
    CaseMetrics(metrics).record(  # type: ignore[arg-type]
        [
            SlaBreached(occurred_at=AT, case_id=CID, milestone="first_response", cycle=1, due_at=AT),
            CaseCommented(occurred_at=AT, case_id=CID, comment_id="x", visibility="public", first_response_seconds=90),
            CaseSolved(occurred_at=AT, case_id=CID, cycle=1, resolution_seconds=3600),
            CaseRated(occurred_at=AT, case_id=CID, rating=4),
            CaseUpdated(occurred_at=AT, case_id=CID, version=2, changed=["tags"], status="open", priority="low"),
        ]
    )
    assert [(name, value) for name, _, value in metrics.added] == [
        ("SlaBreached", 1),
        ("FirstResponseBusinessSeconds", 90),
        ("CaseSolved", 1),
        ("ResolutionBusinessSeconds", 3600),
        ("CaseRated", 1),
        ("CsatRating", 4),
    ]
