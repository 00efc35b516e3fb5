"""Journeys: what a marketer saves (a versioned definition), what the API answers, and what is
stored for each contact on its way through one (its `Progress`).

A definition is JSON: an entry event with a filter and rules, goal events, and steps. Each step
has an `id` and a `type`; a step goes on to its `next` (by default the step after it in the list;
the last step, or `exit`, ends the journey). The checks that need more than one step at a time
(references, reachability, cycles, templates, fields) are `ecrm.journeys.definitions.check`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from ecrm.model import Model
from ecrm.types import ContactId

StepId = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
JourneyId = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9a-f]{32}$")]
DetailTypeName = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z][A-Za-z0-9 ]{0,59}(\.v[0-9]+)?$")]
FilterKey = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{0,39}(\.[a-z][a-z0-9_]{0,39}){0,3}$")
]
Scalar = Annotated[str, StringConstraints(strict=True, max_length=200)] | StrictInt | StrictBool
Label = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")]
TagName = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]

MAX_STEPS = 50
MAX_WAIT = timedelta(days=365)


class _Closed(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Duration(_Closed):
    days: int = Field(default=0, ge=0, le=365)
    hours: int = Field(default=0, ge=0, le=24 * 365)
    minutes: int = Field(default=0, ge=0, le=60 * 24 * 365)

    @model_validator(mode="after")
    def _positive(self) -> Duration:
        if not timedelta(0) < self.delta <= MAX_WAIT:
            raise ValueError("a duration is more than zero and at most 365 days")
        return self

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


class EventMatch(_Closed):
    """An event on the bus (its detail-type) whose detail carries these values: `{"form_id":
    "newsletter"}` is equality, a list is any of its values, dotted keys read nested fields."""

    event: DetailTypeName
    filter: Annotated[dict[FilterKey, Scalar | list[Scalar]], Field(max_length=10)] = Field(default_factory=dict)


class Entry(EventMatch):
    """Who enters: the contact an `event` names, when its detail matches `filter`. A contact is in
    a journey once at a time; `once` lets them in once ever, else they may enter again after they
    left, no sooner than `reenter_after_days` after their last entry."""

    once: bool = False
    reenter_after_days: int | None = Field(default=None, ge=0, le=3650)


# -- conditions (a branch's `if`) ---------------------------------------------------------------
FieldOp = Literal["eq", "ne", "in", "exists", "missing", "contains"]


class FieldTest(_Closed):
    """A field of the contact as it is when the step runs: `contact.first_name`, `contact.company`,
    `contact.custom.<key>`, `contact.consent`, `loyalty.tier` (definitions.FIELDS)."""

    field: Annotated[str, StringConstraints(strict=True, max_length=80)]
    op: FieldOp = "eq"
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> FieldTest:
        if self.op in ("exists", "missing") and self.value is not None:
            raise ValueError(f"{self.op} takes no value")
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("in takes a list of values")
        if self.op in ("eq", "ne", "contains") and (self.value is None or isinstance(self.value, list)):
            raise ValueError(f"{self.op} takes one value")
        return self


class HasTag(_Closed):
    tag: TagName


class HadEvent(_Closed):
    """The contact was named by this event since they entered (an order, a solved case)."""

    happened: DetailTypeName


class Opened(_Closed):
    """The mail a `send_mail` step of this journey sent them (in this entry) was opened."""

    opened: StepId


class Clicked(_Closed):
    clicked: StepId


def _condition_kind(value: object) -> str | None:
    """Which condition a branch's `if` is, by the key that names it: errors then point into that
    one shape (`...if.field.value`), not into every shape it might have been."""
    if isinstance(value, dict):
        return next((k for k in ("field", "tag", "happened", "opened", "clicked") if k in value), None)
    return _KIND_OF.get(type(value))


Condition = Annotated[
    Annotated[FieldTest, Tag("field")]
    | Annotated[HasTag, Tag("tag")]
    | Annotated[HadEvent, Tag("happened")]
    | Annotated[Opened, Tag("opened")]
    | Annotated[Clicked, Tag("clicked")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition names one of field, tag, happened, opened, clicked",
    ),
]
_KIND_OF: dict[type, str] = {
    FieldTest: "field",
    HasTag: "tag",
    HadEvent: "happened",
    Opened: "opened",
    Clicked: "clicked",
}


class BranchCase(_Closed):
    if_: Condition = Field(alias="if")
    next: StepId

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Arm(_Closed):
    name: Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9_-]{1,20}$")]
    weight: int = Field(ge=1, le=100)
    next: StepId


# -- steps ----------------------------------------------------------------------------------------
class _Step(_Closed):
    id: StepId
    next: StepId | None = Field(default=None, description="default: the step after this one; none after the last")


class SendMail(_Step):
    """A campaigns template, under the campaigns' rules: confirmed consent, no suppression, the
    topic not unsubscribed, a one-click unsubscribe link; the account's shared send rate."""

    type: Literal["send_mail"]
    template_id: Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9a-f]{32}$")]
    topic: Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_-]{0,39}$")]


