"""Events the cases capability puts on the bus: ids, codes and numbers only, never personal data.

Consumers that need more (the case mailer needs the requester's address) read it by id.
`cycle` counts a case's reopens; with `milestone` and `level` it names an SLA step uniquely, so a
consumer can drop a duplicate delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from ecrm.cases.models import Channel, Milestone, Priority, Status, Visibility
from ecrm.cases.names import DetailType
from ecrm.events import DomainEvent
from ecrm.names import Source


class CaseEvent(DomainEvent):
    source: ClassVar[str] = Source.CASES

    case_id: str


class CaseCreated(CaseEvent):
    detail_type: ClassVar[str] = DetailType.CASE_CREATED

    channel: Channel
    priority: Priority
    team: str | None = None
    requester_id: str


class CaseUpdated(CaseEvent):
    detail_type: ClassVar[str] = DetailType.CASE_UPDATED

    version: int
    changed: list[str]
    status: Status
    priority: Priority


class CaseCommented(CaseEvent):
    detail_type: ClassVar[str] = DetailType.CASE_COMMENTED

    comment_id: str
    visibility: Visibility
    # Set on the reply that met the first-response milestone: the business time it took.
    first_response_seconds: float | None = None


class SlaWarning(CaseEvent):
    detail_type: ClassVar[str] = DetailType.SLA_WARNING

    milestone: Milestone
    cycle: int
    due_at: datetime  # when the warning was due
    notify: list[str]


class SlaBreached(CaseEvent):
    detail_type: ClassVar[str] = DetailType.SLA_BREACHED

    milestone: Milestone
    cycle: int
    due_at: datetime  # the deadline that was missed


class CaseEscalated(CaseEvent):
    detail_type: ClassVar[str] = DetailType.CASE_ESCALATED

    milestone: Milestone
    cycle: int
    level: int
    due_at: datetime
    notify: list[str]  # audiences: assignee, team_lead, management
    team: str | None = None  # the team whose lead is told
    priority: Priority


class CaseSolved(CaseEvent):
    detail_type: ClassVar[str] = DetailType.CASE_SOLVED

    cycle: int  # the resolution cycle solved: one survey per case, not per cycle, is the mailer's rule
    resolution_seconds: float | None = None  # business time the resolution clock counted in this cycle


class CaseRated(CaseEvent):
    detail_type: ClassVar[str] = DetailType.CASE_RATED

    rating: int


CASE_EVENT_TYPES: dict[str, type[CaseEvent]] = {
    cls.detail_type: cls
    for cls in (CaseCreated, CaseUpdated, CaseCommented, SlaWarning, SlaBreached, CaseEscalated, CaseSolved, CaseRated)
}
