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
    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)


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


# --- cases ---------------------------------------------------------------------------------------


class _CasesTable(_FromEnv):
    cases_table: str = Field(alias=Env.CASES_TABLE)


class CaseWriterSettings(_CasesTable):
    """What every function that changes cases needs: their table, the outbox (events commit with
    the change), the SLA timers (the stack's schedule group, the role Scheduler delivers with, the
    timer queue) and the policy cache."""

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    schedule_group: str = Field(alias=Env.CASE_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    timer_queue_url: str = Field(alias=Env.CASE_TIMER_QUEUE_URL)
    timer_queue_arn: str = Field(alias=Env.CASE_TIMER_QUEUE_ARN)
    policy_cache_seconds: int = Field(alias=Env.CASE_POLICY_CACHE_SECONDS, ge=0, le=600)


class CaseTimerSettings(CaseWriterSettings):
    """The SLA timer consumer."""


class CaseIntakeSettings(CaseWriterSettings):
    """The intake queue consumer: requesters become contacts."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)


class CasesFormSettings(CaseIntakeSettings):
    """The public support form and the CSAT survey."""

    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    thank_you_url: str = Field(alias=Env.THANK_YOU_URL)
    allowed_origins: str = Field(alias=Env.ALLOWED_ORIGINS, description="comma-separated origins")

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())


class CaseRecomputeSettings(CaseWriterSettings):
    """Timer plans redone after a policy edit, a page of cases per message."""

    recompute_queue_url: str = Field(alias=Env.CASE_RECOMPUTE_QUEUE_URL)


class CasesApiSettings(CaseIntakeSettings):
    """The role-protected cases API for agents."""


class CasesAdminSettings(_CasesTable):
    """SLA policies, the staff directory and metrics (admins; metrics and policies readable by agents)."""

    recompute_queue_url: str = Field(alias=Env.CASE_RECOMPUTE_QUEUE_URL)
    policy_cache_seconds: int = Field(alias=Env.CASE_POLICY_CACHE_SECONDS, ge=0, le=600)


class CaseMailerSettings(_CasesTable):
    """Case mail: public replies, CSAT surveys, SLA warnings and escalation notices."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
    csat_url: str = Field(alias=Env.CSAT_URL)
    case_url: str = Field(alias=Env.CASE_AGENT_URL, description="the agent UI's case page, with {case_id}")
    csat_ttl_days: int = Field(alias=Env.CSAT_TTL_DAYS, ge=1, le=90)
    fallback_address: str = Field(alias=Env.CASE_FALLBACK_ADDRESS, description="gets notices nobody else would")
    ack_channels: str = Field(
        default="",
        alias=Env.CASE_ACK_CHANNELS,
        pattern=r"^((web|agent|email|chat|partner)(,(web|agent|email|chat|partner))*)?$",
        description="channels whose new cases are acknowledged to the requester by mail, comma-separated",
    )

    @property
    def acknowledged_channels(self) -> frozenset[str]:
        return frozenset(c for c in self.ack_channels.split(",") if c)


class CaseErasureSettings(_CasesTable):
    """Redacts the cases of a contact who was erased."""


# -- campaigns ---------------------------------------------------------------------------------


class CampaignTables(_FromEnv):
    table_name: str = Field(alias=Env.CAMPAIGNS_TABLE)
    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)


class CampaignTimers(_FromEnv):
    """Timers on EventBridge Scheduler, delivered to the campaign plan queue."""

    schedule_group: str = Field(alias=Env.CAMPAIGN_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    plan_queue_url: str = Field(alias=Env.PLAN_QUEUE_URL)
    plan_queue_arn: str = Field(alias=Env.PLAN_QUEUE_ARN)


class UnsubscribeLinks(_FromEnv):
    unsubscribe_url: str = Field(alias=Env.UNSUBSCRIBE_URL)
    preferences_url: str = Field(alias=Env.PREFERENCES_URL)
    unsubscribe_mailto: str = Field(alias=Env.UNSUBSCRIBE_MAILTO, description="empty: no mailto: alternative")


class CampaignsApiSettings(CampaignTables, CampaignTimers, UnsubscribeLinks):
    """The marketers' API: templates, segments, campaigns, previews, stats."""

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)


class UnsubscribeSettings(CampaignTables):
    """Public one-click unsubscribe and preferences pages."""

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    topics_csv: str = Field(alias=Env.TOPICS, description="comma-separated topics on the preferences page")

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.topics_csv.split(",") if t.strip())


class PlannerSettings(CampaignTables, CampaignTimers):
    """Plan queue consumer: starts runs, pages segments onto the send queue, A/B winners."""

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    send_queue_url: str = Field(alias=Env.SEND_QUEUE_URL)


class SenderSettings(CampaignTables, CampaignTimers, UnsubscribeLinks):
    """Send queue consumer: renders and sends campaign mail at the shared rate."""

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
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

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    unsubscribe_url: str = Field(alias=Env.UNSUBSCRIBE_URL)
    preferences_url: str = Field(alias=Env.PREFERENCES_URL)


# --- loyalty -------------------------------------------------------------------------------------


class LoyaltyProgrammeSettings(_FromEnv):
    """The programme API: read and replace the earn rules, tiers and expiry settings."""

    loyalty_table: str = Field(alias=Env.LOYALTY_TABLE)


class LoyaltyApiSettings(_FromEnv):
    """The member API: balances, history, redemptions, adjustments, the programme."""

    loyalty_table: str = Field(alias=Env.LOYALTY_TABLE)
    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    schedule_group: str = Field(alias=Env.LOYALTY_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    timer_queue_url: str = Field(alias=Env.LOYALTY_TIMER_QUEUE_URL)
    timer_queue_arn: str = Field(alias=Env.LOYALTY_TIMER_QUEUE_ARN)


class LoyaltyAccrualSettings(LoyaltyApiSettings):
    """The shop's order events into the ledger; members found (or created) among the contacts."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)


class LoyaltyUpkeepSettings(LoyaltyAccrualSettings):
    """Lot expiry, expiry warning mail and tier reviews (Scheduler's timers), and ContactErased."""

    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)


# --- platform ------------------------------------------------------------------------------------


class EventRelaySettings(_FromEnv):
    """The outbox relay: the Outbox table's stream -> the bus."""

    event_bus: str = Field(alias=Env.EVENT_BUS)
