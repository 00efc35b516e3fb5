"""Composition roots of the campaigns functions: settings in, wired services out.

boto3 is imported here, not in the domain; clients are made when a service is first built (the
first invocation), so moto and the local stack can point them elsewhere before that. The SES
adapter (which loads the e-mail package) is imported by the sender's builder alone: the other
campaigns functions do not load it at cold start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from ecrm.adapters.clients import on_first_use
from ecrm.adapters.scheduler import SchedulerTimers
from ecrm.adapters.secrets import SecretSigner
from ecrm.adapters.sqs import SqsQueue
from ecrm.campaigns.adapters.dynamo_campaigns import DynamoCampaigns, DynamoRepository, DynamoRuns, DynamoStats
from ecrm.campaigns.adapters.dynamo_segments import DynamoPreferences, DynamoRecipients, DynamoSegmentIndex
from ecrm.campaigns.adapters.dynamo_sends import (
    DynamoFeedbackLog,
    DynamoRateSlots,
    DynamoSendRecords,
    DynamoSuppressions,
)
from ecrm.campaigns.feedback import FeedbackService
from ecrm.campaigns.membership import MembershipService
from ecrm.campaigns.models import Segment, Template
from ecrm.campaigns.ports import SendQueue
from ecrm.campaigns.preferences import PreferenceCenter
from ecrm.campaigns.ratelimit import RateLimiter
from ecrm.campaigns.runs import CampaignRuns, RunControl
from ecrm.campaigns.sending import Sender, SenderConfig
from ecrm.campaigns.service import CampaignService, SegmentService, TemplateService
from ecrm.campaigns.settings import (
    CampaignsApiSettings,
    CampaignTimers,
    FeedbackSettings,
    MembershipSettings,
    PlannerSettings,
    SenderSettings,
    TriggerSettings,
    UnsubscribeLinks,
    UnsubscribeSettings,
)
from ecrm.campaigns.triggers import TriggerService
from ecrm.campaigns.unsubscribe import LinkBase
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient

# SES calls from the sender: one HTTP attempt, no botocore retries (a retry after a 5xx or a read
# timeout could send twice; the sender's own backoff handles throttling), and timeouts well under the
# sender's 15 s margin. `total_max_attempts`, not `max_attempts`: botocore reads the latter as the
# number of *retries*, so {"max_attempts": 1} still makes two attempts.
SES_SEND_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=8)


def _timers(session: Session, settings: CampaignTimers) -> SchedulerTimers:
    return SchedulerTimers(
        on_first_use(session, "scheduler"),
        on_first_use(session, "sqs"),
        SYSTEM_CLOCK,
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.plan_queue_arn,
        queue_url=settings.plan_queue_url,
    )


def _links(settings: UnsubscribeLinks) -> LinkBase:
    return LinkBase(settings.unsubscribe_url, settings.preferences_url, settings.unsubscribe_mailto or None)


def _templates(db: DynamoDBClient, table: str) -> DynamoRepository[Template]:
    return DynamoRepository(db, table, Template, "TEMPLATE")


def _segments(db: DynamoDBClient, table: str) -> DynamoRepository[Segment]:
    return DynamoRepository(db, table, Segment, "SEGMENT")


def _control(session: Session, settings: SenderSettings | CampaignsApiSettings) -> RunControl:
    db = session.client("dynamodb")
    return RunControl(
        campaigns=DynamoCampaigns(db, settings.table_name, Outbox(settings.outbox_table)),
        runs=DynamoRuns(db, settings.table_name),
        timers=_timers(session, settings),
        clock=SYSTEM_CLOCK,
    )


def _runs(session: Session, settings: PlannerSettings, queue: SendQueue) -> CampaignRuns:
    db = session.client("dynamodb")
    return CampaignRuns(
        campaigns=DynamoCampaigns(db, settings.table_name, Outbox(settings.outbox_table)),
        segments=_segments(db, settings.table_name),
        index=DynamoSegmentIndex(db, settings.table_name, settings.contacts_table),
        runs=DynamoRuns(db, settings.table_name),
        queue=queue,
        stats=DynamoStats(db, settings.table_name),
        timers=_timers(session, settings),
        clock=SYSTEM_CLOCK,
    )


@dataclass(frozen=True)
class CampaignsApi:
    templates: TemplateService
    segments: SegmentService
    campaigns: CampaignService


def campaigns_api(settings: CampaignsApiSettings) -> CampaignsApi:
    session = boto3.session.Session()
    db = session.client("dynamodb")
    table = settings.table_name
    timers = _timers(session, settings)
    index = DynamoSegmentIndex(db, table, settings.contacts_table)
    return CampaignsApi(
        templates=TemplateService(
            _templates(db, table), DynamoContacts(db, settings.contacts_table), _links(settings), SYSTEM_CLOCK
        ),
        segments=SegmentService(_segments(db, table), index, SYSTEM_CLOCK),
        campaigns=CampaignService(
            campaigns=DynamoCampaigns(db, table, Outbox(settings.outbox_table)),
            templates=_templates(db, table),
            segments=_segments(db, table),
            runs=_control(session, settings),
            timers=timers,
            recurring=timers,
            stats=DynamoStats(db, table),
            clock=SYSTEM_CLOCK,
        ),
    )


def preference_center(settings: UnsubscribeSettings) -> PreferenceCenter:
    session = boto3.session.Session()
    db = session.client("dynamodb")
    return PreferenceCenter(
        signer=SecretSigner.from_secret(session, settings.signing_secret_id),
        preferences=DynamoPreferences(db, settings.table_name, settings.contacts_table, Outbox(settings.outbox_table)),
        records=DynamoSendRecords(db, settings.table_name),
        contacts=DynamoContacts(db, settings.contacts_table),
        clock=SYSTEM_CLOCK,
        topics=settings.topics,
    )


def planner(settings: PlannerSettings) -> CampaignRuns:
    session = boto3.session.Session()
    return _runs(session, settings, SqsQueue(on_first_use(session, "sqs"), settings.send_queue_url))


def sender(settings: SenderSettings) -> Sender:
    from ecrm.campaigns.adapters.ses_campaigns import SesCampaignMailer, send_rate_from_quota

    session = boto3.session.Session()
    db = session.client("dynamodb")
    table = settings.table_name
    # 0: the account's own maximum send rate, read once per container (GetSendQuota).
    rate = settings.send_rate or send_rate_from_quota(session.client("ses").get_send_quota())
    return Sender(
        campaigns=DynamoCampaigns(db, table),
        templates=_templates(db, table),
        recipients=DynamoRecipients(db, table, settings.contacts_table),
        records=DynamoSendRecords(db, table),
        runs=DynamoRuns(db, table),
        mailer=SesCampaignMailer(
            on_first_use(session, "sesv2", config=SES_SEND_CONFIG), settings.sender, settings.configuration_set
        ),
        limiter=RateLimiter(DynamoRateSlots(db, table), SYSTEM_CLOCK, rate=rate),
        sleeper=SLEEPER,
        clock=SYSTEM_CLOCK,
        signer=SecretSigner.from_secret(session, settings.signing_secret_id),
        link_base=_links(settings),
        finisher=_control(session, settings),
        config=SenderConfig(lanes=settings.lanes),
    )


class _TimeSleeper:
    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SLEEPER = _TimeSleeper()  # the campaigns' sender and the journeys' mail step wait for the next second


def triggers(settings: TriggerSettings) -> TriggerService:
    session = boto3.session.Session()
    db = session.client("dynamodb")
    return TriggerService(
        campaigns=DynamoCampaigns(db, settings.table_name),
        segments=_segments(db, settings.table_name),
        contacts=DynamoContacts(db, settings.contacts_table),
        memberships=DynamoSegmentIndex(db, settings.table_name, settings.contacts_table),
        queue=SqsQueue(on_first_use(session, "sqs"), settings.send_queue_url),
        timers=_timers(session, settings),
        clock=SYSTEM_CLOCK,
    )


def membership(settings: MembershipSettings | FeedbackSettings) -> MembershipService:
    return _membership(boto3.session.Session().client("dynamodb"), settings)


def _membership(db: DynamoDBClient, settings: MembershipSettings | FeedbackSettings) -> MembershipService:
    return MembershipService(
        DynamoContacts(db, settings.contacts_table),
        DynamoSegmentIndex(db, settings.table_name, settings.contacts_table),
    )


def feedback(settings: FeedbackSettings) -> FeedbackService:
    session = boto3.session.Session()
    db = session.client("dynamodb")
    projection = _membership(db, settings)  # the same client: a second session would load boto3's models again
    return FeedbackService(
        records=DynamoSendRecords(db, settings.table_name),
        suppressions=DynamoSuppressions(db, settings.table_name, Outbox(settings.outbox_table)),
        contacts=DynamoContacts(db, settings.contacts_table),
        log=DynamoFeedbackLog(db, settings.table_name),
        clock=SYSTEM_CLOCK,
        ignore_clicks_on=(settings.unsubscribe_url, settings.preferences_url),
        activity=lambda contact_id, at: projection.refresh(contact_id, activity=at),
    )


def deadline(remaining_ms: int) -> datetime:
    """When this invocation must have stopped claiming work: Lambda's remaining time from now."""
    return SYSTEM_CLOCK.now() + timedelta(milliseconds=remaining_ms)
