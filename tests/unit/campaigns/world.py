"""A whole campaigns back end on in-memory ports, and the pumps a test turns by hand: fire due
timers, run plan commands, deliver send batches (as SQS would, redeliveries included)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ecrm.campaigns.feedback import FeedbackService
from ecrm.campaigns.membership import MembershipService
from ecrm.campaigns.models import CampaignDraft, SegmentDraft, SendBatch, TemplateDraft
from ecrm.campaigns.preferences import PreferenceCenter
from ecrm.campaigns.ratelimit import RateLimiter
from ecrm.campaigns.runs import CampaignRuns, PlanCommand
from ecrm.campaigns.sending import BatchResult, Sender, SenderConfig
from ecrm.campaigns.service import CampaignService, SegmentService, TemplateService
from ecrm.campaigns.triggers import TriggerService
from ecrm.campaigns.unsubscribe import LinkBase
from ecrm.contacts.models import Consent, Contact, Touch, Utm
from ecrm.signing import Signer

from tests.unit.campaigns.fakes import (
    FakeSes,
    MemoryCampaigns,
    MemoryContacts,
    MemoryDirectory,
    MemoryFeedbackLog,
    MemoryIndex,
    MemoryPreferences,
    MemoryQueue,
    MemoryRepo,
    MemoryRuns,
    MemorySendRecords,
    MemorySlots,
    MemoryStats,
    MemorySuppressions,
    MemoryTimers,
    SleepingClock,
)
from tests.unit.fakes import RecordingPublisher

X = TypeVar("X")


def must(value: X | None) -> X:
    """The value, which the test knows is there (and fails loudly if it is not)."""
    assert value is not None
    return value


T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
LINKS = LinkBase("https://mail.example.com/unsubscribe", "https://mail.example.com/preferences", "unsub@example.com")
TOPICS = ("newsletter", "offers", "loyalty")
HTML = (
    '<p>Hello {{ first_name | default("there") }},</p><p>news for {{ company }}.</p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ preferences_url }}">Preferences</a></p>'
)
TEXT = 'Hello {{ first_name | default("there") }},\nnews.\nUnsubscribe: {{ unsubscribe_url }}\n'
_ids = itertools.count(1)


def hex_id(n: int | None = None) -> str:
    return f"{next(_ids) if n is None else n:032x}"


def make_contact(
    n: int,
    *,
    email: str | None = None,
    tags: tuple[str, ...] = (),
    consent: bool = True,
    country: str | None = None,
    utm: str | None = None,
    first_name: str | None = "Ann",
    company: str | None = "Acme",
    created: datetime = T0 - timedelta(days=30),
) -> Contact:
    touch = Touch(utm=Utm(source=utm), at=created) if utm else None
    return Contact(
        id=hex_id(n),
        email=email or f"c{n}@example.com",
        first_name=first_name,
        company=company,
        tags=sorted(tags),
        custom={"country": country} if country else {},
        first_touch=touch,
        last_touch=touch,
        consent=Consent(status="confirmed", confirmed_at=created) if consent else Consent(),
        created_at=created,
        updated_at=created,
    )


@dataclass
class World:
    clock: SleepingClock = field(default_factory=lambda: SleepingClock(T0))
    rate: int = 50
    page_size: int = 20
    config: SenderConfig = field(default_factory=SenderConfig)

    def __post_init__(self) -> None:
        self.contacts = MemoryContacts()
        self.index = MemoryIndex(self.contacts)
        self.stats = MemoryStats()
        self.records = MemorySendRecords(self.stats)
        self.runs_store = MemoryRuns(self.stats)
        self.queue = MemoryQueue()
        self.timers = MemoryTimers()
        self.slots = MemorySlots()
        self.bus = RecordingPublisher()  # what the writes below commit to the outbox, as the relay publishes it
        self.preferences = MemoryPreferences(self.contacts, self.bus)
        self.index.preferences = self.preferences
        self.suppressions = MemorySuppressions(self.bus)
        self.ses = FakeSes(self.clock)
        self.signer = Signer(b"k" * 32)
        self.campaigns = MemoryCampaigns(self.bus)
        self.templates: MemoryRepo[Any] = MemoryRepo()
        self.segments: MemoryRepo[Any] = MemoryRepo()
        self.directory = MemoryDirectory(self.contacts, self.preferences, self.suppressions, self.index)
        self.membership = MembershipService(self.contacts, self.index)
        self.runs = CampaignRuns(
            campaigns=self.campaigns,
            segments=self.segments,
            index=self.index,
            runs=self.runs_store,
            queue=self.queue,
            stats=self.stats,
            timers=self.timers,
            clock=self.clock,
            page_size=self.page_size,
        )
        self.limiter = RateLimiter(self.slots, self.clock, rate=self.rate)
        self.template_service = TemplateService(self.templates, self.contacts, LINKS, self.clock)
        self.segment_service = SegmentService(self.segments, self.index, self.clock)
        self.service = CampaignService(
            campaigns=self.campaigns,
            templates=self.templates,
            segments=self.segments,
            runs=self.runs,
            timers=self.timers,
            recurring=self.timers,
            stats=self.stats,
            clock=self.clock,
        )
        self.feedback = FeedbackService(
            records=self.records,
            suppressions=self.suppressions,
            contacts=self.contacts,
            log=MemoryFeedbackLog(),
            clock=self.clock,
            ignore_clicks_on=(LINKS.unsubscribe_url, LINKS.preferences_url),
        )
        self.center = PreferenceCenter(
            signer=self.signer,
            preferences=self.preferences,
            records=self.records,
            contacts=self.contacts,
            clock=self.clock,
            topics=TOPICS,
        )
        self.triggers = TriggerService(
            campaigns=self.campaigns,
            segments=self.segments,
            contacts=self.contacts,
            memberships=self.index,
            queue=self.queue,
            timers=self.timers,
            clock=self.clock,
        )

    def sender(self, ses: Any = None, clock: Any = None) -> Sender:
        """A fresh sender, as each Lambda invocation would build (its own token grant)."""
        clock = clock or self.clock
        return Sender(
            campaigns=self.campaigns,
            templates=self.templates,
            recipients=self.directory,
            records=self.records,
            runs=self.runs_store,
            mailer=ses or self.ses,
            limiter=RateLimiter(self.slots, clock, rate=self.rate),
            sleeper=clock,
            clock=clock,
            signer=self.signer,
            link_base=LINKS,
            finisher=self.runs,
            config=self.config,
            rng=random.Random(7),
        )

    # -- setup ---------------------------------------------------------------------------------
    def add_contacts(self, *contacts: Contact, tier: str | None = None) -> list[Contact]:
        for c in contacts:
            self.contacts.add(c)
            self.membership.refresh(c.id)
            if tier:
                self.membership.set_tier(c.id, tier)
        return list(contacts)

    def template(self, subject: str = 'News for {{ first_name | default("you") }}', html: str = HTML) -> str:
        draft = TemplateDraft(name="Monthly", subject=subject, html=html, text=TEXT)
        return self.template_service.create(draft).id

    def segment(self, include: list[dict[str, Any]] | None = None, exclude: list[dict[str, Any]] | None = None) -> str:
        draft = SegmentDraft.model_validate(
            {"name": "S", "rules": {"include": include or [], "exclude": exclude or []}}
        )
        return self.segment_service.create(draft).id

    def campaign(self, schedule: dict[str, Any], segment_id: str | None = None, **extra: Any) -> str:
        body = {"name": "C", "template_id": extra.pop("template_id", None) or self.template(), "schedule": schedule}
        if segment_id:
            body["segment_id"] = segment_id
        draft = CampaignDraft.model_validate({**body, **extra})
        return self.service.create(draft, owner="user-1").id

    # -- pumps ---------------------------------------------------------------------------------
    def deadline(self, seconds: float = 600) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    def fire_timers(self) -> int:
        """Deliver every due timer's payload to the plan queue consumer; returns how many."""
        fired = self.timers.due(self.clock.now())
        for timer in fired:
            self.runs.handle(PlanCommand.model_validate(timer.payload), self.deadline())
        return len(fired)

    def deliver(self, sender: Sender | None = None, rounds: int = 20) -> list[BatchResult]:
        """Pump the send queue; batches with a retry go back on it (SQS redelivery)."""
        results = []
        for _ in range(rounds):
            batches = self.queue.drain()
            if not batches:
                break
            for batch in batches:
                result = (sender or self.sender()).send(batch, self.deadline())
                results.append(result)
                if not result.complete:
                    self.queue.enqueue([batch])
            self.fire_timers()
        return results

    def run_until_quiet(self, limit: int = 50) -> None:
        for _ in range(limit):
            fired = self.fire_timers()
            delivered = self.deliver()
            if not fired and not delivered:
                return

    def one_batch(self, *contact_ids: str, campaign_id: str, run_id: str = "once") -> SendBatch:
        """A hand-made batch. Its epoch is none the planner uses, so completing it does not count
        towards the run's end: the run stays open for the next delivery the test makes."""
        return SendBatch(
            campaign_id=campaign_id, run_id=run_id, epoch=99, batch="manual", contact_ids=list(contact_ids)
        )


DETAIL_TYPES = {
    "Send": "Email Sent",
    "Delivery": "Email Delivered",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Open": "Email Opened",
    "Click": "Email Clicked",
}


def ses_event(event_type: str, message_id: str, tags: dict[str, str], **blocks: Any) -> dict[str, Any]:
    """An SES event as EventBridge delivers it (configuration set -> default bus)."""
    return {
        "id": f"evt-{event_type}-{message_id}",
        "detail-type": DETAIL_TYPES.get(event_type, f"Email {event_type}"),
        "source": "aws.ses",
        "time": "2026-11-24T09:00:00Z",
        "detail": {
            "eventType": event_type,
            "mail": {"messageId": message_id, "tags": {k: [v] for k, v in tags.items()}},
            **blocks,
        },
    }
