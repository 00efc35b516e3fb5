"""SLA timers coming due: the consumer of the case timer queue.

Exactly once per (case, milestone, cycle, step) for the case's state; the step's events commit
with it (the outbox), so a step applied is a step announced.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from ecrm.cases.escalation import AlreadyApplied, Decision, Escalate, NotYetDue, Stale, decide
from ecrm.cases.models import Case
from ecrm.cases.ports import CaseRepository
from ecrm.cases.sla import SlaTimerPayload
from ecrm.cases.writer import CaseWriter
from ecrm.clock import Clock
from ecrm.errors import AlreadyExists, Conflict

Outcome = Literal["applied", "already_applied", "stale", "not_yet_due"]
_ATTEMPTS = 3


class SlaTimerService:
    def __init__(self, writer: CaseWriter, repo: CaseRepository, clock: Clock) -> None:
        self._writer = writer
        self._repo = repo
        self._clock = clock

    def on_timer(self, payload: Mapping[str, Any]) -> Outcome:
        """Handle one fired timer. A payload that is not an SLA timer's raises ValidationError:
        it can never succeed, so it belongs on the dead-letter queue, in plain view."""
        fired = SlaTimerPayload.model_validate(payload)
        for _ in range(_ATTEMPTS):
            case = self._repo.get(fired.case_id)
            if case is None:
                # Never stored (its writer stopped before the write) or gone: nothing to do, nothing
                # to re-create; the timers delete themselves as they fire.
                return "stale"
            now = self._clock.now()
            outcome = self._act(case, decide(case, self._writer.book.governing(case), fired, now), now)
            if outcome is not None:
                return outcome
        raise Conflict("case kept changing while its timer was handled")

    def _act(self, case: Case, decision: Decision, now: datetime) -> Outcome | None:
        if isinstance(decision, Stale):
            return "stale"
        if isinstance(decision, NotYetDue):
            self._writer.resync(case)  # sets the step's timer again, at its time now
            return "not_yet_due"
        if isinstance(decision, AlreadyApplied):
            return "already_applied"
        return self._escalate(case, decision, now)

    def _escalate(self, case: Case, decision: Escalate, now: datetime) -> Outcome | None:
        try:
            self._writer.escalate(case, decision, now)
        except Conflict:
            return None  # somebody changed the case: decide again on what they wrote
        except AlreadyExists:
            return "already_applied"
        return "applied"
