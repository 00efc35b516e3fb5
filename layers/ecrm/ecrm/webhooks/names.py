"""Names of the webhooks capability: its table, queues, schedule group and settings.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike.
"""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the webhooks capability."""

    WEBHOOKS_TABLE: Final = "WEBHOOKS_TABLE_NAME"
    WEBHOOK_SCHEDULE_GROUP: Final = "WEBHOOK_SCHEDULE_GROUP_NAME"
    WEBHOOK_QUEUE_URL: Final = "WEBHOOK_DELIVERY_QUEUE_URL"
    WEBHOOK_QUEUE_ARN: Final = "WEBHOOK_DELIVERY_QUEUE_ARN"
    # "true" lets endpoints resolve to loopback addresses and use plain http (ecrm local, tests)
    WEBHOOK_ALLOW_LOOPBACK: Final = "WEBHOOK_ALLOW_LOOPBACK"
    WEBHOOK_RETRY_HOURS: Final = "WEBHOOK_RETRY_HOURS"  # how long a delivery is retried, at least
    WEBHOOK_DISABLE_AFTER_DAYS: Final = "WEBHOOK_DISABLE_AFTER_DAYS"  # failing that long: disabled
    WEBHOOK_ALERT_ADDRESS: Final = "WEBHOOK_ALERT_ADDRESS"  # admins mailed when an endpoint is disabled


class Resource(names.Resource):
    """Logical names of the webhooks capability's resources."""

    WEBHOOKS_TABLE: Final = "Webhooks"  # endpoints, their deliveries and per-second send counters
    WEBHOOK_EVENT_QUEUE: Final = "WebhookEventQueue"  # every event some webhook type carries
    WEBHOOK_DELIVERY_QUEUE: Final = "WebhookDeliveryQueue"  # one message per delivery attempt (and its timers)
    WEBHOOK_SCHEDULES: Final = "WebhookSchedules"  # retry timers
