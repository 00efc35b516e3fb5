"""The one write path of the cases domain: version, history, timers and events around every change.

Order of effects, and why (docs/cases.md, "Timers and crashes"):
1. the NEW plan's timers are set, before the write. Their names and payloads carry the new
   generation, which the stored case does not have yet, and none is set to fire sooner than
   SAFETY from now (longer than any writer runs), so none can fire before the write below has
   either happened or failed for good;
2. the case is written (conditional on its version), with its history lines in the same write.
   If the write is refused, the timers just set are cancelled (they would only ever be stale);
3. then the steps that are due now (or within SAFETY) are moved to their real time (a time
   already past goes straight to the timer queue), and the OLD plan's timers are cancelled;
The events a change implies are part of the write in 2 (the transactional outbox, decision 52):
they reach the bus if and only if the write happened.

A crash before 2 leaves timers of a generation the case never had: when they fire they are stale
and do nothing. A crash after 2 leaves the old plan's timers (stale when they fire: the case has
the new generation) and, for a step due now, its safety timer, which fires SAFETY later. No
timer plan is lost and none is ever re-created from a stale timer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime

from ecrm.cases import sla
from ecrm.cases.change import Change, audit, finish
from ecrm.cases.escalation import Escalate
from ecrm.cases.events import CaseEvent, CaseUpdated
from ecrm.cases.models import AuditEntry, Case
from ecrm.cases.policy import PolicyBook
from ecrm.cases.ports import CaseRepository, PolicySource
from ecrm.errors import AlreadyExists, Conflict
from ecrm.events import DomainEvent
from ecrm.timers import ARMING_MARGIN, Timer, Timers

# No timer is set, before a write, to fire sooner than this (ecrm.timers.ARMING_MARGIN).
SAFETY = ARMING_MARGIN

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


class StaticPolicies:
    """A policy book that never changes (tests, and the standard book when none is stored)."""

    def __init__(self, book: PolicyBook) -> None:
        self._book = book

    def current(self) -> PolicyBook:
        return self._book


def _ignore(events: Sequence[DomainEvent]) -> None:
    return None


class CaseWriter:
    """`committed` hears of the events of every write that succeeded (the metrics)."""

    def __init__(
        self,
        repo: CaseRepository,
        timers: Timers,
        book: PolicyBook | PolicySource,
        generations: Callable[[], str] = sla.new_generation,
        committed: Callable[[Sequence[DomainEvent]], None] = _ignore,
    ) -> None:
        self._repo = repo
        self._timers = timers
        self._committed = committed
        self._books = StaticPolicies(book) if isinstance(book, PolicyBook) else book
        self._generations = generations

    @property
    def book(self) -> PolicyBook:
        """The policy book in force (an adapter may cache it for a short while)."""
        return self._books.current()

    def new_generation(self) -> str:
        return self._generations()

    def create(self, change: Change, idempotency_key: str | None = None) -> Case:
        now = change.case.created_at
        case = sla.replan(None, change.case, self.book, now, change.case.sla.generation)
        entries = audit(change, 1, now)
        events = change.acted(change.events)
        self._armed(
            None, case, now, lambda: self._repo.create(case, entries, idempotency_key=idempotency_key, events=events)
        )
        self._committed(events)
        return case

    def save(self, before: Case, change: Change, now: datetime) -> Case:
        case, entries = self._settle(before, change, now)
        events = change.acted(_with_update(before, case, change.events))
        self._armed(
            before,
            case,
            now,
            lambda: self._repo.save(case, before.version, entries, comments=change.comments, events=events),
        )
        self._committed(events)
        return case

    def escalate(self, before: Case, escalation: Escalate, now: datetime) -> Case:
        """Store an escalation: raises Conflict (re-read and decide again) or AlreadyExists."""
        case, entries = self._settle(before, escalation.change, now)
        records = escalation.records
        # The applied steps' timers have fired (and deleted themselves): nothing to cancel for them.
        fired = {sla.sla_timer_name(case.id, r.milestone, r.step, before.sla.generation) for r in records}
        events = _with_update(before, case, escalation.change.events)
        self._armed(
            before,
            case,
            now,
            lambda: self._repo.apply_escalation(case, before.version, entries, records, events=events),
            fired,
        )
        self._committed(events)
        return case

    def resync(self, case: Case) -> None:
        """Set the stored case's current plan again (set is idempotent): an early timer's step is
        put back at its time. Only for a case as stored, never for one about to be written."""
        for timer in sla.plan(case, self.book.for_case(case)):
            self._timers.set(timer)

    def _armed(
        self,
        before: Case | None,
        after: Case,
        now: datetime,
        write: Callable[[], None],
        fired: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        """Timers of the new plan first (none sooner than SAFETY), the write, then the exact times
        of the steps due soon and the old plan's cancellation (but for timers that `fired`)."""
        arming = sla.arming(before, after, self.book)
        early = now + SAFETY
        for timer in arming.set:
            self._timers.set(timer if timer.at > early else _at(timer, early))
        try:
            write()
        except (Conflict, AlreadyExists):
            for timer in arming.set:  # a generation that will never be stored: tidy up
                self._timers.cancel(timer.name)
            raise
        for timer in arming.set:
            if timer.at <= early:
                self._timers.set(timer)
        for name in arming.cancel:
            if name not in fired:
                self._timers.cancel(name)

    def _settle(self, before: Case, change: Change, now: datetime) -> tuple[Case, list[AuditEntry]]:
        version = before.version + 1
        case = sla.replan(before, change.case, self.book, now, self._generations())
        return finish(case, version, now), audit(change, version, now)


def _with_update(before: Case, case: Case, events: list[CaseEvent]) -> list[CaseEvent]:
    updated = updated_event(before, case)
    return [*events, updated] if updated else events


def _at(timer: Timer, at: datetime) -> Timer:
    return dataclasses.replace(timer, at=at)
