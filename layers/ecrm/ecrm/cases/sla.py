"""The SLA clock and the timer plan it implies.

Each milestone keeps the business time it has used (`consumed`) and, while it runs, the instant it
last started (`running_since`). Every deadline is recomputed from that state and the policy, so
pausing, resuming, a new priority or a new policy all take effect by recomputing; nothing is
counted down in place. A milestone has steps: the warning (step 0, at `warning_fraction` of the
target) and escalation levels 1..n (level 1 at the target, level n at the target plus the
ladder's `after_breach`). Each step still to come is one timer, named by (case, milestone, step)
and the case's timer generation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from pydantic import ConfigDict, Field

from ecrm.cases.calendar import ZERO, BusinessCalendar
from ecrm.cases.models import MILESTONES, Case, Milestone, MilestoneClock, SlaState, Status
from ecrm.cases.policy import PolicyBook, SlaPolicy
from ecrm.model import Model
from ecrm.timers import Timer, timer_name

RUNNING: frozenset[Status] = frozenset({"new", "open"})  # pending and on_hold pause; solved, closed stop
TIMER_KIND: Final = "case.sla"
GENERATION_PATTERN: Final = r"^[0-9a-f]{8,32}$"


def new_generation() -> str:
    return secrets.token_hex(4)


def start(policy_id: str, now: datetime, generation: str) -> SlaState:
    clocks = {m: MilestoneClock(running_since=now) for m in MILESTONES}
    return SlaState(policy_id=policy_id, generation=generation, clocks=clocks)


def used(clock: MilestoneClock, calendar: BusinessCalendar, now: datetime) -> timedelta:
    """Business time the milestone has used so far."""
    if clock.running_since is None:
        return clock.consumed
    return clock.consumed + calendar.elapsed(clock.running_since, now)


def _stop(clock: MilestoneClock, calendar: BusinessCalendar, now: datetime) -> MilestoneClock:
    return clock.model_copy(update={"consumed": used(clock, calendar, now), "running_since": None})


def _map(state: SlaState, change: dict[Milestone, MilestoneClock]) -> SlaState:
    return state.model_copy(update={"clocks": {**state.clocks, **change}})


def rebase(state: SlaState, calendar: BusinessCalendar, now: datetime, policy_id: str) -> SlaState:
    """Fold the running time into `consumed` under the calendar that has governed it so far, before
    a different policy (and calendar) takes over."""
    running = {m: c for m, c in state.clocks.items() if c.running_since is not None}
    folded = {m: _stop(c, calendar, now).model_copy(update={"running_since": now}) for m, c in running.items()}
    return _map(state, folded).model_copy(update={"policy_id": policy_id})


def on_status(state: SlaState, before: Status, after: Status, calendar: BusinessCalendar, now: datetime) -> SlaState:
    """Pause the unmet clocks when the case leaves new/open, resume them when it comes back."""
    was, runs = before in RUNNING, after in RUNNING
    unmet = {m: c for m, c in state.clocks.items() if c.met_at is None}
    if was and not runs:
        return _map(state, {m: _stop(c, calendar, now) for m, c in unmet.items()})
    if runs and not was:
        return _map(state, {m: c.model_copy(update={"running_since": now}) for m, c in unmet.items()})
    return state


def meet(
    state: SlaState, milestone: Milestone, calendar: BusinessCalendar, now: datetime, target: timedelta | None
) -> SlaState:
    """Mark the milestone met now. A target missed without its breach timer having fired (a lost
    or late timer) still counts as breached."""
    clock = state.clocks[milestone]
    if clock.met_at is not None:
        return state
    stopped = _stop(clock, calendar, now)
    late = target is not None and stopped.consumed > target
    return _map(state, {milestone: stopped.model_copy(update={"met_at": now, "breached": clock.breached or late})})


def reopen(state: SlaState, now: datetime) -> SlaState:
    """Fresh clocks for every milestone not met, and for resolution: a new cycle from zero, so a
    reopened case is not escalated for the time it spent solved."""
    fresh = {
        m: MilestoneClock(cycle=c.cycle + 1, running_since=now)
        for m, c in state.clocks.items()
        if m == "resolution" or c.met_at is None
    }
    return _map(state, fresh)


# --- the timer plan ----------------------------------------------------------------------------


def step_label(step: int) -> str:
    return "warning" if step == 0 else f"level-{step}"


@dataclass(frozen=True)
class DueStep:
    milestone: Milestone
    cycle: int
    step: int
    at: datetime


_SHORT: dict[Milestone, str] = {"first_response": "fr", "resolution": "res"}


def sla_timer_name(case_id: str, milestone: Milestone, step: int, generation: str) -> str:
    """E.g. `case-<id>-fr-w-<generation>`, `case-<id>-res-l2-<generation>`. The generation is part
    of the name, so a new plan's timers never move an old plan's: whatever order two writers' timer
    calls land in, each timer fires with the payload it was set with."""
    return timer_name("case", case_id, _SHORT[milestone], "w" if step == 0 else f"l{step}", generation)


def is_applied(clock: MilestoneClock, step: int) -> bool:
    """Steps only move forward: once a level is applied, the warning and lower levels are moot."""
    if step == 0:
        return clock.warned or clock.level > 0
    return clock.level >= step


def _offset(policy: SlaPolicy, target: timedelta, step: int) -> timedelta | None:
    """Business time from the milestone's start to the step."""
    if step == 0:
        return target * policy.warning_fraction if policy.warning_fraction else None
    if step > len(policy.escalation.levels):
        return None
    return target + policy.escalation.level(step).after_breach


