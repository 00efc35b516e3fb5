"""Case intake, work, surveys and queries: the domain services the handlers call."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from ecrm.access import Caller
from ecrm.cases import sla, workflow
from ecrm.cases.change import REQUESTER, SYSTEM_SLA, Change, Edit
from ecrm.cases.metrics import MetricsReport, summarize
from ecrm.cases.models import (
    AgentCaseRequest,
    Case,
    CaseDetail,
    CasePage,
    CasePatch,
    CaseReceipt,
    CaseRequest,
    Comment,
    CommentPage,
    CommentRequest,
    CsatRequest,
    CsatResult,
    HistoryPage,
    IntakeMessage,
    Requester,
    SlaStep,
)
from ecrm.cases.ports import CaseRepository, PolicySource, RequesterDirectory
from ecrm.cases.workflow import Ctx, NewCase
from ecrm.cases.writer import CaseWriter
from ecrm.clock import Clock
from ecrm.contacts.ports import TokenSigner
from ecrm.errors import AlreadyExists, Conflict, InvalidInput, InvalidToken, NotFound

CSAT_PURPOSE = "case-csat"
QueueName = Literal["mine", "team", "breached"]
MAX_PAGE = 100
MAX_WINDOW = timedelta(days=92)
MAX_METRIC_CASES = 5000  # a bounded read: the report says when the window held more
# Without an expected version, an edit re-reads and re-applies on a lost race (a comment, a timer):
# nothing is lost. With one, a lost race is the client's to resolve (409). Eight attempts with a
# little jitter let eight writers racing for one case all get through.
_ATTEMPTS = 8


def jittered_backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311 - jitter, not cryptography


def new_id() -> str:
    return uuid.uuid4().hex


def time_ordered_id(now: datetime, random_hex: str) -> str:
    """32 hex digits that sort by time (milliseconds first): a comment's id is also its place in
    the thread, so the store can key comments by id and still read them in order."""
    return f"{int(now.timestamp() * 1000):012x}{random_hex[:20]}"


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
    return limit


class CaseIntake:
    """New cases from the public form, from agents and from the other channels' queue."""

    def __init__(
        self,
        writer: CaseWriter,
        repo: CaseRepository,
        requesters: RequesterDirectory,
        clock: Clock,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self._writer = writer
        self._repo = repo
        self._requesters = requesters
        self._clock = clock
        self._ids = ids

    def submit_form(self, req: CaseRequest) -> CaseReceipt:
        if req.is_spam:  # answer like success so bots learn nothing; store nothing
            return CaseReceipt(id=self._ids(), created=True)
        requester = Requester(email=req.email, first_name=req.first_name, last_name=req.last_name)
        new = NewCase(
            subject=req.subject,
            description=req.description,
            priority=req.priority,
            channel="web",
            requester_id=self._requesters.find_or_create(requester),
            tags=tuple(req.tags),
        )
        return CaseReceipt(id=self._open(new, REQUESTER).id, created=True)

    def open_for_agent(self, req: AgentCaseRequest, caller: Caller) -> Case:
        requester = Requester(
            email=req.requester_email, first_name=req.requester_first_name, last_name=req.requester_last_name
        )
        new = NewCase(
            subject=req.subject,
            description=req.description,
            priority=req.priority,
            channel="agent",
            requester_id=self._requesters.find_or_create(requester),
            team=req.team,
            assignee_id=req.assignee_id,
            tags=tuple(req.tags),
        )
        return self._open(new, caller.user_id)

    def receive(self, msg: IntakeMessage) -> CaseReceipt:
        """A message from the intake queue. The same (channel, message id) twice makes one case;
        the repeat re-announces it, in case the first delivery stopped after the write (its timers
        were set before the write, so they need nothing)."""
        key = msg.idempotency_key
        if existing := self._repo.find_by_idempotency_key(key):
            return self._repeat(existing)
        new = NewCase(
            subject=msg.subject,
            description=msg.description,
            priority=msg.priority,
            channel=msg.channel,
            requester_id=self._requesters.find_or_create(msg.requester),
            team=msg.team,
            tags=tuple(msg.tags),
        )
        try:
            return CaseReceipt(id=self._open(new, f"channel:{msg.channel}", key).id, created=True)
        except AlreadyExists:  # a concurrent delivery of the same message won
            return self._repeat(self._repo.find_by_idempotency_key(key) or "")

    def _open(self, new: NewCase, actor: str, idempotency_key: str | None = None) -> Case:
        now = self._clock.now()
        ctx = Ctx(now=now, actor=actor, policy=self._writer.book.select(new.team, new.tags))
        change = workflow.open_case(new, self._ids(), self._writer.new_generation(), ctx)
        return self._writer.create(change, idempotency_key)

    def _repeat(self, case_id: str) -> CaseReceipt:
        case = self._repo.get(case_id)
        if case is None:
            raise NotFound("case")
        return CaseReceipt(id=case.id, created=False)  # its CaseCreated committed with it


class CaseWork:
    """Agents working cases. Every change is checked against the version it was made on."""

    def __init__(
        self,
        writer: CaseWriter,
        repo: CaseRepository,
        clock: Clock,
        ids: Callable[[], str] = new_id,
        backoff: Callable[[int], None] = jittered_backoff,
    ) -> None:
        self._writer = writer
        self._repo = repo
        self._clock = clock
        self._ids = ids
        self._backoff = backoff

    def update(self, case_id: str, patch: CasePatch, caller: Caller) -> Case:
        return self._edit(case_id, patch.expected_version, caller.user_id, lambda c, x: workflow.update(c, patch, x))

    def comment(self, case_id: str, req: CommentRequest, caller: Caller) -> Comment:
        comment_id = time_ordered_id(self._clock.now(), self._ids())
        made: list[Comment] = []

        def add(case: Case, ctx: Ctx) -> Change:
            comment = Comment(
                id=comment_id,
                case_id=case.id,
                author_id=caller.user_id,
                visibility=req.visibility,
                body=req.body,
                at=ctx.now,
            )
            made.append(comment)
            return workflow.add_comment(case, comment, ctx)

        self._edit(case_id, req.expected_version, caller.user_id, add)
        return made[-1]

    def solve(self, case_id: str, caller: Caller, expected_version: int | None = None) -> Case:
        return self._edit(case_id, expected_version, caller.user_id, workflow.solve)

    def reopen(self, case_id: str, caller: Caller, expected_version: int | None = None) -> Case:
        return self._edit(case_id, expected_version, caller.user_id, workflow.reopen)

    def recompute(self, case_id: str) -> Case:
        """A new timer plan under the policies as they are now, for a case whose SLA policy was
        edited (phase 2 fans this out over the active cases of the policy's team or tag). The new
        generation makes timers set under the old policy stale, and the plan is set afresh."""
        generation = self._writer.new_generation()

        def renew(case: Case, ctx: Ctx) -> Change | None:
            if not case.active:
                return None
            renewed = case.model_copy(update={"sla": case.sla.model_copy(update={"generation": generation})})
            policy = self._writer.book.for_case(case).id
            edit = Edit("sla_recomputed", {"policy_id": case.sla.policy_id}, {"policy_id": policy})
            return Change(renewed, SYSTEM_SLA, [edit])

        return self._edit(case_id, None, SYSTEM_SLA, renew)

    def _edit(self, case_id: str, expected: int | None, actor: str, rule: Callable[[Case, Ctx], Change | None]) -> Case:
        for attempt in range(_ATTEMPTS):
            case = self._repo.get(case_id)
            if case is None:
                raise NotFound("case")
            if expected is not None and case.version != expected:
                raise Conflict(f"case is at version {case.version}, not {expected}")
            now = self._clock.now()
            change = rule(case, Ctx(now=now, actor=actor, policy=self._writer.book.governing(case)))
            if change is None:
                return case
            try:
                return self._writer.save(case, change, now)
            except Conflict:
                if expected is not None:
                    raise
                self._backoff(attempt)
        raise Conflict("case kept changing while it was being updated")


class CsatSurvey:
    """The requester's answer to the survey mailed on solve: a signed link, one answer per case."""

    def __init__(self, writer: CaseWriter, repo: CaseRepository, signer: TokenSigner, clock: Clock) -> None:
        self._writer = writer
        self._repo = repo
        self._signer = signer
        self._clock = clock

    def rate(self, req: CsatRequest) -> CsatResult:
        claims = self._signer.verify(CSAT_PURPOSE, req.token, self._clock.now())
        case_id = str(claims.get("c"))
        for _ in range(_ATTEMPTS):
            case = self._repo.get(case_id)
            if case is None:
                raise InvalidToken("the case no longer exists")
            now = self._clock.now()
            ctx = Ctx(now=now, actor=REQUESTER, policy=self._writer.book.governing(case))
            change = workflow.rate(case, req.rating, req.comment, ctx)
            try:
                self._writer.save(case, change, now)
            except Conflict:
                continue  # an agent's edit raced the answer: re-read; a second answer is refused there
            return CsatResult(case_id=case.id, rating=req.rating)
        raise Conflict("case kept changing while the rating was recorded")


class CaseQueries:
    def __init__(self, repo: CaseRepository, books: PolicySource) -> None:
        self._repo = repo
        self._books = books

    def get(self, case_id: str) -> Case:
        case = self._repo.get(case_id)
        if case is None:
            raise NotFound("case")
        return case

    def detail(self, case_id: str) -> CaseDetail:
        """The case with the SLA steps still to come and the first page of history and comments."""
        case = self.get(case_id)
        steps = sla.due_steps(case, self._books.current().for_case(case))
        history, history_cursor = self._repo.history(case_id, MAX_PAGE, None)
        comments, comments_cursor = self._repo.comments(case_id, MAX_PAGE, None)
        return CaseDetail(
            **case.model_dump(),
            sla_steps=[SlaStep(milestone=s.milestone, cycle=s.cycle, step=s.step, at=s.at) for s in steps],
            history=history,
            history_cursor=history_cursor,
            comments=comments,
            comments_cursor=comments_cursor,
        )

    def metrics(self, since: datetime, until: datetime) -> MetricsReport:
        """Breach rate, median business times and CSAT over the cases solved in [since, until)."""
        if since.tzinfo is None or until.tzinfo is None:
            raise InvalidInput("since", "give times with a time zone (e.g. 2026-06-01T00:00:00Z)")
        if not since < until <= since + MAX_WINDOW:
            raise InvalidInput("until", f"must be after `since` and at most {MAX_WINDOW.days} days later")
        cases, complete = self._repo.solved_between(since, until, MAX_METRIC_CASES)
        return MetricsReport(since=since, until=until, complete=complete, **summarize(cases).model_dump())

    def queue(
        self, name: QueueName, caller: Caller, team: str | None = None, limit: int = 25, cursor: str | None = None
    ) -> CasePage:
        """A work queue by name: the caller's cases, a team's (`team` required), or the breached ones."""
        if name == "team":
            if team is None:
                raise InvalidInput("team", "name the team whose queue to list")
            return self.team_queue(team, limit, cursor)
        if name == "breached":
            return self.breached(limit, cursor)
        return self.mine(caller, limit, cursor)

    def mine(self, caller: Caller, limit: int = 25, cursor: str | None = None) -> CasePage:
        items, next_cursor = self._repo.list_assigned(caller.user_id, _limit(limit), cursor)
        return CasePage(items=items, next_cursor=next_cursor)

    def team_queue(self, team: str, limit: int = 25, cursor: str | None = None) -> CasePage:
        items, next_cursor = self._repo.list_team(team, _limit(limit), cursor)
        return CasePage(items=items, next_cursor=next_cursor)

    def breached(self, limit: int = 25, cursor: str | None = None) -> CasePage:
        items, next_cursor = self._repo.list_breached(_limit(limit), cursor)
        return CasePage(items=items, next_cursor=next_cursor)

    def history(self, case_id: str, limit: int = 50, cursor: str | None = None) -> HistoryPage:
        self.get(case_id)
        items, next_cursor = self._repo.history(case_id, _limit(limit), cursor)
        return HistoryPage(items=items, next_cursor=next_cursor)

    def comments(self, case_id: str, limit: int = 50, cursor: str | None = None) -> CommentPage:
        self.get(case_id)
        items, next_cursor = self._repo.comments(case_id, _limit(limit), cursor)
        return CommentPage(items=items, next_cursor=next_cursor)


def survey_token(signer: TokenSigner, case_id: str, expires_at: datetime) -> str:
    return signer.sign(CSAT_PURPOSE, {"c": case_id}, expires_at)