class Wait(_Step):
    type: Literal["wait"]
    duration: Duration


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class WaitUntil(_Step):
    """Until the next of these weekdays at `at`, in the contact's time zone (their
    `custom.time_zone` when it names one, else the journey's `time_zone`)."""

    type: Literal["wait_until"]
    weekdays: Annotated[
        list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]], Field(min_length=1, max_length=7)
    ]
    at: time

    @field_validator("at")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a time of day without a zone: the contact's zone applies")
        return value


class WaitForEvent(_Step):
    """Until the contact is named by `event` (then `next`), or `timeout` has passed (then
    `on_timeout`)."""

    type: Literal["wait_for_event"]
    event: EventMatch
    timeout: Duration
    on_timeout: StepId


class Branch(_Step):
    """The first case whose `if` holds decides; none: `else`."""

    type: Literal["branch"]
    cases: Annotated[list[BranchCase], Field(min_length=1, max_length=10)]
    else_: StepId | None = Field(default=None, alias="else")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Split(_Step):
    """A/B: each contact goes down one arm, chosen by weight and fixed per contact and step."""

    type: Literal["split"]
    arms: Annotated[list[Arm], Field(min_length=2, max_length=5)]


class TagStep(_Step):
    type: Literal["tag"]
    add: Annotated[list[TagName], Field(max_length=10)] = Field(default_factory=list)
    remove: Annotated[list[TagName], Field(max_length=10)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> TagStep:
        if not self.add and not self.remove:
            raise ValueError("a tag step adds or removes at least one tag")
        if set(self.add) & set(self.remove):
            raise ValueError("a tag cannot be added and removed by one step")
        return self


class SetField(_Step):
    """Sets a field of the contact (`contact.custom.<key>`, `contact.company`)."""

    type: Literal["set_field"]
    field: Annotated[str, StringConstraints(strict=True, max_length=80)]
    value: Annotated[str, StringConstraints(strict=True, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class Webhook(_Step):
    """Puts JourneyStepReached.v1 on the bus: the webhook endpoints subscribed to `journey.step`
    receive it, signed and retried (the webhooks capability)."""

    type: Literal["webhook"]
    label: Label


class Exit(_Closed):
    id: StepId
    type: Literal["exit"]


Step = Annotated[
    SendMail | Wait | WaitUntil | WaitForEvent | Branch | Split | TagStep | SetField | Webhook | Exit,
    Field(discriminator="type"),
]
WAITS = ("wait", "wait_until", "wait_for_event")


class Definition(_Closed):
    name: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=120)]
    time_zone: str = Field(default="UTC", description="IANA zone for `wait_until` when the contact names none")
    entry: Entry
    goals: Annotated[list[EventMatch], Field(max_length=5)] = Field(
        default_factory=list, description="an event naming the contact ends their journey early: a conversion"
    )
    steps: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]


# -- stored and answered -------------------------------------------------------------------------
JourneyStatus = Literal["draft", "live", "paused", "stopped"]


