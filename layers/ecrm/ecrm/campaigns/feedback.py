"""SES feedback: the events SES publishes for mail sent with our configuration set, as domain effects.

SES puts them on the account's *default* event bus (the only bus an SES EventBridge destination
supports), detail-types "Email Sent", "Email Delivered", "Email Bounced", "Email Complaint
Received", "Email Opened", "Email Clicked" (and others we ignore). The detail is SES's event
record: `eventType`, `mail` (with `messageId` and our message `tags`) and one block per type.

| SES event                      | effect                                                           |
|--------------------------------|------------------------------------------------------------------|
| Bounce, `Permanent`            | suppress each bounced address; record `bounced` on the send      |
| Bounce, `Transient`/other      | record `soft_bounced` (counted; no suppression)                  |
| Complaint                      | suppress each complaining address; record `complained`           |
| Delivery / Open / Click        | record `delivered` / `opened` / `clicked` (first time counts)     |
| Send                           | confirm the send record as `sent` (settles an `unknown` one)     |

Every effect is idempotent on its own (a flag set once, a put-if-absent), so a redelivered event
changes nothing; the event id log only saves the work. Mail without our tags (the consent mail)
still suppresses bounced and complaining addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from ecrm.campaigns.events import MailSuppressed
from ecrm.campaigns.models import SendKey, Suppression, SuppressionReason, address_key
from ecrm.campaigns.ports import ContactDirectory, Engagement, FeedbackLog, SendStore, SuppressionStore
from ecrm.campaigns.sending import key_from_tags
from ecrm.clock import Clock
from ecrm.model import Model
from ecrm.types import normalize_email

SOURCE = "aws.ses"
DETAIL_TYPES = (
    "Email Sent",
    "Email Delivered",
    "Email Bounced",
    "Email Complaint Received",
    "Email Opened",
    "Email Clicked",
)


class _Tolerant(Model):
    # SES adds fields over time; we read what we need and ignore the rest.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SesRecipient(_Tolerant):
    email_address: str = Field(alias="emailAddress")


class SesMail(_Tolerant):
    message_id: str = Field(alias="messageId")
    timestamp: datetime | None = None
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)

    def tag(self, name: str) -> str | None:
        values = self.tags.get(name) or []
        return values[0] if values else None


class SesBounce(_Tolerant):
    bounce_type: str = Field(alias="bounceType")  # Permanent | Transient | Undetermined
    bounce_sub_type: str | None = Field(default=None, alias="bounceSubType")
    bounced_recipients: list[SesRecipient] = Field(default_factory=list, alias="bouncedRecipients")
    timestamp: datetime | None = None


class SesComplaint(_Tolerant):
    complained_recipients: list[SesRecipient] = Field(default_factory=list, alias="complainedRecipients")
    feedback_type: str | None = Field(default=None, alias="complaintFeedbackType")
    timestamp: datetime | None = None


class SesTimed(_Tolerant):
    timestamp: datetime | None = None


class SesClick(SesTimed):
    link: str | None = None


class SesEventDetail(_Tolerant):
    event_type: str = Field(alias="eventType")
    mail: SesMail
    bounce: SesBounce | None = None
    complaint: SesComplaint | None = None
    delivery: SesTimed | None = None
    open: SesTimed | None = None
    click: SesClick | None = None


class SesEvent(_Tolerant):
    """The EventBridge envelope around an SES event."""

    id: str
    detail_type: str = Field(alias="detail-type")
    source: str = SOURCE
    time: datetime
    detail: SesEventDetail


# -- effects -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suppress:
    email: str
    reason: SuppressionReason
    key: SendKey | None  # the send it came from, when it was campaign mail


@dataclass(frozen=True)
class Mark:
    key: SendKey
    engagement: Engagement


@dataclass(frozen=True)
class ConfirmSent:
    key: SendKey
    message_id: str


Effect = Suppress | Mark | ConfirmSent


def _addresses(recipients: Sequence[SesRecipient]) -> list[str]:
    found = []
    for r in recipients:
        try:
            found.append(normalize_email(r.email_address))
        except ValueError:
            continue  # SES reports what the remote server said; an unparsable entry suppresses nothing
    return found


def _tags(mail: SesMail) -> dict[str, str]:
    return {name: value for name in mail.tags if (value := mail.tag(name))}


def effects(event: SesEvent, ignore_clicks_on: Sequence[str] = ()) -> list[Effect]:
    """What an SES event means for us. `ignore_clicks_on`: link prefixes (our unsubscribe and
    preferences pages) whose clicks are not engagement and must not sway an A/B test."""
    detail = event.detail
    key = key_from_tags(_tags(detail.mail))
    kind = detail.event_type
    if kind == "Bounce" and detail.bounce is not None:
        return _bounce(detail.bounce, key)
    if kind == "Complaint" and detail.complaint is not None:
        return _complaint(detail.complaint, key)
    if key is None:
        return []
    if kind == "Send":
        return [ConfirmSent(key, detail.mail.message_id)]
    if kind == "Click" and detail.click and any((detail.click.link or "").startswith(p) for p in ignore_clicks_on):
        return []
    engagement: dict[str, Engagement] = {"Delivery": "delivered", "Open": "opened", "Click": "clicked"}
    return [Mark(key, engagement[kind])] if kind in engagement else []


def _bounce(bounce: SesBounce, key: SendKey | None) -> list[Effect]:
    if bounce.bounce_type != "Permanent":
        return [Mark(key, "soft_bounced")] if key else []
    found: list[Effect] = [Suppress(a, "bounced", key) for a in _addresses(bounce.bounced_recipients)]
    return found + ([Mark(key, "bounced")] if key else [])


def _complaint(complaint: SesComplaint, key: SendKey | None) -> list[Effect]:
    found: list[Effect] = [Suppress(a, "complained", key) for a in _addresses(complaint.complained_recipients)]
    return found + ([Mark(key, "complained")] if key else [])


def occurred_at(event: SesEvent) -> datetime:
    detail = event.detail
    for block in (detail.bounce, detail.complaint, detail.delivery, detail.open, detail.click):
        if block is not None and block.timestamp is not None:
            return block.timestamp
    return event.time


class FeedbackService:
    def __init__(
        self,
        *,
        records: SendStore,
        suppressions: SuppressionStore,
        contacts: ContactDirectory,
        log: FeedbackLog,
        clock: Clock,
        ignore_clicks_on: Sequence[str] = (),
        activity: Callable[[str, datetime], object] | None = None,
    ) -> None:
        """`activity(contact_id, at)` is told of each first open or click (the segment index keeps
        last activity)."""
        self._activity = activity
        self._records = records
        self._suppressions = suppressions
        self._contacts = contacts
        self._log = log
        self._clock = clock
        self._ignore = tuple(ignore_clicks_on)

    def handle(self, raw: dict[str, Any]) -> list[Effect]:
        """Apply one SES event; returns the effects that changed something."""
        event = SesEvent.model_validate(raw)
        if self._log.seen(event.id):
            return []
        at = occurred_at(event)
        applied = [e for e in effects(event, self._ignore) if self._apply(e, at)]
        # Logged after the effects: a crash in between redoes idempotent work, never skips it.
        self._log.record(event.id, self._clock.now())
        return applied

    def _apply(self, effect: Effect, at: datetime) -> bool:
        if isinstance(effect, Mark):
            marked = self._records.mark(effect.key, effect.engagement, at)
            if marked and self._activity is not None and effect.engagement in ("opened", "clicked"):
                self._activity(effect.key.contact_id, at)
            return marked
        if isinstance(effect, ConfirmSent):
            return self._records.confirm(effect.key, effect.message_id, at)
        return self._suppress(effect, at)

    def _suppress(self, effect: Suppress, at: datetime) -> bool:
        contact_id = effect.key.contact_id if effect.key else None
        if contact_id is None:
            contact = self._contacts.find_by_email(effect.email)
            contact_id = contact.id if contact else None
        entry = Suppression(address_key=address_key(effect.email), reason=effect.reason, at=at, contact_id=contact_id)
        suppressed = MailSuppressed(occurred_at=at, reason=effect.reason, contact_id=contact_id)
        return self._suppressions.add(effect.email, entry, events=[suppressed])
