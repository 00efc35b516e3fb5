"""Settings of the campaigns functions: API, unsubscribe pages, planner, sender, triggers, segments, feedback.

Each model is read once from the environment by the composition root; the topology
(infra/ecrm_infra/topology/campaigns.py) names it per function, and tests/infra checks the function's
environment against it.
"""

from __future__ import annotations

from pydantic import Field

from ecrm.campaigns.names import Env
from ecrm.settings import FromEnv

# The most recipients one sender works on at once (infra's send_shape derives the deployed count).
# At most botocore's default connection pool per client (10): a lane never waits for a connection.
MAX_LANES = 8


class CampaignTables(FromEnv):
    table_name: str = Field(alias=Env.CAMPAIGNS_TABLE)
    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)


class CampaignTimers(FromEnv):
    """Timers on EventBridge Scheduler, delivered to the campaign plan queue."""

    schedule_group: str = Field(alias=Env.CAMPAIGN_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    plan_queue_url: str = Field(alias=Env.PLAN_QUEUE_URL)
    plan_queue_arn: str = Field(alias=Env.PLAN_QUEUE_ARN)


class UnsubscribeLinks(FromEnv):
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
    lanes: int = Field(alias=Env.SENDER_LANES, ge=1, le=MAX_LANES, description="recipients worked on at once")


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