class Journey(Model):
    model_config = ConfigDict(frozen=True)

    id: JourneyId
    name: str
    status: JourneyStatus
    version: int = Field(ge=1, description="the newest version: contacts who enter now get it")
    migrate: list[int] = Field(
        default_factory=list,
        description="older versions whose contacts move to the newest at their next step, where it has that step",
    )
    created_at: datetime
    updated_at: datetime
    revision: int = Field(default=1, ge=1, description="optimistic lock: every change adds one")


class JourneyVersion(Model):
    model_config = ConfigDict(frozen=True)

    journey_id: JourneyId
    version: int = Field(ge=1)
    definition: Definition
    created_at: datetime
    created_by: str


ProgressStatus = Literal["active", "waiting", "held", "done", "exited"]
OPEN = ("active", "waiting", "held")


class Waiting(Model):
    model_config = ConfigDict(frozen=True)

    until: datetime
    event: EventMatch | None = None  # wait_for_event: what ends the wait early


class Progress(Model):
    """One contact in one journey: where they are, on which version, in their how-many-th entry.
    Every write is conditional on `rev`, and every step moves `seq` on, so each (journey, version,
    contact, entry, step visit) happens once however often the event or timer behind it comes."""

    model_config = ConfigDict(frozen=True)

    journey_id: JourneyId
    contact_id: ContactId
    version: int
    entry: int = Field(ge=1)
    status: ProgressStatus
    step: str | None  # the step to run (active), being waited on (waiting, held); None when over
    seq: int = Field(ge=0, description="step visits: names the visit's timer and mail; grows with every step")
    rev: int = Field(default=0, ge=0, description="every write: the optimistic lock of the item")
    entered_at: datetime
    updated_at: datetime
    waiting: Waiting | None = None
    seen: list[str] = Field(
        default_factory=list, description="events since entry: detail-types, opened:/clicked:<step>"
    )
    path: list[str] = Field(default_factory=list, description="<step>:<branch or arm> taken, for conversions")
    outcome: str | None = None  # done: "completed"; exited: "goal", "stopped"
    entry_events: list[str] = Field(
        default_factory=list,
        description="keys (runner.entry_key) of the last events that let them in or moved them on: "
        "a second delivery of one does nothing",
    )


# -- API ------------------------------------------------------------------------------------------
class JourneyCreate(_Closed):
    definition: Definition


class JourneyRevise(_Closed):
    definition: Definition
    migrate: bool = Field(default=False, description="move contacts on older versions to this one at their next step")


class JourneyAction(_Closed):
    """The body of start, pause, resume and stop (optional)."""

    expected_revision: int | None = Field(default=None, ge=1, description="optimistic lock: 409 if it moved on")


class JourneyView(Model):
    journey: Journey
    definition: Definition


class JourneyList(Model):
    journeys: list[Journey]


class StepStats(Model):
    step: str
    type: str
    entered: int = 0
    completed: int = 0
    waiting: int = Field(default=0, description="entered, not yet completed or gone")
    exited_by_goal: int = 0
    mails_sent: int = 0
    mails_skipped: int = 0
    opened: int = 0
    clicked: int = 0


class ChoiceStats(Model):
    step: str
    choice: str = Field(description="a branch's case (`case-1`, `else`) or an A/B arm's name")
    taken: int
    conversions: int
    conversion_rate: float


class JourneyStats(Model):
    journey_id: str
    version: int
    entered: int
    completed: int
    exited_by_goal: int
    exited_other: int
    conversion_rate: float
    steps: list[StepStats]
    choices: list[ChoiceStats]
    winners: dict[str, str] = Field(
        default_factory=dict, description="per split step: the arm with the best conversion rate (none while tied)"
    )


class ContactJourneys(Model):
    contact_id: ContactId
    journeys: list[Progress]


# -- the runner's queue ---------------------------------------------------------------------------
class TimerFire(_Closed):
    """A wait's timer came due (EventBridge Scheduler sends the payload the runner set)."""

    action: Literal["timer"]
    journey_id: JourneyId
    contact_id: ContactId
    seq: int = Field(ge=0)


class ResumePage(_Closed):
    """Move on a page of the contacts a pause held (after `cursor`; None: from the start)."""

    action: Literal["resume"]
    journey_id: JourneyId
    cursor: str | None = Field(default=None, max_length=2000)
