"""The webhook event types: which bus event each one is, and the one documented payload it carries.

A payload holds ids, numbers and states from the event's detail, never more: bus events carry no
personal data (ecrm.events), and a receiver that needs a contact's details asks for them. `actor`
(`user:<id>` or `client:<id>`, ecrm.events.DomainEvent.actor) is there when someone signed in, or
a machine client, made the change; absent when the contact, the shop or a timer did. Each type
lists the detail fields it passes on; everything else in the detail stays behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecrm.cases.names import DetailType as CaseType
from ecrm.journeys.names import DetailType as JourneyType
from ecrm.loyalty.names import DetailType as LoyaltyType
from ecrm.names import DetailType, Source


@dataclass(frozen=True)
class WebhookType:
    name: str  # what receivers see as `type`: `contact.captured`
    source: str
    detail_type: str
    fields: tuple[str, ...]  # the detail fields the payload's `data` carries
    description: str
    contact_field: str = "contact_id"  # the field naming a contact ("" if none does)

    def data(self, detail: Mapping[str, Any]) -> dict[str, Any]:
        return {name: detail[name] for name in self.fields if detail.get(name) is not None}

    def contact_of(self, detail: Mapping[str, Any]) -> str | None:
        value = detail.get(self.contact_field) if self.contact_field else None
        return str(value) if value else None


TYPES: tuple[WebhookType, ...] = (
    WebhookType(
        "contact.captured",
        Source.CONTACTS,
        DetailType.CONTACT_CAPTURED,
        ("contact_id", "form_id", "tags", "utm_source", "utm_campaign", "consent_requested"),
        "A form captured a contact (new or known): its id, the form, tags and campaign attribution",
    ),
    WebhookType(
        "contact.updated",
        Source.CONTACTS,
        DetailType.CONTACT_UPDATED,
        ("contact_id", "changed", "actor"),
        "A contact's profile changed: the names of the fields that changed, not their values",
    ),
    WebhookType(
        "contact.consent_confirmed",
        Source.CONTACTS,
        DetailType.CONSENT_CONFIRMED,
        ("contact_id", "text_version", "form_id"),
        "A contact confirmed marketing consent (double opt-in): the consent text's version",
    ),
    WebhookType(
        "contact.erased",
        Source.CONTACTS,
        DetailType.CONTACT_ERASED,
        ("contact_id", "actor"),
        "A contact was erased (GDPR): receivers should forget it too",
    ),
    WebhookType(
        "case.created",
        Source.CASES,
        CaseType.CASE_CREATED,
        ("case_id", "requester_id", "channel", "priority", "team", "actor"),
        "A support case was opened: its channel, priority and team, and the requester's contact id",
        contact_field="requester_id",
    ),
    WebhookType(
        "case.solved",
        Source.CASES,
        CaseType.CASE_SOLVED,
        ("case_id", "cycle", "actor"),
        "A support case was solved",
        contact_field="",
    ),
    WebhookType(
        "case.escalated",
        Source.CASES,
        CaseType.CASE_ESCALATED,
        ("case_id", "level", "team"),
        "A support case missed an SLA deadline and escalated to a level",
        contact_field="",
    ),
    WebhookType(
        "points.earned",
        Source.LOYALTY,
        LoyaltyType.POINTS_EARNED,
        ("member_id", "entry_id", "order_id", "points", "tier"),
        "A member earned loyalty points on an order",
        contact_field="member_id",
    ),
    WebhookType(
        "tier.changed",
        Source.LOYALTY,
        LoyaltyType.TIER_CHANGED,
        ("member_id", "from_tier", "to_tier", "direction"),
        "A member moved to another loyalty tier",
        contact_field="member_id",
    ),
    WebhookType(
        "journey.step",
        Source.JOURNEYS,
        JourneyType.JOURNEY_STEP_REACHED,
        ("journey_id", "version", "step_id", "label", "contact_id", "entry"),
        "A contact reached a journey's webhook step: the journey, the step and its label, the contact",
    ),
)

BY_NAME: dict[str, WebhookType] = {t.name: t for t in TYPES}
BY_EVENT: dict[tuple[str, str], WebhookType] = {(t.source, t.detail_type): t for t in TYPES}
