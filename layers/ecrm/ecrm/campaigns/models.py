"""Campaign models: what the API accepts (drafts, `extra="forbid"`, every error naming its field),
what is stored (templates, segments, campaigns, runs, send records) and what stats answer."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from ecrm.campaigns.segments import SegmentRules
from ecrm.campaigns.templates import Part, TemplateError, compile_part
from ecrm.model import Model
from ecrm.names import DetailType
from ecrm.types import ContactId, HeaderText, PlainText, Tag

EntityId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Name = Annotated[PlainText, StringConstraints(min_length=1, max_length=100)]
# Topics a contact can unsubscribe from one by one ("newsletter", "offers", …); same shape as a tag.
Topic = Tag
ALL_TOPICS = "all"

# Published by the loyalty capability (source ecrm.loyalty): `member_id` is the contact's id, `to_tier`
# the new tier. Named here rather than imported: campaigns consume it, loyalty owns its schema.
TIER_CHANGED = "TierChanged.v1"
# Events a campaign may be triggered by, and the detail field naming the contact.
TRIGGERS: dict[str, str] = {
    DetailType.CONSENT_CONFIRMED: "contact_id",
    DetailType.CONTACT_CAPTURED: "contact_id",
    TIER_CHANGED: "member_id",
}


# -- templates ---------------------------------------------------------------------------------


def _template_part(part: Part) -> AfterValidator:
    def check(source: str) -> str:
        try:
            compile_part(source, part)
        except TemplateError as exc:
            raise ValueError(exc.message) from exc
        return source

    return AfterValidator(check)


SubjectSource = Annotated[HeaderText, StringConstraints(min_length=1, max_length=500), _template_part("subject")]
HtmlSource = Annotated[str, StringConstraints(min_length=1, max_length=256 * 1024), _template_part("html")]
TextSource = Annotated[str, StringConstraints(min_length=1, max_length=128 * 1024), _template_part("text")]


class TemplateDraft(Model):
    """POST/PUT a template: every part is parsed and checked here, so a saved template renders."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    subject: SubjectSource
    html: HtmlSource
    text: TextSource


class Template(TemplateDraft):
    id: EntityId
    created_at: datetime
    updated_at: datetime
    version: int = 1


# -- segments ----------------------------------------------------------------------------------


class SegmentDraft(Model):
    model_config = ConfigDict(extra="forbid")

    name: Name
    rules: SegmentRules


class Segment(SegmentDraft):
    id: EntityId
    created_at: datetime
    updated_at: datetime
    version: int = 1


# -- schedules ---------------------------------------------------------------------------------


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin") from exc
    return name


TimeZoneName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$"), AfterValidator(_zone)
]


def local_to_utc(at: datetime, timezone: str) -> datetime:
    """A wall-clock time in `timezone` as a UTC instant. A time that does not exist there (the hour
    skipped when clocks go forward) is an error; an ambiguous one (clocks go back) is its first
    occurrence. An aware `at` is taken as the instant it names."""
    if at.tzinfo is not None:
        return at.astimezone(UTC)
    zone = ZoneInfo(timezone)
    instant = at.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != at:
        raise ValueError(f"{at:%Y-%m-%d %H:%M} does not exist in {timezone} (clocks go forward then)")
    return instant


