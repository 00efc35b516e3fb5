"""Per-function settings models, read once from the environment by each composition root.

tests/infra checks every function's CDK environment against the model named in the topology.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from ecrm.names import Env


class _FromEnv(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class ContactsApiSettings(_FromEnv):
    """Role-protected contacts API."""

    table_name: str = Field(alias=Env.CONTACTS_TABLE)
    event_bus: str = Field(alias=Env.EVENT_BUS)


class CaptureSettings(ContactsApiSettings):
    """Public capture and consent-confirmation routes."""

    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    thank_you_url: str = Field(alias=Env.THANK_YOU_URL)
    allowed_origins: str = Field(alias=Env.ALLOWED_ORIGINS, description="comma-separated origins")
    consent_text_version: str = Field(alias=Env.CONSENT_TEXT_VERSION)

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())


class ConsentMailerSettings(_FromEnv):
    """Sends the double opt-in confirmation mail."""

    table_name: str = Field(alias=Env.CONTACTS_TABLE)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
    confirm_url: str = Field(alias=Env.CONFIRM_URL)
    token_ttl_hours: int = Field(alias=Env.CONFIRM_TTL_HOURS, ge=1, le=24 * 30)


# -- campaigns ---------------------------------------------------------------------------------


class CampaignTables(_FromEnv):
    table_name: str = Field(alias=Env.CAMPAIGNS_TABLE)
    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)


class CampaignTimers(_FromEnv):
    """Timers on EventBridge Scheduler, delivered to the campaign plan queue."""

    schedule_group: str = Field(alias=Env.SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    plan_queue_url: str = Field(alias=Env.PLAN_QUEUE_URL)
    plan_queue_arn: str = Field(alias=Env.PLAN_QUEUE_ARN)


class UnsubscribeLinks(_FromEnv):
    unsubscribe_url: str = Field(alias=Env.UNSUBSCRIBE_URL)
    preferences_url: str = Field(alias=Env.PREFERENCES_URL)
    unsubscribe_mailto: str = Field(alias=Env.UNSUBSCRIBE_MAILTO, description="empty: no mailto: alternative")


class CampaignsApiSettings(CampaignTables, CampaignTimers, UnsubscribeLinks):
    """The marketers' API: templates, segments, campaigns, previews, stats."""

    event_bus: str = Field(alias=Env.EVENT_BUS)


class UnsubscribeSettings(CampaignTables):
    """Public one-click unsubscribe and preferences pages."""

    event_bus: str = Field(alias=Env.EVENT_BUS)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    topics_csv: str = Field(alias=Env.TOPICS, description="comma-separated topics on the preferences page")

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.topics_csv.split(",") if t.strip())


class PlannerSettings(CampaignTables, CampaignTimers):
    """Plan queue consumer: starts runs, pages segments onto the send queue, A/B winners."""

    event_bus: str = Field(alias=Env.EVENT_BUS)
    send_queue_url: str = Field(alias=Env.SEND_QUEUE_URL)


class SenderSettings(CampaignTables, CampaignTimers, UnsubscribeLinks):
    """Send queue consumer: renders and sends campaign mail at the shared rate."""

    event_bus: str = Field(alias=Env.EVENT_BUS)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
    send_rate: int = Field(alias=Env.SEND_RATE, ge=0, description="mails per second; 0: the account's SES quota")


class TriggerSettings(CampaignTables, CampaignTimers):
    """Bus events that trigger campaign mail."""

    send_queue_url: str = Field(alias=Env.SEND_QUEUE_URL)


class MembershipSettings(CampaignTables):
    """Keeps the segment index current from contact, loyalty and suppression events."""


class FeedbackSettings(CampaignTables):
    """SES events (default bus): suppression, delivery, opens, clicks."""

    event_bus: str = Field(alias=Env.EVENT_BUS)
    unsubscribe_url: str = Field(alias=Env.UNSUBSCRIBE_URL)
    preferences_url: str = Field(alias=Env.PREFERENCES_URL)