def step_at(case: Case, policy: SlaPolicy, milestone: Milestone, step: int) -> datetime | None:
    """When the step comes due, or None if it is not planned (met, paused, no target, no such step)."""
    clock = case.sla.clocks[milestone]
    target = policy.target(case.priority, milestone)
    if clock.met_at is not None or clock.running_since is None or target is None:
        return None
    offset = _offset(policy, target, step)
    if offset is None:
        return None
    return policy.calendar.add(clock.running_since, max(offset - clock.consumed, ZERO))


def due_steps(case: Case, policy: SlaPolicy) -> list[DueStep]:
    """Every step still to come, for every running milestone: the case's timer plan."""
    plan = []
    for milestone, clock in case.sla.clocks.items():
        for step in range(len(policy.escalation.levels) + 1):
            at = None if is_applied(clock, step) else step_at(case, policy, milestone, step)
            if at is not None:
                plan.append(DueStep(milestone, clock.cycle, step, at))
    return plan


def deadline(case: Case, policy: SlaPolicy, milestone: Milestone) -> datetime | None:
    """The milestone's breach instant while its clock runs (it may lie in the past)."""
    return step_at(case, policy, milestone, 1)


def next_deadline(case: Case, policy: SlaPolicy) -> datetime | None:
    deadlines = [d for d in (deadline(case, policy, m) for m in case.sla.clocks) if d is not None]
    return min(deadlines, default=None)


class SlaTimerPayload(Model):
    """What an SLA timer delivers to the timer queue: which step of which milestone in which cycle,
    and the case's timer generation when it was set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["case.sla"] = TIMER_KIND
    case_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    milestone: Milestone
    cycle: int = Field(ge=1)
    step: int = Field(ge=0)
    generation: str = Field(pattern=GENERATION_PATTERN)


def plan(case: Case, policy: SlaPolicy) -> list[Timer]:
    """The timers the case should have now, under its current generation."""
    generation = case.sla.generation
    return [
        Timer(
            name=sla_timer_name(case.id, due.milestone, due.step, generation),
            at=due.at,
            payload=SlaTimerPayload(
                case_id=case.id, milestone=due.milestone, cycle=due.cycle, step=due.step, generation=generation
            ).model_dump(mode="json"),
        )
        for due in due_steps(case, policy)
    ]


def _keys(steps: list[DueStep]) -> set[tuple[Milestone, int, int, datetime]]:
    return {(d.milestone, d.cycle, d.step, d.at) for d in steps}


def replan(before: Case | None, after: Case, book: PolicyBook, now: datetime, generation: str) -> Case:
    """Bring `after`'s SLA state up to date with the change from `before` (None: a new case, whose
    clocks started with a generation of their own).

    A new policy (the case moved team or changed tags) first folds the running time into the
    clocks under the old calendar. When a step is planned that `before`'s plan did not have at that
    time (a new priority, a resume, a reopen), the case takes the new `generation` (a fresh random
    token): its timers are then set anew and the old ones become stale. A plan that only lost steps
    (one applied, a milestone met, a clock paused) keeps the generation: its remaining timers stand,
    the lost ones are cancelled, and comments and assignments touch no timer at all.
    """
    policy = book.for_case(after)
    if after.sla.policy_id != policy.id:
        after = after.model_copy(update={"sla": rebase(after.sla, book.governing(after).calendar, now, policy.id)})
    if before is not None and not _keys(due_steps(after, policy)) <= _keys(due_steps(before, book.governing(before))):
        after = after.model_copy(update={"sla": after.sla.model_copy(update={"generation": generation})})
    return after.model_copy(update={"next_deadline": next_deadline(after, policy)})


@dataclass(frozen=True)
class Arming:
    set: list[Timer]
    cancel: list[str]


def arming(before: Case | None, after: Case, book: PolicyBook) -> Arming:
    """The timer calls that take the case from `before`'s plan to `after`'s. Same generation: the
    plan only lost steps, so cancel their timers. New generation: set every timer of the new plan
    and cancel every one of the old. Needs only the two stored images."""
    new = plan(after, book.for_case(after))
    old = plan(before, book.governing(before)) if before else []
    if before is not None and before.sla.generation == after.sla.generation:
        kept = {t.name for t in new}
        return Arming([], [t.name for t in old if t.name not in kept])
    return Arming(new, [t.name for t in old])