class OneOffSchedule(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["one_off"]
    timezone: TimeZoneName = "UTC"
    at: datetime = Field(description="wall-clock time in `timezone` (or an ISO time with offset)")

    @field_validator("at")
    @classmethod
    def _exists(cls, at: datetime, info: ValidationInfo) -> datetime:
        if "timezone" in info.data:
            local_to_utc(at, info.data["timezone"])
        return at

    @property
    def instant(self) -> datetime:
        return local_to_utc(self.at, self.timezone)


_CRON_FIELDS = (
    ("minutes", r"[0-9,]+"),  # fixed minutes: a campaign recurs at most hourly
    ("hours", r"[0-9,*/-]+"),
    ("day-of-month", r"[0-9,*/?LW-]+"),
    ("month", r"[0-9A-Za-z,*/-]+"),
    ("day-of-week", r"[0-9A-Za-z,*/?L#-]+"),
    ("year", r"[0-9,*/-]+"),
)


def _cron(value: str) -> str:
    """EventBridge Scheduler's six-field cron, with or without `cron( )`; stored with it."""
    inner = value.strip()
    match = re.fullmatch(r"cron\((.*)\)", inner)
    fields = (match.group(1) if match else inner).split()
    if len(fields) != len(_CRON_FIELDS):
        raise ValueError("needs six fields: minutes hours day-of-month month day-of-week year")
    for text, (name, pattern) in zip(fields, _CRON_FIELDS, strict=True):
        if not re.fullmatch(pattern, text):
            raise ValueError(f"{name} field {text!r} is not valid here")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    return f"cron({' '.join(fields)})"


Cron = Annotated[str, StringConstraints(max_length=200), AfterValidator(_cron)]


class RecurringSchedule(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["recurring"]
    cron: Cron = Field(description="e.g. cron(0 9 ? * TUE *): Tuesdays 09:00 in `timezone`")
    timezone: TimeZoneName = "UTC"
    start: datetime | None = None
    end: datetime | None = None

    @field_validator("end")
    @classmethod
    def _ordered(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        start, zone = info.data.get("start"), info.data.get("timezone")
        if end and start and zone and local_to_utc(end, zone) <= local_to_utc(start, zone):
            raise ValueError("end must be later than start")
        return end


def _trigger(value: str) -> str:
    if value not in TRIGGERS:
        raise ValueError(f"not an event campaigns can be triggered by; one of {', '.join(sorted(TRIGGERS))}")
    return value


MatchKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
MatchValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TriggeredSchedule(Model):
    """Sent to the contact named in each matching event: `delay_minutes` after it, once per contact
    unless `once_per_contact` is off (then once per event)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["triggered"]
    detail_type: Annotated[str, AfterValidator(_trigger)]
    match: Annotated[dict[MatchKey, MatchValue], Field(max_length=5)] = Field(
        default_factory=dict, description="detail fields the event must carry with these values"
    )
    delay_minutes: int = Field(default=0, ge=0, le=60 * 24 * 90)
    once_per_contact: bool = True

    @property
    def delay(self) -> timedelta:
        return timedelta(minutes=self.delay_minutes)


Schedule = Annotated[OneOffSchedule | RecurringSchedule | TriggeredSchedule, Field(discriminator="kind")]


class AbTest(Model):
    """Subject variants sent to a sample; after `window_hours` the variant with the best open (or
    click) rate goes to everyone else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subjects: Annotated[list[SubjectSource], Field(min_length=2, max_length=4)]
    sample_fraction: float = Field(default=0.2, gt=0, le=0.5)
    window_hours: int = Field(default=4, ge=1, le=168)
    metric: Literal["open", "click"] = "open"


# -- campaigns ---------------------------------------------------------------------------------

Status = Literal["draft", "scheduled", "sending", "sent", "paused", "cancelled"]


class CampaignDraft(Model):
    """POST a campaign, or PUT one that is still a draft."""

    model_config = ConfigDict(extra="forbid")

    # Field order matters: the checks below see the schedule, so it is validated first.
    name: Name
    template_id: EntityId
    schedule: Schedule
    segment_id: EntityId | None = Field(default=None, validate_default=True, description="required unless triggered")
    topic: Topic = "newsletter"
    ab: AbTest | None = None

    @field_validator("segment_id")
    @classmethod
    def _segment_unless_triggered(cls, segment_id: str | None, info: ValidationInfo) -> str | None:
        schedule = info.data.get("schedule")
        if segment_id is None and schedule is not None and schedule.kind != "triggered":
            raise ValueError("a scheduled campaign needs a segment")
        return segment_id

    @field_validator("ab")
    @classmethod
    def _ab_only_one_off(cls, ab: AbTest | None, info: ValidationInfo) -> AbTest | None:
        schedule = info.data.get("schedule")
        if ab is not None and schedule is not None and schedule.kind != "one_off":
            raise ValueError("only one-off campaigns can run an A/B test")
        return ab

    @field_validator("topic")
    @classmethod
    def _not_all(cls, topic: str) -> str:
        if topic == ALL_TOPICS:
            raise ValueError("'all' is reserved for unsubscribing from everything")
        return topic


class Campaign(CampaignDraft):
    id: EntityId
    status: Status = "draft"
    owner: str = Field(description="user id of the marketer who created it")
    created_at: datetime
    updated_at: datetime
    version: int = 1
    runs_started: int = 0
    current_run: str | None = None
    ab_winner: int | None = None


# -- runs, batches and send records --------------------------------------------------------------

Stage = Literal["all", "sample", "rest"]


def run_id_for(occurrence: datetime) -> str:
    """A recurring campaign's run is named by its scheduled time (an SES-tag-safe string)."""
    return occurrence.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


ONCE = "once"  # run id of a one-off campaign, and of a triggered one that sends once per contact


class RunStage(Model):
    """Planning state of one stage of one run: where the planner got to, so a second planner
    invocation continues (or finds it done) instead of starting over."""

    campaign_id: str
    run_id: str
    stage: Stage
    query_index: int = 0
    cursor: str | None = None
    batches: int = 0  # batches enqueued: also the next batch number
    done: int = 0  # batches completed (kept by the store, never written by the planner)
    targeted: int = 0
    planned: bool = False  # every batch of the stage is enqueued
    epoch: int = 0  # bumped when the stage is planned again from the start (resume)
    # The plan is a pure function of these: a continuing planner rebuilds the very same queries
    # even if the segment was edited or the index counts moved meanwhile.
    rules: SegmentRules
    estimates: dict[str, int] = Field(default_factory=dict)
    started_at: datetime
    version: int = 1

    @property
    def finished(self) -> bool:
        return self.planned and self.done >= self.batches

    def restarted(self) -> RunStage:
        """The stage planned again from the start (resume): a new epoch, nothing enqueued yet."""
        return self.model_copy(
            update={
                "epoch": self.epoch + 1,
                "query_index": 0,
                "cursor": None,
                "batches": 0,
                "done": 0,
                "targeted": 0,
                "planned": False,
                "version": self.version + 1,
            }
        )


class SendBatch(Model):
    """One message on the send queue: ids only, no personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    campaign_id: str
    run_id: str
    stage: Stage = "all"
    epoch: int = 0
    batch: str = Field(description="batch number within the stage's epoch: the same page gets the same number")
    contact_ids: Annotated[list[ContactId], Field(min_length=1, max_length=500)]


SendStatus = Literal["sending", "sent", "unknown", "skipped", "failed"]


class SendKey(Model):
    model_config = ConfigDict(frozen=True)

    campaign_id: str
    run_id: str
    contact_id: str


class SendRecord(Model):
    """One (campaign, run, contact): the guard that makes a send happen at most once, and the place
    the feedback (delivery, open, click, bounce, complaint) is recorded."""

    key: SendKey
    status: SendStatus
    claim_id: str | None = None
    claimed_at: datetime | None = None
    lease_until: datetime | None = None
    message_id: str | None = None
    variant: int | None = None
    reason: str | None = None
    settled_at: datetime | None = None


# -- preferences and suppression -----------------------------------------------------------------

SuppressionReason = Literal["bounced", "complained"]


def address_key(email: str) -> str:
    """The suppression key of an address: a SHA-256 of the normalized address, so the list can
    outlive an erased contact without keeping the address in clear. Normalized as normalize_email
    does, without judging it: a stored address a newer rule refuses must still be looked up (its
    mail is then refused by the mail adapter and recorded failed, not crashed on)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class Suppression(Model):
    """An address we must not mail again (keyed by a hash of the normalized address)."""

    address_key: str
    reason: SuppressionReason
    at: datetime
    contact_id: str | None = None


class Preferences(Model):
    """A contact's topic choices. `all` unsubscribes from every topic, present and future."""

    contact_id: str
    unsubscribed: frozenset[str] = frozenset()
    updated_at: datetime | None = None
    version: int = 0  # 0: never stored

    def allows(self, topic: str) -> bool:
        return ALL_TOPICS not in self.unsubscribed and topic not in self.unsubscribed


def _topics(value: object) -> object:
    # A form's ticked checkboxes arrive as one comma-joined field (ecrm.api.read_body).
    return [t.strip() for t in value.split(",") if t.strip()] if isinstance(value, str) else value


class PreferencesUpdate(Model):
    """The preferences page's form: the topics to stay subscribed to (anything else is unsubscribed)."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    subscribed: Annotated[list[Topic], BeforeValidator(_topics), Field(max_length=50)] = Field(default_factory=list)
    unsubscribe_all: bool = False


class UnsubscribeRequest(Model):
    """RFC 8058 one-click POST: the body is `List-Unsubscribe=One-Click`; the token rides in the URL."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=10, max_length=2000)]


# -- stats ---------------------------------------------------------------------------------------


class Counts(Model):
    """Unique recipients per outcome (a contact who opens twice counts once)."""

    targeted: int = 0
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    soft_bounced: int = 0
    complained: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    suppressed: int = 0
    failed: int = 0
    unknown: int = 0

    def rate(self, metric: Literal["open", "click"]) -> float:
        """Opens or clicks per delivered mail (per sent mail while deliveries are not in yet)."""
        base = self.delivered or self.sent
        hits = self.opened if metric == "open" else self.clicked
        return hits / base if base else 0.0


class CampaignStats(Model):
    campaign_id: str
    total: Counts = Counts()
    variants: dict[int, Counts] = Field(default_factory=dict)
