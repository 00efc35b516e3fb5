"""A change to a case as the pure rules describe it, and its finishing into a new version + history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecrm.access import user_actor
from ecrm.cases.events import CaseEvent
from ecrm.cases.models import AuditEntry, Case, Comment

SYSTEM_SLA = "system:sla"
REQUESTER = "requester"


@dataclass(frozen=True)
class Edit:
    """One audit line in the making: what happened, the fields before and after, and context
    (a comment id, the milestone and level of an escalation)."""

    action: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Change:
    case: Case
    actor: str
    edits: list[Edit] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)

    def then(self, other: Change | None) -> Change:
        """This change followed by `other` (made on this change's case), as one change."""
        if other is None:
            return self
        return Change(
            other.case,
            self.actor,
            self.edits + other.edits,
            self.comments + other.comments,
            self.events + other.events,
        )

    def acted(self, events: list[CaseEvent]) -> list[CaseEvent]:
        """`events` naming who made the change, where a signed-in user did."""
        actor = event_actor(self.actor)
        return [e.model_copy(update={"actor": actor}) for e in events] if actor else events

    @property
    def changed_fields(self) -> list[str]:
        return sorted({name for edit in self.edits for name in edit.after})


def event_actor(actor: str) -> str | None:
    """How events name an audit actor: a signed-in user's bare id becomes `user:<id>`; the requester,
    a channel and the SLA clock are nobody signed in (ecrm.events.DomainEvent.actor)."""
    if actor == REQUESTER or actor.startswith(("channel:", "system:")):
        return None
    return user_actor(actor)


def finish(case: Case, version: int, now: datetime) -> Case:
    return case.model_copy(update={"version": version, "updated_at": now})


def audit(change: Change, version: int, now: datetime) -> list[AuditEntry]:
    return [
        AuditEntry(
            case_id=change.case.id,
            version=version,
            seq=seq,
            at=now,
            actor=change.actor,
            action=edit.action,
            before=edit.before,
            after=edit.after,
            detail=edit.detail,
        )
        for seq, edit in enumerate(change.edits)
    ]
