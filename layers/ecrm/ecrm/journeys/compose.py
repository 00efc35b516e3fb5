"""Composition root of the journeys functions: settings in, the admin or the runner out."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

import boto3

from ecrm.adapters import dynamo
from ecrm.adapters.sqs import SqsQueue
from ecrm.campaigns.adapters.dynamo_campaigns import DynamoRepository
from ecrm.campaigns.models import Template
from ecrm.clock import SYSTEM_CLOCK
from ecrm.journeys.adapters.dynamo_journeys import DynamoJourneys, DynamoProgress
from ecrm.journeys.adapters.sqs_resume import SqsResume
from ecrm.journeys.definitions import Known
from ecrm.journeys.service import JourneyAdmin
from ecrm.journeys.settings import JourneyRunnerSettings, JourneysApiSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ecrm.journeys.runner import JourneyRunner

TEMPLATE = "TEMPLATE"  # the campaigns' kind of item for templates (ecrm.campaigns.compose)


def _templates(db: DynamoDBClient, table: str) -> DynamoRepository[Template]:
    return DynamoRepository(db, table, Template, TEMPLATE)


def _existing_templates(db: DynamoDBClient, table: str) -> Callable[[Collection[str]], Collection[str]]:
    def existing(ids: Collection[str]) -> set[str]:
        keys = [dynamo.key(f"{TEMPLATE}#{i}", TEMPLATE) for i in ids]
        return {str(found["pk"]).removeprefix(f"{TEMPLATE}#") for found in dynamo.batch_get(db, table, keys)}

    return existing


def journeys_api(settings: JourneysApiSettings) -> JourneyAdmin:
    session = boto3.session.Session()
    db = session.client("dynamodb")
    progress = DynamoProgress(db, settings.journeys_table)
    return JourneyAdmin(
        journeys=DynamoJourneys(db, settings.journeys_table),
        progress=progress,
        stats=progress,
        resume=SqsResume(SqsQueue(session.client("sqs"), settings.run_queue_url)),
        known=Known(templates=_existing_templates(db, settings.campaigns_table), topics=settings.topics),
        clock=SYSTEM_CLOCK,
    )


class _TimeSleeper:
    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def journey_runner(settings: JourneyRunnerSettings) -> JourneyRunner:
    from ecrm.adapters.scheduler import SchedulerTimers
    from ecrm.adapters.secrets import SecretSigner
    from ecrm.campaigns.adapters.dynamo_segments import DynamoRecipients
    from ecrm.campaigns.adapters.dynamo_sends import DynamoRateSlots
    from ecrm.campaigns.adapters.ses_campaigns import SesCampaignMailer, send_rate_from_quota
    from ecrm.campaigns.compose import SES_SEND_CONFIG
    from ecrm.campaigns.ratelimit import RateLimiter
    from ecrm.campaigns.unsubscribe import LinkBase
    from ecrm.cases.adapters.dynamo_cases import DynamoCases
    from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
    from ecrm.journeys.adapters.dynamo_people import ContactEdits, People, RecipientFacts
    from ecrm.journeys.mailing import JourneyMailing
    from ecrm.journeys.runner import JourneyRunner
    from ecrm.outbox import Outbox

    session = boto3.session.Session()
    db = session.client("dynamodb")
    outbox = Outbox(settings.outbox_table)
    progress = DynamoProgress(db, settings.journeys_table, outbox)
    recipients = DynamoRecipients(db, settings.campaigns_table, settings.contacts_table)
    rate = settings.send_rate or send_rate_from_quota(session.client("ses").get_send_quota())

    def secret() -> str:
        value: str = session.client("secretsmanager").get_secret_value(SecretId=settings.signing_secret_id)[
            "SecretString"
        ]
        return value

    mailing = JourneyMailing(
        recipients=recipients,
        templates=_templates(db, settings.campaigns_table),
        log=progress,
        mailer=SesCampaignMailer(
            session.client("sesv2", config=SES_SEND_CONFIG), settings.sender, settings.configuration_set
        ),
        limiter=RateLimiter(DynamoRateSlots(db, settings.campaigns_table), SYSTEM_CLOCK, rate=rate),
        sleeper=_TimeSleeper(),
        clock=SYSTEM_CLOCK,
        signer=SecretSigner(secret),
        link_base=LinkBase(settings.unsubscribe_url, settings.preferences_url, settings.unsubscribe_mailto or None),
    )
    contacts = DynamoContacts(db, settings.contacts_table, outbox)
    sqs = session.client("sqs")
    return JourneyRunner(
        journeys=DynamoJourneys(db, settings.journeys_table),
        progress=progress,
        timers=SchedulerTimers(
            session.client("scheduler"),
            sqs,
            SYSTEM_CLOCK,
            group=settings.schedule_group,
            role_arn=settings.scheduler_role_arn,
            queue_arn=settings.run_queue_arn,
            queue_url=settings.run_queue_url,
        ),
        mail=mailing,
        facts=RecipientFacts(recipients),
        editor=ContactEdits(contacts, SYSTEM_CLOCK),
        resolver=People(contacts, DynamoCases(db, settings.cases_table)),
        resume=SqsResume(SqsQueue(sqs, settings.run_queue_url)),
        clock=SYSTEM_CLOCK,
    )
