"""Journeys: the marketers' API, and one runner that hears every event a journey can start or
wait on (our bus, and SES engagement on the default bus), its own wait timers and resume pages."""

from __future__ import annotations

from ecrm import access
from ecrm.campaigns.names import Env as CampaignEnv
from ecrm.campaigns.names import Resource as CampaignResource
from ecrm.cases.names import Env as CaseEnv
from ecrm.cases.names import Resource as CaseResource
from ecrm.journeys import catalogue, settings
from ecrm.journeys.names import Env, Resource

from ecrm_infra.topology.campaigns import LINKS
from ecrm_infra.topology.contacts import MAIL_LOG
from ecrm_infra.topology.events import OUTBOX_ENV, OUTBOX_GRANT
from ecrm_infra.topology.spec import (
    Access,
    Capability,
    EventRule,
    Function,
    MetricAlarm,
    QueueTrigger,
    Table,
    timer_env,
    timer_grants,
)

TABLES = {
    Env.JOURNEYS_TABLE: Resource.JOURNEYS_TABLE,
    CampaignEnv.CAMPAIGNS_TABLE: CampaignResource.CAMPAIGNS_TABLE,
    Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
    Env.RUN_QUEUE_URL: Resource.JOURNEY_RUN_QUEUE,
}
HEARD = EventRule(sources=catalogue.BUS_SOURCES, detail_types=catalogue.BUS_TYPES)
ENGAGEMENT = EventRule(
    sources=(catalogue.SES_SOURCE,), detail_types=(catalogue.OPENED, catalogue.CLICKED), bus="default"
)

JOURNEYS = Capability(
    name="Journeys",
    schedule_group=Resource.JOURNEY_SCHEDULES,
    tables=(Table(Resource.JOURNEYS_TABLE, indexes=("gsi1",)),),
    functions=(
        Function(
            name="journeys_api",
            description="Marketers: journey definitions and versions, start/pause/resume/stop, stats",
            settings=settings.JourneysApiSettings,
            env={**TABLES, CampaignEnv.TOPICS: "context:campaignTopics"},
            # journeys and versions written whole (conditional puts in one transaction); listed,
            # counters and a contact's progress queried; templates looked up in the campaigns' table
            grants={
                Resource.JOURNEYS_TABLE: Access.READ | Access.QUERY | Access.PUT,
                CampaignResource.CAMPAIGNS_TABLE: Access.READ,
                Resource.JOURNEY_RUN_QUEUE: Access.SEND,
            },
            routes=access.JOURNEYS_API,
        ),
        Function(
            name="journeys_runner",
            description="Events, wait timers and resume pages -> each contact's journey steps, once each",
            settings=settings.JourneyRunnerSettings,
            env={
                **TABLES,
                **OUTBOX_ENV,
                **LINKS,
                **timer_env(
                    Resource.JOURNEY_SCHEDULES,
                    Env.JOURNEY_SCHEDULE_GROUP,
                    Resource.JOURNEY_RUN_QUEUE,
                    Env.RUN_QUEUE_URL,
                    Env.RUN_QUEUE_ARN,
                ),
                CaseEnv.CASES_TABLE: CaseResource.CASES_TABLE,
                Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
                Env.SENDER: "context:senderAddress",
                Env.SES_CONFIGURATION_SET: "context:sesConfigurationSet",
                CampaignEnv.SEND_RATE: "context:campaignSendRate",
            },
            grants={
                # progress put conditionally with its counters (Update) in one transaction; the
                # journey's status checked on entry; mail claims (MAIL_LOG); an erasure queries and
                # batch-deletes the contact's partition; held contacts paged (gsi1)
                Resource.JOURNEYS_TABLE: MAIL_LOG | Access.QUERY | Access.CHECK | Access.BATCH_WRITE,
                # templates, preferences and member snapshots read; the shared send rate taken (Update)
                CampaignResource.CAMPAIGNS_TABLE: Access.READ | Access.UPDATE,
                # a step's tags and fields: the contacts' own versioned write (a transaction of Puts
                # and Deletes: profile, tags, index entries); recipients and an order's address read
                Resource.CONTACTS_TABLE: Access.READ | Access.PUT | Access.DELETE,
                CaseResource.CASES_TABLE: Access.READ,
                **OUTBOX_GRANT,
                **timer_grants(Resource.JOURNEY_SCHEDULES, Resource.JOURNEY_RUN_QUEUE),
                Resource.SIGNING_SECRET: Access.READ,
                Resource.MAIL: Access.SEND_MAIL | Access.SEND_QUOTA,
            },
            queue=QueueTrigger(Resource.JOURNEY_RUN_QUEUE, rule=HEARD, more_rules=(ENGAGEMENT,), scheduler_target=True),
            timeout_seconds=60,
        ),
    ),
    alarms=(
        MetricAlarm(
            metric="JourneyMessageFailed",
            threshold=0,
            description="The journeys' runner failed a message: it is retried, then parked in the DLQ",
        ),
        MetricAlarm(
            metric="JourneyMessageMalformed",
            threshold=0,
            description="A message on the journeys' runner queue could not be read: it went to the DLQ",
        ),
    ),
)
