"""Case models: what customers, agents and channels may send, what a case holds, and what we answer."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field, StringConstraints

from ecrm.model import Model
from ecrm.types import ContactId, Email, PlainText, Tag, Tags, Url

Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
Channel = Literal["web", "agent", "email", "chat", "partner"]
InboundChannel = Literal["email", "chat", "partner"]  # the channels that arrive on the intake queue
Milestone = Literal["first_response", "resolution"]
Visibility = Literal["public", "internal"]

PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
MILESTONES: tuple[Milestone, ...] = ("first_response", "resolution")
ACTIVE: frozenset[Status] = frozenset({"new", "open", "pending", "on_hold"})

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _no_control(value: str) -> str:
    # Line breaks belong in a description; anything else below 0x20 is an attack or a broken client.
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


CaseId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
# A subject becomes a mail subject line: header-safe (PlainText), no markup.
Subject = Annotated[PlainText, StringConstraints(min_length=1)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000), AfterValidator(_no_control)
]
Body = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000), AfterValidator(_no_control)
]
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@:+-]{1,128}$")]
Team = Annotated[str, BeforeValidator(_lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
MessageId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=r"^[^\s]+$")]
FormId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


# --- SLA clock state, kept on the case -------------------------------------------------------


class MilestoneClock(Model):
    """One milestone's SLA clock. Business time is counted in `consumed` up to `running_since`;
    while running, the time since then counts too. Paused (pending, on hold) or stopped clocks
    have no `running_since`. A reopen starts a new `cycle` with everything else fresh."""

    model_config = ConfigDict(frozen=True)

    cycle: int = Field(default=1, ge=1)
    consumed: timedelta = timedelta(0)
    running_since: AwareDatetime | None = None
    met_at: AwareDatetime | None = None
    breached: bool = False
    warned: bool = False
    level: int = Field(default=0, ge=0, description="highest escalation level applied in this cycle")


class SlaState(Model):
    model_config = ConfigDict(frozen=True)

    policy_id: str
    # A fresh random token whenever the case's timer plan changes; timers carry it in their name and
    # payload, so a timer of an earlier plan is plainly stale when it fires.
    generation: str = Field(pattern=r"^[0-9a-f]{8,32}$")
    clocks: dict[Milestone, MilestoneClock]


# --- the case and what hangs off it ----------------------------------------------------------


class CsatRating(Model):
    model_config = ConfigDict(frozen=True)

    rating: int = Field(ge=1, le=5)
    comment: str | None = None
    at: AwareDatetime


class Case(Model):
    id: CaseId
    subject: str
    description: str
    priority: Priority
    status: Status
    channel: Channel
    requester_id: ContactId
    assignee_id: str | None = None
    team: str | None = None
    tags: list[str] = Field(default_factory=list)
    escalation_level: int = Field(default=0, ge=0)
    sla: SlaState
    next_deadline: AwareDatetime | None = None
    first_response_at: AwareDatetime | None = None
    solved_at: AwareDatetime | None = None
    csat: CsatRating | None = None
    requester_erased_at: AwareDatetime | None = Field(
        default=None, description="the requester was erased: subject, description and comments are redacted"
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime
    version: int = Field(default=1, ge=1)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def in_breach(self) -> bool:
        """A milestone of the current cycle is past its deadline and still not met."""
        return self.active and any(c.breached and c.met_at is None for c in self.sla.clocks.values())

    @property
    def queue_key(self) -> str:
        """Sort key of the work queues: the next deadline first, cases without one (paused) last."""
        deadline = self.next_deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if self.next_deadline else "~"
        return f"{deadline}#{self.id}"


class Comment(Model):
    model_config = ConfigDict(frozen=True)

    id: str
    case_id: str
    author_id: str
    visibility: Visibility
    body: str
    at: AwareDatetime


class AuditEntry(Model):
    """One line of a case's append-only history: who did what when, and the fields before and after.

    `version` is the case version the change produced and `seq` its place within that change, so
    (version, seq) orders the history and no two writers can produce the same entry."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    version: int
    seq: int
    at: AwareDatetime
    actor: str  # a user id, "requester", "channel:<name>" or "system:sla"
    action: str
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    detail: dict[str, Any] = Field(default_factory=dict)  # context: a comment id, an escalation's milestone


