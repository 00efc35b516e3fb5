"""The one write path of the cases domain: version, history, timers and events around every change.

Order of effects, and why:
1. the case is written (conditional on its version), with its history lines in the same write;
2. then its timers: the new plan's are set, the old plan's cancelled. Setting them before the
   write could let a due timer fire before the case it belongs to exists in that state. A crash
   between 1 and 2 leaves the old plan's timers, which fire, are found stale and re-set the
   current plan (SlaTimerService); phase 2 may drive 2 from the table's stream instead;
3. then the events (see decision 4 in docs/decisions.md on the publish-after-write gap).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ecrm.cases import sla, workflow
from ecrm.cases.change import Change, audit, finish
from ecrm.cases.escalation import Escalate
from ecrm.cases.events import CaseEvent, CaseUpdated
from ecrm.cases.models import AuditEntry, Case
from ecrm.cases.policy import PolicyBook
from ecrm.cases.ports import CaseRepository
from ecrm.events import EventPublisher
from ecrm.timers import Timers

# The fields whose change other capabilities hear of as CaseUpdated.
TRACKED = ("subject", "priority", "status", "assignee_id", "team", "tags", "escalation_level")


def updated_event(before: Case, after: Case) -> CaseUpdated | None:
    changed = [name for name in TRACKED if getattr(before, name) != getattr(after, name)]
    if not changed:
        return None
    return CaseUpdated(
        occurred_at=after.updated_at,
        case_id=after.id,
        version=after.version,
        changed=changed,
        status=after.status,
        priority=after.priority,
    )


class CaseStore:
    def __init__(
        self,
        repo: CaseRepository,
        timers: Timers,
        events: EventPublisher,
        book: PolicyBook,
        generations: Callable[[], str] = sla.new_generation,
    ) -> None:
        self._repo = repo
        self._timers = timers
        self._events = events
        self.book = book
        self._generations = generations

    def new_generation(self) -> str:
        return self._generations()

    def create(self, change: Change, idempotency_key: str | None = None) -> Case:
        now = change.case.created_at
        case = sla.replan(None, change.case, self.book, now, change.case.sla.generation)
        self._repo.create(case, audit(change, 1, now), idempotency_key=idempotency_key)
        self.arm(None, case)
        self._events.publish(change.events)
        return case

    def announce_created(self, case: Case) -> None:
        """Announce a case again: a repeat delivery cannot tell whether the first one got this far."""
        self._events.publish([workflow.created_event(case)])

    def save(self, before: Case, change: Change, now: datetime) -> Case:
        case, entries = self._settle(before, change, now)
        self._repo.save(case, before.version, entries, comments=change.comments)
        self._after(before, case, change.events)
        return case

    def escalate(self, before: Case, escalation: Escalate, now: datetime) -> Case:
        """Store an escalation: raises Conflict (re-read and decide again) or AlreadyExists."""
        case, entries = self._settle(before, escalation.change, now)
        self._repo.apply_escalation(case, before.version, entries, escalation.records)
        self._after(before, case, escalation.change.events)
        return case

    def arm(self, before: Case | None, after: Case) -> None:
        arming = sla.arming(before, after, self.book)
        for timer in arming.set:
            self._timers.set(timer)
        for name in arming.cancel:
            self._timers.cancel(name)

    def resync(self, case: Case) -> None:
        """Set the case's current plan again (set is idempotent): heals a plan whose timers were
        never set because a writer stopped between its write and its timer calls."""
        for timer in sla.plan(case, self.book.for_case(case)):
            self._timers.set(timer)

    def _settle(self, before: Case, change: Change, now: datetime) -> tuple[Case, list[AuditEntry]]:
        version = before.version + 1
        case = sla.replan(before, change.case, self.book, now, self._generations())
        return finish(case, version, now), audit(change, version, now)

    def _after(self, before: Case, case: Case, events: list[CaseEvent]) -> None:
        self.arm(before, case)
        updated = updated_event(before, case)
        self._events.publish([*events, updated] if updated else events)
