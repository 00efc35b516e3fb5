"""What an SLA timer firing does to a case: a pure decision, applied by the timer service.

A timer payload names (case, milestone, cycle, step) and the case's timer generation when it was
set. The decision, in order:

1. the step is applied already in that cycle -> AlreadyApplied (a double fire, a redelivery);
2. the cycle or generation is not the case's -> Stale (the case changed since, or the writer that
   set the timer never stored its change: the case's own timers were set before it was written,
   so this one is dropped and nothing is re-created from it);
3. the step is no longer planned (milestone met, clock paused, target gone) -> Stale;
4. recomputed from the case, the step is not due yet -> NotYetDue (an early fire; set it again);
5. otherwise -> Escalate: the step is applied, together with any lower level that is due and not
   yet applied (levels are applied in order, each exactly once; a warning is moot after a breach).

Exactly once is enforced when the change is stored: the case is written only at the version it was
read at, together with one record per applied step that must not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecrm.cases import sla
from ecrm.cases.change import SYSTEM_SLA, Change, Edit
from ecrm.cases.events import CaseEscalated, CaseEvent, SlaBreached, SlaWarning
from ecrm.cases.models import Case, EscalationRecord, Milestone, Priority, escalation_key
from ecrm.cases.policy import Action, SlaPolicy
from ecrm.cases.sla import SlaTimerPayload

# Scheduler fires at or after the time; a Lambda clock a little behind must not call that early.
TOLERANCE = timedelta(seconds=5)
RAISED: dict[Priority, Priority] = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}
AUDIENCES: dict[Action, str] = {
    "notify_assignee": "assignee",
    "notify_team_lead": "team_lead",
    "notify_management": "management",
}


@dataclass(frozen=True)
class Stale:
    reason: str


@dataclass(frozen=True)
class AlreadyApplied:
    keys: tuple[str, ...]  # records of the steps up to the fired one, to re-announce if unannounced


@dataclass(frozen=True)
class NotYetDue:
    at: datetime


@dataclass(frozen=True)
class Escalate:
    change: Change
    records: tuple[EscalationRecord, ...]


Decision = Stale | AlreadyApplied | NotYetDue | Escalate


def decide(case: Case, policy: SlaPolicy, fired: SlaTimerPayload, now: datetime) -> Decision:
    clock = case.sla.clocks[fired.milestone]
    if fired.cycle == clock.cycle and sla.is_applied(clock, fired.step):
        keys = tuple(escalation_key(fired.milestone, fired.cycle, s) for s in range(fired.step + 1))
        return AlreadyApplied(keys)
    if fired.cycle != clock.cycle or fired.generation != case.sla.generation:
        return Stale("the timer belongs to another generation or cycle of the case")
    at = sla.step_at(case, policy, fired.milestone, fired.step)
    if at is None:
        return Stale("the step is no longer planned")
    if at > now + TOLERANCE:
        return NotYetDue(at)
    return escalate(case, policy, fired.milestone, fired.step, now)


def escalate(case: Case, policy: SlaPolicy, milestone: Milestone, step: int, now: datetime) -> Escalate:
    """Apply `step` and every lower level not applied yet, in order."""
    clock = case.sla.clocks[milestone]
    steps = [0] if step == 0 else list(range(clock.level + 1, step + 1))
    # Due times come from the case as it was: a raised priority must not move the levels it caused.
    due = {s: sla.step_at(case, policy, milestone, s) or now for s in steps}
    change = Change(case, SYSTEM_SLA)
    records = []
    for s in steps:
        applied, record = (
            _warn(change.case, milestone, due[s], now)
            if s == 0
            else _level(change.case, policy, milestone, s, due[s], now)
        )
        change = change.then(applied)
        records.append(record)
    return Escalate(change, tuple(records))


def _with_clock(case: Case, milestone: Milestone, **updates: Any) -> Case:
    clock = case.sla.clocks[milestone].model_copy(update=updates)
    return case.model_copy(
        update={"sla": case.sla.model_copy(update={"clocks": {**case.sla.clocks, milestone: clock}})}
    )


def _record(case: Case, milestone: Milestone, step: int, due: datetime, now: datetime, **kw: Any) -> EscalationRecord:
    cycle = case.sla.clocks[milestone].cycle
    return EscalationRecord(
        case_id=case.id, milestone=milestone, cycle=cycle, step=step, due_at=due, applied_at=now, **kw
    )


def _warn(case: Case, milestone: Milestone, due: datetime, now: datetime) -> tuple[Change, EscalationRecord]:
    record = _record(case, milestone, 0, due, now, notify=["assignee"], team=case.team, priority=case.priority)
    edit = Edit("sla_warning", detail={"milestone": milestone, "cycle": record.cycle, "due_at": due.isoformat()})
    warned = _with_clock(case, milestone, warned=True)
    return Change(warned, SYSTEM_SLA, [edit], events=announce(record)), record


def _level(
    case: Case, policy: SlaPolicy, milestone: Milestone, number: int, due: datetime, now: datetime
) -> tuple[Change, EscalationRecord]:
    actions = policy.escalation.level(number).actions
    updates: dict[str, Any] = {"escalation_level": max(case.escalation_level, number)}
    if "move_to_escalation_team" in actions:
        updates["team"] = policy.escalation.escalation_team
    if "raise_priority" in actions:
        updates["priority"] = RAISED[case.priority]
    before = {k: getattr(case, k) for k in updates}
    changed = {k: v for k, v in updates.items() if before[k] != v}
    escalated = _with_clock(case, milestone, level=number, breached=True).model_copy(update=changed)
    notify = [AUDIENCES[a] for a in actions if a in AUDIENCES]
    record = _record(case, milestone, number, due, now, notify=notify, team=case.team, priority=escalated.priority)
    detail = {"milestone": milestone, "cycle": record.cycle, "level": number, "notify": notify}
    edit = Edit("escalated", {k: before[k] for k in changed}, changed, detail)
    return Change(escalated, SYSTEM_SLA, [edit], events=announce(record)), record


def announce(record: EscalationRecord) -> list[CaseEvent]:
    """The events of an applied step, from its record alone, so a step applied but never announced
    (the publish failed) is announced later exactly as it would have been."""
    common = {"occurred_at": record.applied_at, "case_id": record.case_id, "milestone": record.milestone}
    common |= {"cycle": record.cycle, "due_at": record.due_at}
    if record.step == 0:
        return [SlaWarning(**common, notify=record.notify)]
    escalated = CaseEscalated(
        **common, level=record.step, notify=record.notify, team=record.team, priority=record.priority
    )
    return [SlaBreached(**common), escalated] if record.step == 1 else [escalated]
