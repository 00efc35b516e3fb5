"""Versioned event schemas on the bus, and the publisher port."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Protocol

from pydantic import ConfigDict, Field

from ecrm.model import Model
from ecrm.names import DetailType, Source


class DomainEvent(Model):
    """An event's `detail`. Subclasses name their versioned detail-type; no personal data travels
    on the bus beyond ids: consumers read the contact when they need more."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    detail_type: ClassVar[str]
    source: ClassVar[str]

    occurred_at: datetime
    # Who acted, where a signed-in person or a machine client did (`ecrm.access.Caller.actor`):
    # `user:<id>`, `client:<id>`. Absent when nobody signed in acted (the contact through a form or a
    # mail's link, a shop's event, the system's timers): an id, never a name or an address. Left out
    # of the detail when absent, so an event without one reads as it did before the field existed.
    actor: str | None = Field(default=None, exclude_if=lambda v: v is None)


class ContactEvent(DomainEvent):
    source: ClassVar[str] = Source.CONTACTS


class ContactCaptured(ContactEvent):
    detail_type: ClassVar[str] = DetailType.CONTACT_CAPTURED

    contact_id: str
    form_id: str | None = None
    tags: list[str] = []
    utm_source: str | None = None
    utm_campaign: str | None = None
    consent_requested: bool = False
    consent_request_id: str | None = None


class ContactUpdated(ContactEvent):
    detail_type: ClassVar[str] = DetailType.CONTACT_UPDATED

    contact_id: str
    changed: list[str]
    consent_requested: bool = False
    consent_request_id: str | None = None


class ConsentConfirmed(ContactEvent):
    detail_type: ClassVar[str] = DetailType.CONSENT_CONFIRMED

    contact_id: str
    request_id: str
    text_version: str
    form_id: str | None = None


class ContactErased(ContactEvent):
    detail_type: ClassVar[str] = DetailType.CONTACT_ERASED

    contact_id: str


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.detail_type: cls for cls in (ContactCaptured, ContactUpdated, ConsentConfirmed, ContactErased)
}


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Put every event on the bus or raise PublishFailed."""
        ...
