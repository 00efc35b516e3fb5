"""Composition root of the webhooks functions: settings in, wired services out; clients made here
are used on first call (boto3 sessions per function, as every capability does)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import boto3

from ecrm.adapters.clients import on_first_use
from ecrm.adapters.scheduler import SchedulerTimers
from ecrm.adapters.sqs import SqsQueue
from ecrm.clock import SYSTEM_CLOCK
from ecrm.webhooks.adapters.dns_hosts import SystemHosts
from ecrm.webhooks.adapters.dynamo_webhooks import (
    DynamoDeliveries,
    DynamoEndpointMail,
    DynamoEndpoints,
    DynamoRates,
)
from ecrm.webhooks.adapters.http_sender import HttpSender
from ecrm.webhooks.delivery import Alerts, Deliverer, FanOut
from ecrm.webhooks.endpoints import EndpointService
from ecrm.webhooks.settings import DeliverySettings, FanOutSettings, WebhooksApiSettings

if TYPE_CHECKING:
    from boto3 import Session


def _session() -> Session:
    return boto3.session.Session()


def webhooks_api(settings: WebhooksApiSettings) -> EndpointService:
    session = _session()
    db = session.client("dynamodb")
    return EndpointService(
        endpoints=DynamoEndpoints(db, settings.webhooks_table),
        deliveries=DynamoDeliveries(db, settings.webhooks_table),
        attempts=SqsQueue(on_first_use(session, "sqs"), settings.delivery_queue_url),
        hosts=SystemHosts(),
        clock=SYSTEM_CLOCK,
        allow_loopback=settings.allow_loopback,
    )


def fan_out(settings: FanOutSettings) -> FanOut:
    session = _session()
    db = session.client("dynamodb")
    return FanOut(
        endpoints=DynamoEndpoints(db, settings.webhooks_table),
        deliveries=DynamoDeliveries(db, settings.webhooks_table),
        attempts=SqsQueue(on_first_use(session, "sqs"), settings.delivery_queue_url),
        clock=SYSTEM_CLOCK,
    )


def deliverer(settings: DeliverySettings) -> Deliverer:
    from ecrm.adapters.ses import SesMailer  # the one function that mails

    session = _session()
    db = session.client("dynamodb")
    timers = SchedulerTimers(
        on_first_use(session, "scheduler"),
        on_first_use(session, "sqs"),
        SYSTEM_CLOCK,
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.delivery_queue_arn,
        queue_url=settings.delivery_queue_url,
    )
    return Deliverer(
        endpoints=DynamoEndpoints(db, settings.webhooks_table),
        deliveries=DynamoDeliveries(db, settings.webhooks_table),
        rates=DynamoRates(db, settings.webhooks_table),
        sender=HttpSender(),
        hosts=SystemHosts(),
        timers=timers,
        clock=SYSTEM_CLOCK,
        alerts=Alerts(
            mailer=SesMailer(on_first_use(session, "sesv2"), settings.sender, settings.configuration_set),
            log=DynamoEndpointMail(db, settings.webhooks_table),
            to=settings.alert_address,
            clock=SYSTEM_CLOCK,
        ),
        retry_for=timedelta(hours=settings.retry_hours),
        disable_after=timedelta(days=settings.disable_after_days),
        allow_loopback=settings.allow_loopback,
    )