class EscalationRecord(Model):
    """The business key of an applied SLA step: one per case, milestone, cycle and step, written in
    the same transaction as the case, so a step is applied once however often its timer fires."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    milestone: Milestone
    cycle: int
    step: int  # 0 = warning, n = escalation level n
    due_at: AwareDatetime
    applied_at: AwareDatetime
    notify: list[str] = Field(default_factory=list)  # audiences: assignee, team_lead, management
    team: str | None = None  # whose lead is told: the team before any move
    priority: Priority  # the case's priority once the step was applied
    announced_at: AwareDatetime | None = None

    @property
    def key(self) -> str:
        return escalation_key(self.milestone, self.cycle, self.step)


def escalation_key(milestone: Milestone, cycle: int, step: int) -> str:
    return f"{milestone}#{cycle}#{step}"


# --- requests ----------------------------------------------------------------------------------


class CaseRequest(Model):
    """The public "contact support" form. Field names are what an HTML form posts."""

    model_config = ConfigDict(extra="forbid", str_max_length=20000)

    email: Email
    first_name: PlainText | None = None
    last_name: PlainText | None = None
    subject: Subject
    description: Description
    priority: Priority = Field(default="normal", description="the form may offer it; agents can change it")
    tags: Tags = Field(default_factory=list)
    form_id: FormId | None = None
    page_url: Url | None = None
    website: str | None = Field(default=None, max_length=500, description="honeypot: humans leave it empty")
    redirect: Url | None = None

    @property
    def is_spam(self) -> bool:
        return bool(self.website and self.website.strip())


class AgentCaseRequest(Model):
    """POST /cases by a signed-in agent, on a requester's behalf (a phone call, a walk-in)."""

    model_config = ConfigDict(extra="forbid")

    requester_email: Email
    requester_first_name: PlainText | None = None
    requester_last_name: PlainText | None = None
    subject: Subject
    description: Description
    priority: Priority = "normal"
    team: Team | None = None
    assignee_id: UserId | None = None
    tags: Tags = Field(default_factory=list)


class Requester(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Email
    first_name: PlainText | None = None
    last_name: PlainText | None = None


class IntakeMessage(Model):
    """A message on the intake queue from another channel (e-mail-to-case, chat, a partner system).

    `message_id` is the channel's own id for the message: a redelivery, or the channel sending the
    same message twice, finds the case made the first time instead of making a second one."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    channel: InboundChannel
    message_id: MessageId
    requester: Requester
    subject: Subject
    description: Description
    priority: Priority = "normal"
    team: Team | None = None
    tags: Tags = Field(default_factory=list)

    @property
    def idempotency_key(self) -> str:
        return f"{self.channel}#{self.message_id}"


class CasePatch(Model):
    """PATCH /cases/{id}: set the fields given. `expected_version` is required: an edit made on a
    stale copy is refused (409) rather than silently undoing somebody else's change."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority | None = None
    status: Status | None = None
    assignee_id: UserId | None = None  # null unassigns (only when given)
    team: Team | None = None  # null leaves the team queue (only when given)
    add_tags: Tags = Field(default_factory=list)
    remove_tags: Tags = Field(default_factory=list)
    expected_version: int = Field(ge=1)


class CommentRequest(Model):
    model_config = ConfigDict(extra="forbid")

    body: Body
    visibility: Visibility = "internal"
    expected_version: int | None = Field(default=None, ge=1)


class CsatRequest(Model):
    """The survey form behind the signed link in the solve mail."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


# --- answers -----------------------------------------------------------------------------------


class CaseReceipt(Model):
    id: str
    created: bool


class SlaStep(Model):
    """A step still to come on the case's SLA clock: the warning or an escalation level."""

    milestone: Milestone
    cycle: int
    step: int = Field(description="0 = warning, n = escalation level n")
    at: AwareDatetime


class CaseDetail(Case):
    """GET /cases/{id}: the case, the SLA steps still to come, and the first page of its history
    and comments (the rest through /history and /comments with the cursors)."""

    sla_steps: list[SlaStep]
    history: list[AuditEntry]
    history_cursor: str | None = None
    comments: list[Comment]
    comments_cursor: str | None = None


class CasePage(Model):
    items: list[Case]
    next_cursor: str | None = None


class HistoryPage(Model):
    items: list[AuditEntry]
    next_cursor: str | None = None


class CommentPage(Model):
    items: list[Comment]
    next_cursor: str | None = None


class CsatResult(Model):
    case_id: str
    rating: int


RECOMPUTE_KIND: Final = "cases.recompute"


class RecomputeRequest(Model):
    """A message on the recompute queue: replan the active cases of one priority (of one team, with
    one tag, if given), a page at a time from `cursor`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["cases.recompute"] = RECOMPUTE_KIND
    book_version: int = Field(ge=0)
    priority: Priority
    team: Team | None = None
    tag: Tag | None = None
    cursor: str | None = Field(default=None, max_length=2000)


class StaffConfig(Model):
    """Team leads and management, as admins set them; `version` 0 until first saved."""

    model_config = ConfigDict(frozen=True)

    team_leads: dict[str, str] = Field(default_factory=dict, description="team -> the lead's e-mail address")
    management: list[str] = Field(default_factory=list)
    version: int = Field(default=0, ge=0)
