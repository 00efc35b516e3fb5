"""Campaigns: the marketers' API, public unsubscribe pages, the planner and sender of runs, triggered
mail, the segment index, and SES feedback from the default bus."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ecrm import access
from ecrm.campaigns import settings
from ecrm.campaigns.feedback import DETAIL_TYPES as SES_DETAIL_TYPES
from ecrm.campaigns.feedback import SOURCE as SES_SOURCE
from ecrm.campaigns.models import TIER_CHANGED
from ecrm.campaigns.names import DetailType, Env, Resource
from ecrm.contact360.names import DetailType as Contact360DetailType
from ecrm.names import Source

from ecrm_infra.topology import send_shape
from ecrm_infra.topology.events import OUTBOX_ENV, OUTBOX_GRANT
from ecrm_infra.topology.spec import (
    Access,
    Capability,
    EventRule,
    Function,
    MetricAlarm,
    QueueTrigger,
    Table,
    fixed,
    timer_env,
    timer_grants,
)

TABLES = {Env.CAMPAIGNS_TABLE: Resource.CAMPAIGNS_TABLE, Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE}
TIMERS = timer_env(
    Resource.CAMPAIGN_SCHEDULES,
    Env.CAMPAIGN_SCHEDULE_GROUP,
    Resource.CAMPAIGN_PLAN_QUEUE,
    Env.PLAN_QUEUE_URL,
    Env.PLAN_QUEUE_ARN,
)
TIMER_GRANTS = timer_grants(Resource.CAMPAIGN_SCHEDULES, Resource.CAMPAIGN_PLAN_QUEUE)
LINKS = {
    Env.UNSUBSCRIBE_URL: "context:unsubscribeUrl",
    Env.PREFERENCES_URL: "context:preferencesUrl",
    Env.UNSUBSCRIBE_MAILTO: "context:unsubscribeMailto",
}
READ_CONTACTS = {Resource.CONTACTS_TABLE: Access.READ}
# Segment memberships, suppressions and preferences are written with a condition that the contact's
# profile still exists (a ConditionCheck on Contacts in the same transaction).
CHECK_CONTACTS = {Resource.CONTACTS_TABLE: Access.READ | Access.CHECK}
# Campaign documents are written whole (versioned puts); runs, send records and counters are
# updated in place.
WRITE = Access.READ | Access.PUT | Access.UPDATE
CONTEXT_DEFAULTS = {
    "unsubscribeUrl": "http://localhost:3000/unsubscribe",
    "preferencesUrl": "http://localhost:3000/preferences",
    "unsubscribeMailto": "",
    send_shape.SEND_RATE_KEY: "0",  # 0: the account's SES maximum send rate (GetSendQuota)
    # What a deployment with campaignSendRate 0 is shaped for (senders, timeout); deploy-time only.
    send_shape.MAX_SEND_RATE_KEY: str(send_shape.DEFAULT_MAX_RATE),
    "campaignTopics": "newsletter,offers,loyalty",
}
SENDER = "campaign_sender"


def sender_queue(shape: send_shape.SenderShape) -> QueueTrigger:
    # Up to 100 recipients per message, paced by the shared rate limiter; the visibility timeout
    # (6 x the timeout) outlasts the send records' 5-minute lease (docs/campaigns.md).
    return QueueTrigger(Resource.CAMPAIGN_SEND_QUEUE, batch_size=shape.batch_size, max_concurrency=shape.concurrency)


def shaped(capability: Capability, context: Mapping[str, str]) -> Capability:
    """Campaigns as deployed with `context`: the sender shaped for the deployment's send rate
    (concurrency, lanes, memory, timeout; the queue's visibility timeout follows the timeout)."""
    shape = send_shape.sender_shape(send_shape.deploy_rate(context))
    functions = tuple(
        replace(
            fn,
            env={**fn.env, Env.SENDER_LANES: fixed(shape.lanes)},
            queue=sender_queue(shape),
            timeout_seconds=shape.timeout_seconds,
            reserved_concurrency=shape.concurrency,
            memory_mb=shape.memory_mb,
        )
        if fn.name == SENDER
        else fn
        for fn in capability.functions
    )
    return replace(capability, functions=functions)


# The sender as the default context shapes it (the local stack and the tests read this one).
SENDER_SHAPE = send_shape.sender_shape(send_shape.deploy_rate(CONTEXT_DEFAULTS))

CAMPAIGNS = Capability(
    name="Campaigns",
    schedule_group=Resource.CAMPAIGN_SCHEDULES,
    tables=(Table(Resource.CAMPAIGNS_TABLE, indexes=("gsi1",)),),
    functions=(
        Function(
            name="campaigns_api",
            description="Marketers' API: templates, segments, campaigns and their lifecycle, previews, stats",
            settings=settings.CampaignsApiSettings,
            env={**TABLES, **OUTBOX_ENV, **TIMERS, **LINKS},
            grants={
                # Lists; a triggered campaign that stops sending leaves the trigger index (a Delete);
                # a resume restarts the open run (an update) and plans it now.
                Resource.CAMPAIGNS_TABLE: WRITE | Access.QUERY | Access.DELETE,
                **READ_CONTACTS,
                **OUTBOX_GRANT,
                **TIMER_GRANTS,
            },
            routes=access.CAMPAIGNS_API,
            timeout_seconds=15,
        ),
        Function(
            name="campaigns_unsubscribe",
            description="Public RFC 8058 one-click unsubscribe and the per-topic preferences page",
            settings=settings.UnsubscribeSettings,
            env={
                **TABLES,
                **OUTBOX_ENV,
                Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
                Env.TOPICS: "context:campaignTopics",
            },
            grants={
                Resource.CAMPAIGNS_TABLE: WRITE,
                **CHECK_CONTACTS,
                **OUTBOX_GRANT,
                Resource.SIGNING_SECRET: Access.READ,
            },
            routes=access.CAMPAIGNS_UNSUBSCRIBE,
        ),
        Function(
            name="campaign_planner",
            description="Starts campaign runs and pages their segment onto the send queue; picks A/B winners",
            settings=settings.PlannerSettings,
            env={**TABLES, **OUTBOX_ENV, **TIMERS, Env.SEND_QUEUE_URL: Resource.CAMPAIGN_SEND_QUEUE},
            grants={
                Resource.CAMPAIGNS_TABLE: WRITE | Access.QUERY,  # pages the segment index
                **OUTBOX_GRANT,
                **TIMER_GRANTS,
                Resource.CAMPAIGN_SEND_QUEUE: Access.SEND,
            },
            # One command per invocation: a plan step uses the whole timeout, then hands over.
            queue=QueueTrigger(Resource.CAMPAIGN_PLAN_QUEUE, scheduler_target=True, batch_size=1, max_concurrency=5),
            timeout_seconds=120,
        ),
        Function(
            name=SENDER,
            description="Renders and sends campaign mail through SES at the shared send rate, once per contact",
            settings=settings.SenderSettings,
            env={
                **TABLES,
                **OUTBOX_ENV,
                **TIMERS,
                **LINKS,
                Env.SIGNING_SECRET: Resource.SIGNING_SECRET,
                Env.SENDER: "context:senderAddress",
                Env.SES_CONFIGURATION_SET: "context:sesConfigurationSet",
                Env.SEND_RATE: "context:campaignSendRate",
                Env.SENDER_LANES: fixed(SENDER_SHAPE.lanes),
            },
            grants={
                # Send records: claimed (Put), settled (Update), released after a transient failure (Delete).
                Resource.CAMPAIGNS_TABLE: WRITE | Access.DELETE,
                **READ_CONTACTS,
                **OUTBOX_GRANT,
                **TIMER_GRANTS,
                Resource.SIGNING_SECRET: Access.READ,
                Resource.MAIL: Access.SEND_MAIL | Access.SEND_QUOTA,
            },
            # Concurrency, timeout and batch size follow the send rate (`shaped`, send_shape.py).
            queue=sender_queue(SENDER_SHAPE),
            timeout_seconds=SENDER_SHAPE.timeout_seconds,
            reserved_concurrency=SENDER_SHAPE.concurrency,
            memory_mb=SENDER_SHAPE.memory_mb,
        ),
        Function(
            name="campaign_triggers",
            description="Sends triggered campaigns (welcome, tier congratulation) to the contact an event names",
            settings=settings.TriggerSettings,
            env={**TABLES, **TIMERS, Env.SEND_QUEUE_URL: Resource.CAMPAIGN_SEND_QUEUE},
            grants={
                Resource.CAMPAIGNS_TABLE: Access.READ | Access.QUERY,  # the live triggered campaigns, by index
                **READ_CONTACTS,
                **TIMER_GRANTS,
                Resource.CAMPAIGN_SEND_QUEUE: Access.SEND,
            },
            queue=QueueTrigger(
                Resource.CAMPAIGN_TRIGGER_QUEUE,
                rule=EventRule(
                    sources=(Source.CONTACTS, Source.LOYALTY),
                    detail_types=(DetailType.CONSENT_CONFIRMED, DetailType.CONTACT_CAPTURED, TIER_CHANGED),
                ),
            ),
            timeout_seconds=20,
        ),
        Function(
            name="campaign_segments",
            description="Keeps the segment index current from contact, loyalty-tier, company and suppression events",
            settings=settings.MembershipSettings,
            env=dict(TABLES),
            grants={
                # Memberships move: old ones deleted (in transactions, and in batches for an erased contact).
                Resource.CAMPAIGNS_TABLE: WRITE | Access.QUERY | Access.DELETE | Access.BATCH_WRITE,
                **CHECK_CONTACTS,
            },
            queue=QueueTrigger(
                Resource.SEGMENT_INDEX_QUEUE,
                rule=EventRule(
                    sources=(Source.CONTACTS, Source.LOYALTY, Source.CAMPAIGNS, Source.CONTACT360),
                    detail_types=(
                        DetailType.CONTACT_CAPTURED,
                        DetailType.CONTACT_UPDATED,
                        DetailType.CONSENT_CONFIRMED,
                        DetailType.CONTACT_ERASED,
                        TIER_CHANGED,
                        DetailType.MAIL_SUPPRESSED,
                        Contact360DetailType.CONTACT_COMPANY_CHANGED,
                    ),
                ),
            ),
            timeout_seconds=20,
        ),
        Function(
            name="campaign_feedback",
            description="SES events from the default bus: suppression, deliveries, opens, clicks per recipient",
            settings=settings.FeedbackSettings,
            env={
                **TABLES,
                **OUTBOX_ENV,
                Env.UNSUBSCRIBE_URL: "context:unsubscribeUrl",
                Env.PREFERENCES_URL: "context:preferencesUrl",
            },
            grants={Resource.CAMPAIGNS_TABLE: WRITE, **CHECK_CONTACTS, **OUTBOX_GRANT},
            queue=QueueTrigger(
                Resource.SES_FEEDBACK_QUEUE,
                # SES publishes configuration-set events to the account's default bus only.
                rule=EventRule(sources=(SES_SOURCE,), detail_types=SES_DETAIL_TYPES, bus="default"),
            ),
            timeout_seconds=20,
        ),
    ),
    context_defaults=CONTEXT_DEFAULTS,
    deploy=shaped,
    alarms=(
        MetricAlarm(
            "MailOutcomeUnknown",
            0,
            "campaign mail whose SES outcome is unknown (timeout or crash mid-send): look for a Sent event",
        ),
        MetricAlarm("MailComplaint", 10, "complaints about campaign mail (SES feedback) in an hour", period_minutes=60),
        MetricAlarm("MailHardBounce", 100, "hard bounces of our mail (SES feedback) in an hour", period_minutes=60),
    ),
)
