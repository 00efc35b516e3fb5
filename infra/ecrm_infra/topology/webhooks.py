"""Outbound webhooks: admins' endpoints (API), the fan-out of bus events into deliveries, and the
deliverer that signs and POSTs each attempt, retrying through its own Scheduler group."""

from __future__ import annotations

from ecrm import access
from ecrm.webhooks import settings
from ecrm.webhooks.catalogue import TYPES
from ecrm.webhooks.names import Env, Resource

from ecrm_infra.topology.contacts import MAIL_LOG
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

TABLE_ENV = {
    Env.WEBHOOKS_TABLE: Resource.WEBHOOKS_TABLE,
    Env.WEBHOOK_QUEUE_URL: Resource.WEBHOOK_DELIVERY_QUEUE,
    Env.WEBHOOK_ALLOW_LOOPBACK: "context:webhookAllowLoopback",
}
EVENTS = EventRule(
    sources=tuple(sorted({t.source for t in TYPES})), detail_types=tuple(sorted({t.detail_type for t in TYPES}))
)

WEBHOOKS = Capability(
    name="Webhooks",
    schedule_group=Resource.WEBHOOK_SCHEDULES,
    tables=(Table(Resource.WEBHOOKS_TABLE, indexes=("gsi1",)),),
    context_defaults={
        "webhookAllowLoopback": "false",
        "webhookRetryHours": "24",
        "webhookDisableAfterDays": "5",
        "webhookAlertAddress": "crm-admins@example.com",
    },
    functions=(
        Function(
            name="webhooks_api",
            description="Admins: webhook endpoints, signing secrets, delivery logs, redelivery and replay",
            settings=settings.WebhooksApiSettings,
            env=dict(TABLE_ENV),
            # endpoints put whole (versioned) and listed; deliveries read, paged and reopened;
            # redeliveries sent to the delivery queue
            grants={
                Resource.WEBHOOKS_TABLE: Access.READ | Access.QUERY | Access.PUT | Access.UPDATE | Access.DELETE,
                Resource.WEBHOOK_DELIVERY_QUEUE: Access.SEND,
            },
            routes=access.WEBHOOKS_API,
        ),
        Function(
            name="webhooks_fanout",
            description="Every event a webhook type carries -> one delivery per matching endpoint, once",
            settings=settings.FanOutSettings,
            env=dict(TABLE_ENV),
            # deliveries added; on an erasure, those naming the contact found (gsi1) and their
            # receivers' answers blanked (decision 87)
            grants={
                Resource.WEBHOOKS_TABLE: Access.READ | Access.QUERY | Access.PUT | Access.UPDATE,
                Resource.WEBHOOK_DELIVERY_QUEUE: Access.SEND,
            },
            queue=QueueTrigger(Resource.WEBHOOK_EVENT_QUEUE, rule=EVENTS),
        ),
        Function(
            name="webhooks_delivery",
            description="One signed POST per attempt: retried with backoff for a day, within each endpoint's rate",
            settings=settings.DeliverySettings,
            env={
                **TABLE_ENV,
                **timer_env(
                    Resource.WEBHOOK_SCHEDULES,
                    Env.WEBHOOK_SCHEDULE_GROUP,
                    Resource.WEBHOOK_DELIVERY_QUEUE,
                    Env.WEBHOOK_QUEUE_URL,
                    Env.WEBHOOK_QUEUE_ARN,
                ),
                Env.WEBHOOK_RETRY_HOURS: "context:webhookRetryHours",
                Env.WEBHOOK_DISABLE_AFTER_DAYS: "context:webhookDisableAfterDays",
                Env.WEBHOOK_ALERT_ADDRESS: "context:webhookAlertAddress",
                Env.SENDER: "context:senderAddress",
                Env.SES_CONFIGURATION_SET: "context:sesConfigurationSet",
            },
            # the delivery and endpoint read, the attempt claimed and settled, the endpoint's health
            # put (versioned), the per-second counter updated, the disabled endpoint's mail claimed
            # (claim put, settled, released on a transient failure); retry timers in its own group
            grants={
                Resource.WEBHOOKS_TABLE: MAIL_LOG,
                Resource.MAIL: Access.SEND_MAIL,
                **timer_grants(Resource.WEBHOOK_SCHEDULES, Resource.WEBHOOK_DELIVERY_QUEUE),
            },
            # small batches: a receiver that times out holds its batch 5 s per message at most
            queue=QueueTrigger(Resource.WEBHOOK_DELIVERY_QUEUE, scheduler_target=True, batch_size=5),
            timeout_seconds=40,
        ),
    ),
    alarms=(
        MetricAlarm(
            metric="WebhookAttemptGaveUp",
            threshold=0,
            description="A webhook delivery failed for a day and was given up: the endpoint's owner should look",
        ),
        MetricAlarm(
            metric="WebhookEventMalformed",
            threshold=0,
            description="An event a webhook type carries could not be read: it went to the DLQ",
        ),
    ),
)
