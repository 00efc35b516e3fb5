"""Events the campaigns capability publishes: ids only, never an address or a name."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from ecrm.campaigns.names import DetailType
from ecrm.events import DomainEvent
from ecrm.names import Source


class CampaignEvent(DomainEvent):
    source: ClassVar[str] = Source.CAMPAIGNS


class CampaignScheduled(CampaignEvent):
    detail_type: ClassVar[str] = DetailType.CAMPAIGN_SCHEDULED

    campaign_id: str
    kind: Literal["one_off", "recurring", "triggered"]
    send_at: datetime | None = None  # one-off only


class CampaignSendStarted(CampaignEvent):
    detail_type: ClassVar[str] = DetailType.CAMPAIGN_SEND_STARTED

    campaign_id: str
    run_id: str


class CampaignSent(CampaignEvent):
    detail_type: ClassVar[str] = DetailType.CAMPAIGN_SENT

    campaign_id: str
    run_id: str
    targeted: int


class MailSuppressed(CampaignEvent):
    """An address was put on the suppression list. `contact_id` when we know whose it is."""

    detail_type: ClassVar[str] = DetailType.MAIL_SUPPRESSED

    reason: Literal["bounced", "complained"]
    contact_id: str | None = None


class ContactUnsubscribed(CampaignEvent):
    detail_type: ClassVar[str] = DetailType.CONTACT_UNSUBSCRIBED

    contact_id: str
    topics: list[str]  # "all" for everything
    campaign_id: str | None = None


CAMPAIGN_EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.detail_type: cls
    for cls in (CampaignScheduled, CampaignSendStarted, CampaignSent, MailSuppressed, ContactUnsubscribed)
}
