"""What the contact 360 accepts and answers: the export, the timeline, related records, companies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

from ecrm.contact360.names import ATTRIBUTE_KEY
from ecrm.model import Model
from ecrm.types import ContactId, HeaderText, PlainText

ExportFormat = Literal["json", "zip"]


class PersonalDataExport(Model):
    """Everything held about one contact in every capability (GDPR Art. 15 and 20): per capability,
    per section, one record per stored item, as stored (storage keys left out)."""

    contact_id: str
    exported_at: datetime
    erased: bool = Field(description="the contact was erased: what is left holds ids, no personal data")
    held: dict[str, dict[str, list[dict[str, Any]]]] = Field(
        description="capability -> section -> records, e.g. held.cases.case_comments"
    )

    def sections(self) -> list[tuple[str, str, list[dict[str, Any]]]]:
        return [(cap, name, records) for cap, sections in self.held.items() for name, records in sections.items()]


class TimelineEntry(Model):
    """One event about the contact, as their timeline shows it: ids and numbers, no personal data."""

    at: datetime
    kind: str = Field(description="what happened, e.g. case.commented (filter with `kinds`)")
    text: str = Field(description="the event in a sentence")
    source: str = Field(description="the capability (or system) that published it")
    detail_type: str
    detail: dict[str, Any] = Field(description="the event's detail: ids, numbers, states")
    actor: str | None = Field(
        default=None,
        description="who acted, where a signed-in user (`user:<id>`) or a machine client (`client:<id>`) did; "
        "absent when the contact, a shop or the system did",
    )


class TimelinePage(Model):
    items: list[TimelineEntry]
    next_cursor: str | None = None


class RelatedCase(Model):
    case_id: str
    subject: str
    status: str
    priority: str
    channel: str
    team: str | None = None
    created_at: datetime
    solved_at: datetime | None = None


class Membership(Model):
    balance: int
    tier: str | None = Field(description="the tier last announced; null: the programme's base tier")


class CampaignMail(Model):
    """One campaign mail to the contact and what became of it."""

    campaign_id: str
    run_id: str
    status: str
    variant: int | None = None
    settled_at: datetime | None = None
    delivered_at: datetime | None = None
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    bounced_at: datetime | None = None
    soft_bounced_at: datetime | None = None
    complained_at: datetime | None = None
    unsubscribed_at: datetime | None = None


class RelatedRecords(Model):
    """What the other capabilities hold for the contact, as far as the caller's roles may see it:
    cases (admin, agent), loyalty (every staff role), campaign mail (admin, marketer)."""

    contact_id: str
    cases: list[RelatedCase] | None = Field(description="null: the caller's roles may not read cases")
    loyalty: Membership | None = Field(description="null: not a member (or the roles may not read loyalty)")
    campaigns: list[CampaignMail] | None = Field(description="null: the caller's roles may not read campaigns")
    hidden: list[str] = Field(description="the sections the caller's roles may not read")


# -- companies --------------------------------------------------------------------------------------

CompanyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
DOMAIN_PATTERN = r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
Domain = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),  # before the pattern
    StringConstraints(max_length=253, pattern=DOMAIN_PATTERN),
]
AttributeValue = Annotated[HeaderText, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AttributeKey = Annotated[str, StringConstraints(pattern=ATTRIBUTE_KEY)]
MAX_DOMAINS = 20
MAX_ATTRIBUTES = 20


class CompanyRequest(Model):
    """POST /companies and PUT /companies/{id} (the whole record; `expected_version` on PUT)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[PlainText, StringConstraints(min_length=1, max_length=200)]
    domains: list[Domain] = Field(default_factory=list, max_length=MAX_DOMAINS, description="e-mail domains it owns")
    attributes: dict[AttributeKey, AttributeValue] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES, description="industry, size, country, ..."
    )
    expected_version: int | None = Field(default=None, ge=1)


class CompanyLinkRequest(Model):
    """POST /companies/{id}/contacts: link this contact (staff's link; a domain never moves it)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: ContactId


class Company(Model):
    id: str
    name: str
    domains: list[str]
    attributes: dict[str, str]
    created_at: datetime
    updated_at: datetime
    version: int = 1


class CompanyMember(Model):
    contact_id: str
    linked_by: Literal["domain", "staff"]
    linked_at: datetime


class OrderTotal(Model):
    currency: str
    orders: int
    total_minor: int = Field(description="what was paid, in minor units")
    refunded_minor: int


class CompanyView(Model):
    """A company with its contacts (the first 100; `complete: false` when it has more), their open
    cases and their order totals per currency (over the contacts listed)."""

    company: Company
    contacts: list[CompanyMember]
    open_cases: list[RelatedCase] | None = Field(description="null: the caller's roles may not read cases")
    order_totals: list[OrderTotal]
    complete: bool
