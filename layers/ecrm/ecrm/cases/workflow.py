"""Pure rules for working a case: opening, editing, the status machine, comments, solve, reopen, rating.

Each rule takes the case as it is and returns a Change (the new case, audit lines, comments and
events) or None when nothing would change. Version, timers and storage are the service's business.

Status machine (reopen is solved -> open; closed is final):

    new -> open | pending | on_hold | solved
    open | pending | on_hold -> any other of the three | solved
    solved -> open (reopen) | closed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ecrm.cases import sla
from ecrm.cases.change import REQUESTER, Change, Edit
from ecrm.cases.events import CaseCommented, CaseCreated, CaseRated, CaseSolved
from ecrm.cases.models import (
    Case,
    CasePatch,
    Channel,
    Comment,
    CsatRating,
    Priority,
    Status,
)
from ecrm.cases.policy import SlaPolicy
from ecrm.errors import Conflict, InvalidInput

TRANSITIONS: dict[Status, frozenset[Status]] = {
    "new": frozenset({"open", "pending", "on_hold", "solved"}),
    "open": frozenset({"pending", "on_hold", "solved"}),
    "pending": frozenset({"open", "on_hold", "solved"}),
    "on_hold": frozenset({"open", "pending", "solved"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}


@dataclass(frozen=True)
class Ctx:
    now: datetime
    actor: str
    policy: SlaPolicy  # the policy the case's clocks have run under so far


@dataclass(frozen=True)
class NewCase:
    subject: str
    description: str
    priority: Priority
    channel: Channel
    requester_id: str
    team: str | None = None
    assignee_id: str | None = None
    tags: tuple[str, ...] = ()


def open_case(new: NewCase, case_id: str, generation: str, ctx: Ctx) -> Change:
    case = Case(
        id=case_id,
        subject=new.subject,
        description=new.description,
        priority=new.priority,
        status="new",
        channel=new.channel,
        requester_id=new.requester_id,
        assignee_id=new.assignee_id,
        team=new.team,
        tags=sorted(set(new.tags)),
        sla=sla.start(ctx.policy.id, ctx.now, generation),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    fields = ("subject", "priority", "status", "channel", "team", "assignee_id", "tags")
    created = Edit("created", after=case.model_dump(mode="json", include=set(fields)))
    return Change(case, ctx.actor, [created], events=[created_event(case)])


def created_event(case: Case) -> CaseCreated:
    return CaseCreated(
        occurred_at=case.created_at,
        case_id=case.id,
        channel=case.channel,
        priority=case.priority,
        team=case.team,
        requester_id=case.requester_id,
    )


def _set(case: Case, ctx: Ctx, action: str, **values: object) -> Change | None:
    before = {k: getattr(case, k) for k in values}
    if before == values:
        return None
    return Change(case.model_copy(update=values), ctx.actor, [Edit(action, before=before, after=dict(values))])


def update(case: Case, patch: CasePatch, ctx: Ctx) -> Change | None:
    """Apply a PATCH: priority, assignment, team, tags, then status (so the status rules see the
    new priority). None when every field already has the value asked for."""
    given = patch.model_fields_set
    steps: list[Callable[[Case], Change | None]] = []
    if patch.priority is not None:
        steps.append(lambda c: _set(c, ctx, "priority_changed", priority=patch.priority))
    if "assignee_id" in given:
        steps.append(lambda c: _set(c, ctx, "assigned", assignee_id=patch.assignee_id))
    if "team" in given:
        steps.append(lambda c: _set(c, ctx, "team_changed", team=patch.team))
    if patch.add_tags or patch.remove_tags:
        steps.append(lambda c: _retag(c, patch, ctx))
    if patch.status is not None:
        status = patch.status
        steps.append(lambda c: change_status(c, status, ctx))
    return _chain(case, ctx, steps)


def _chain(case: Case, ctx: Ctx, steps: list[Callable[[Case], Change | None]]) -> Change | None:
    change = Change(case, ctx.actor)
    for step in steps:
        change = change.then(step(change.case))
    return change if change.edits else None


def _retag(case: Case, patch: CasePatch, ctx: Ctx) -> Change | None:
    tags = sorted((set(case.tags) | set(patch.add_tags)) - set(patch.remove_tags))
    return _set(case, ctx, "tags_changed", tags=tags)


def change_status(case: Case, to: Status, ctx: Ctx) -> Change | None:
    if to == case.status:
        return None
    if to not in TRANSITIONS[case.status]:
        raise InvalidInput("status", f"a {case.status} case cannot become {to}", status=409)
    if to == "solved":
        return solve(case, ctx)
    if case.status == "solved" and to == "open":
        return reopen(case, ctx)
    clocks = sla.on_status(case.sla, case.status, to, ctx.policy.calendar, ctx.now)
    moved = case.model_copy(update={"status": to, "sla": clocks})
    return Change(moved, ctx.actor, [Edit("status_changed", {"status": case.status}, {"status": to})])


def solve(case: Case, ctx: Ctx) -> Change:
    if "solved" not in TRANSITIONS[case.status]:
        raise InvalidInput("status", f"a {case.status} case cannot be solved", status=409)
    target = ctx.policy.target(case.priority, "resolution")
    clocks = sla.meet(case.sla, "resolution", ctx.policy.calendar, ctx.now, target)
    clocks = sla.on_status(clocks, case.status, "solved", ctx.policy.calendar, ctx.now)
    solved = case.model_copy(update={"status": "solved", "sla": clocks, "solved_at": ctx.now})
    edit = Edit("solved", {"status": case.status, "solved_at": None}, {"status": "solved", "solved_at": ctx.now})
    resolution = clocks.clocks["resolution"]
    event = CaseSolved(
        occurred_at=ctx.now,
        case_id=case.id,
        cycle=resolution.cycle,
        resolution_seconds=resolution.consumed.total_seconds(),
    )
    return Change(solved, ctx.actor, [edit], events=[event])


def reopen(case: Case, ctx: Ctx) -> Change:
    """Back to open with fresh SLA clocks and escalation level 0: the time a case spent solved does
    not count against anyone, and the new cycle's timers start from now."""
    if case.status != "solved":
        raise InvalidInput("status", f"only a solved case can be reopened, this one is {case.status}", status=409)
    reopened = case.model_copy(
        update={"status": "open", "sla": sla.reopen(case.sla, ctx.now), "solved_at": None, "escalation_level": 0}
    )
    before = {"status": "solved", "solved_at": case.solved_at, "escalation_level": case.escalation_level}
    edit = Edit("reopened", before, {"status": "open", "solved_at": None, "escalation_level": 0})
    return Change(reopened, ctx.actor, [edit])


