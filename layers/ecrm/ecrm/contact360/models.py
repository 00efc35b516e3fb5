"""What the contact 360 answers: the complete GDPR export."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

ExportFormat = Literal["json", "zip"]


class PersonalDataExport(BaseModel):
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


class TimelineEntry(BaseModel):
    """One event about the contact, as their timeline shows it: ids and numbers, no personal data."""

    at: datetime
    kind: str = Field(description="what happened, e.g. case.commented (filter with `kinds`)")
    text: str = Field(description="the event in a sentence")
    source: str = Field(description="the capability (or system) that published it")
    detail_type: str
    detail: dict[str, Any] = Field(description="the event's detail: ids, numbers, states")


class TimelinePage(BaseModel):
    items: list[TimelineEntry]
    next_cursor: str | None = None


class RelatedCase(BaseModel):
    case_id: str
    subject: str
    status: str
    priority: str
    channel: str
    team: str | None = None
    created_at: datetime
    solved_at: datetime | None = None


class Membership(BaseModel):
    balance: int
    tier: str | None = Field(description="the tier last announced; null: the programme's base tier")


class CampaignMail(BaseModel):
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


class RelatedRecords(BaseModel):
    """What the other capabilities hold for the contact, as far as the caller's roles may see it:
    cases (admin, agent), loyalty (every staff role), campaign mail (admin, marketer)."""

    contact_id: str
    cases: list[RelatedCase] | None = Field(description="null: the caller's roles may not read cases")
    loyalty: Membership | None = Field(description="null: not a member (or the roles may not read loyalty)")
    campaigns: list[CampaignMail] | None = Field(description="null: the caller's roles may not read campaigns")
    hidden: list[str] = Field(description="the sections the caller's roles may not read")
