"""Settings of the journeys functions, read once from the environment by the composition root;
the topology (infra/ecrm_infra/topology/journeys.py) names the model per function."""

from __future__ import annotations

from pydantic import Field

from ecrm.campaigns.names import Env as CampaignEnv
from ecrm.campaigns.settings import UnsubscribeLinks
from ecrm.cases.names import Env as CaseEnv
from ecrm.journeys.names import Env
from ecrm.settings import FromEnv


class JourneyTables(FromEnv):
    journeys_table: str = Field(alias=Env.JOURNEYS_TABLE)
    campaigns_table: str = Field(alias=CampaignEnv.CAMPAIGNS_TABLE, description="templates, preferences, the send rate")
    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)
    run_queue_url: str = Field(alias=Env.RUN_QUEUE_URL, description="resume pages go to the runner")


class JourneysApiSettings(JourneyTables):
    """The marketers' API: definitions, versions, start/pause/resume/stop, stats."""

    topics_csv: str = Field(alias=CampaignEnv.TOPICS, description="the campaign topics a mail step may name")

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.topics_csv.split(",") if t.strip())


class JourneyRunnerSettings(JourneyTables, UnsubscribeLinks):
    """Events, due timers and resume pages: each contact's steps."""

    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    cases_table: str = Field(alias=CaseEnv.CASES_TABLE, description="a solved case's requester")
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
    send_rate: int = Field(alias=CampaignEnv.SEND_RATE, ge=0, description="mails per second; 0: the account's quota")
    schedule_group: str = Field(alias=Env.JOURNEY_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    run_queue_arn: str = Field(alias=Env.RUN_QUEUE_ARN)