def add_comment(case: Case, comment: Comment, ctx: Ctx) -> Change:
    """A public reply goes to the requester; the first one meets the first-response milestone and
    moves a new case to open. An internal note changes nothing else."""
    if comment.visibility == "public" and case.status == "closed":
        raise InvalidInput("visibility", "a closed case takes internal notes only", status=409)
    detail = {"comment_id": comment.id}
    answered = _first_response(case, ctx) if comment.visibility == "public" else None
    met = answered is not None and case.first_response_at is None
    took = answered.case.sla.clocks["first_response"].consumed.total_seconds() if answered and met else None
    change = Change(
        case,
        ctx.actor,
        [Edit("commented", after={"visibility": comment.visibility}, detail=detail)],
        comments=[comment],
        events=[_commented(case, comment, ctx.now, took)],
    )
    return change.then(answered)


def _commented(case: Case, comment: Comment, now: datetime, first_response: float | None) -> CaseCommented:
    return CaseCommented(
        occurred_at=now,
        case_id=case.id,
        comment_id=comment.id,
        visibility=comment.visibility,
        first_response_seconds=first_response,
    )


def _first_response(case: Case, ctx: Ctx) -> Change | None:
    change = None
    if case.first_response_at is None:
        target = ctx.policy.target(case.priority, "first_response")
        clocks = sla.meet(case.sla, "first_response", ctx.policy.calendar, ctx.now, target)
        answered = case.model_copy(update={"first_response_at": ctx.now, "sla": clocks})
        edit = Edit("first_response", {"first_response_at": None}, {"first_response_at": ctx.now})
        change = Change(answered, ctx.actor, [edit])
    base = change.case if change else case
    if base.status == "new":
        opened = change_status(base, "open", ctx)
        return opened if change is None else change.then(opened)
    return change


def rate(case: Case, rating: int, comment: str | None, ctx: Ctx) -> Change:
    """Record the requester's survey answer. One answer per case: a second is refused."""
    if case.csat is not None:
        raise Conflict("this case has been rated already")
    csat = CsatRating(rating=rating, comment=comment, at=ctx.now)
    rated = case.model_copy(update={"csat": csat})
    edit = Edit("rated", {"csat": None}, {"rating": rating})
    event = CaseRated(occurred_at=ctx.now, case_id=case.id, rating=rating)
    return Change(rated, REQUESTER, [edit], events=[event])
