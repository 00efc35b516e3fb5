"""Composition root of the journeys functions: settings in, the admin or the runner out."""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import cached_property
from typing import TYPE_CHECKING

import boto3

from ecrm.adapters import dynamo
from ecrm.adapters.clients import on_first_use
from ecrm.adapters.sqs import SqsQueue
from ecrm.clock import SYSTEM_CLOCK
from ecrm.journeys.adapters.dynamo_journeys import DynamoJourneys, DynamoProgress
from ecrm.journeys.adapters.sqs_resume import SqsResume
from ecrm.journeys.definitions import Known
from ecrm.journeys.ports import Facts, FactsSource
from ecrm.journeys.service import JourneyAdmin
from ecrm.journeys.settings import JourneyRunnerSettings, JourneysApiSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ecrm.campaigns.ports import RecipientDirectory
    from ecrm.journeys.mailing import JourneyMailing
    from ecrm.journeys.models import Progress
    from ecrm.journeys.runner import JourneyRunner

# The campaigns' kind of item for templates (ecrm.campaigns.compose): the API only asks which ids
# exist, by key, without loading the campaigns package (decision 93).
TEMPLATE = "TEMPLATE"


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
        resume=SqsResume(SqsQueue(on_first_use(session, "sqs"), settings.run_queue_url)),
        known=Known(templates=_existing_templates(db, settings.campaigns_table), topics=settings.topics),
        clock=SYSTEM_CLOCK,
    )


class _OnFirstUse:
    """The runner's parts that only some messages need (a mail step, a branch, a `wait_until`),
    built by the first message that does: they load the campaigns package and ask SES for the
    account's quota, which an event that moves nobody should not pay for (decision 93). Serves
    as the runner's JourneyMailer and FactsSource."""

    def __init__(
        self, session: boto3.session.Session, db: DynamoDBClient, settings: JourneyRunnerSettings, log: DynamoProgress
    ) -> None:
        self._session = session
        self._db = db
        self._settings = settings
        self._log = log

    @cached_property
    def _recipients(self) -> RecipientDirectory:
        from ecrm.campaigns.adapters.dynamo_segments import DynamoRecipients

        return DynamoRecipients(self._db, self._settings.campaigns_table, self._settings.contacts_table)

    @cached_property
    def _mailing(self) -> JourneyMailing:
        from ecrm.adapters.secrets import SecretSigner
        from ecrm.campaigns.adapters.dynamo_campaigns import DynamoRepository
        from ecrm.campaigns.adapters.dynamo_sends import DynamoRateSlots
        from ecrm.campaigns.adapters.ses_campaigns import SesCampaignMailer, send_rate_from_quota
        from ecrm.campaigns.compose import SES_SEND_CONFIG, SLEEPER
        from ecrm.campaigns.models import Template
        from ecrm.campaigns.ratelimit import RateLimiter
        from ecrm.campaigns.unsubscribe import LinkBase
        from ecrm.journeys.mailing import JourneyMailing

        settings, db, session = self._settings, self._db, self._session
        rate = settings.send_rate or send_rate_from_quota(session.client("ses").get_send_quota())

        return JourneyMailing(
            recipients=self._recipients,
            templates=DynamoRepository(db, settings.campaigns_table, Template, TEMPLATE),
            log=self._log,
            mailer=SesCampaignMailer(
                on_first_use(session, "sesv2", config=SES_SEND_CONFIG), settings.sender, settings.configuration_set
            ),
            limiter=RateLimiter(DynamoRateSlots(db, settings.campaigns_table), SYSTEM_CLOCK, rate=rate),
            sleeper=SLEEPER,
            clock=SYSTEM_CLOCK,
            signer=SecretSigner.from_secret(session, settings.signing_secret_id),
            link_base=LinkBase(settings.unsubscribe_url, settings.preferences_url, settings.unsubscribe_mailto or None),
        )

    def send(self, progress: Progress, step_id: str, template_id: str, topic: str) -> str:
        return self._mailing.send(progress, step_id, template_id, topic)

    @cached_property
    def _facts(self) -> FactsSource:
        from ecrm.journeys.adapters.dynamo_people import RecipientFacts

        return RecipientFacts(self._recipients)

    def facts(self, contact_id: str) -> Facts:
        return self._facts.facts(contact_id)


def journey_runner(settings: JourneyRunnerSettings) -> JourneyRunner:
    from ecrm.adapters.scheduler import SchedulerTimers
    from ecrm.cases.adapters.dynamo_cases import DynamoCases
    from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
    from ecrm.journeys.adapters.dynamo_people import ContactEdits, People
    from ecrm.journeys.runner import JourneyRunner
    from ecrm.outbox import Outbox

    session = boto3.session.Session()
    db = session.client("dynamodb")
    outbox = Outbox(settings.outbox_table)
    progress = DynamoProgress(db, settings.journeys_table, outbox)
    parts = _OnFirstUse(session, db, settings, progress)
    contacts = DynamoContacts(db, settings.contacts_table, outbox)
    sqs = on_first_use(session, "sqs")
    return JourneyRunner(
        journeys=DynamoJourneys(db, settings.journeys_table),
        progress=progress,
        timers=SchedulerTimers(
            on_first_use(session, "scheduler"),
            sqs,
            SYSTEM_CLOCK,
            group=settings.schedule_group,
            role_arn=settings.scheduler_role_arn,
            queue_arn=settings.run_queue_arn,
            queue_url=settings.run_queue_url,
        ),
        mail=parts,
        facts=parts,
        editor=ContactEdits(contacts, SYSTEM_CLOCK),
        resolver=People(contacts, DynamoCases(db, settings.cases_table)),
        resume=SqsResume(SqsQueue(sqs, settings.run_queue_url)),
        clock=SYSTEM_CLOCK,
    )
