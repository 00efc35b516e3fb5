"""How the cases' events read on their requester's timeline (ecrm.timeline). Only CaseCreated names
the requester; the others are found through the case they are about."""

from __future__ import annotations

from ecrm.cases.names import DetailType
from ecrm.names import Source
from ecrm.timeline import Detail, Kind


def _case(detail: Detail) -> str:
    return f"Case {str(detail.get('case_id', ''))[:8]}"


def _kind(detail_type: str, name: str, says: str) -> Kind:
    return Kind(Source.CASES, detail_type, name, lambda d: f"{_case(d)} {says.format_map(dict(d))}", "", "case_id")


KINDS = (
    Kind(
        Source.CASES,
        DetailType.CASE_CREATED,
        "case.opened",
        lambda d: f"{_case(d)} opened ({d.get('channel')}, {d.get('priority')} priority)",
        "requester_id",
    ),
    _kind(DetailType.CASE_COMMENTED, "case.commented", "got a {visibility} comment"),
    _kind(DetailType.CASE_ESCALATED, "case.escalated", "escalated to level {level} ({milestone})"),
    _kind(DetailType.SLA_BREACHED, "case.sla_breached", "missed its {milestone} deadline"),
    _kind(DetailType.CASE_SOLVED, "case.solved", "solved"),
    _kind(DetailType.CASE_RATED, "case.rated", "rated {rating} of 5"),
)
