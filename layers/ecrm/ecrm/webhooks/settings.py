"""Settings of the webhooks functions, read once from the environment by the composition root;
the topology (infra/ecrm_infra/topology/webhooks.py) names the model per function."""

from __future__ import annotations

from pydantic import Field

from ecrm.settings import FromEnv
from ecrm.webhooks.names import Env


class _Webhooks(FromEnv):
    webhooks_table: str = Field(alias=Env.WEBHOOKS_TABLE)
    delivery_queue_url: str = Field(alias=Env.WEBHOOK_QUEUE_URL)
    allow_loopback: bool = Field(alias=Env.WEBHOOK_ALLOW_LOOPBACK, description="ecrm local: loopback and http")


class WebhooksApiSettings(_Webhooks):
    """Endpoints, their secrets and delivery logs; redeliveries go onto the delivery queue."""


class FanOutSettings(_Webhooks):
    """Bus events -> one delivery per matching endpoint, its first attempt onto the delivery queue."""


class DeliverySettings(_Webhooks):
    """Attempts: signed POSTs, retry timers in the capability's schedule group."""

    schedule_group: str = Field(alias=Env.WEBHOOK_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    delivery_queue_arn: str = Field(alias=Env.WEBHOOK_QUEUE_ARN)
    retry_hours: int = Field(alias=Env.WEBHOOK_RETRY_HOURS, ge=24, le=72)
    disable_after_days: int = Field(alias=Env.WEBHOOK_DISABLE_AFTER_DAYS, ge=1, le=60)
    alert_address: str = Field(alias=Env.WEBHOOK_ALERT_ADDRESS)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
