"""Composition roots of the cases functions: settings in, wired services out.

boto3 is imported here, not in the domain; clients are made when a service is first built (the
first invocation), so moto and the local stack can point them elsewhere before that. What only
one function uses (the mailer and its SES adapter, erasure, timers, recompute) is imported in its
builder, so the other cases functions do not load it at cold start (decision 93).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import boto3

from ecrm.adapters.clients import on_first_use
from ecrm.adapters.scheduler import SchedulerTimers
from ecrm.adapters.secrets import SecretSigner
from ecrm.cases.adapters.case_metrics import CaseMetrics
from ecrm.cases.adapters.dynamo_case_config import DynamoPolicies, DynamoStaff
from ecrm.cases.adapters.dynamo_cases import DynamoCases
from ecrm.cases.requesters import ContactLookup, ContactRequesters
from ecrm.cases.service import CaseIntake, CaseQueries, CaseWork, CsatSurvey
from ecrm.cases.settings import (
    CaseErasureSettings,
    CaseIntakeSettings,
    CaseMailerSettings,
    CaseRecomputeSettings,
    CasesAdminSettings,
    CasesApiSettings,
    CasesFormSettings,
    CaseTimerSettings,
    CaseWriterSettings,
)
from ecrm.cases.staff import Staff, StaffAdmin
from ecrm.cases.writer import CaseWriter
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.observability import metrics
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from boto3.session import Session

    from ecrm.adapters.sqs import SqsQueue
    from ecrm.cases.erasure import CaseErasure
    from ecrm.cases.firing import SlaTimerService
    from ecrm.cases.mailer import CaseMailer
    from ecrm.cases.recompute import PolicyAdmin, Recompute

# The first recompute message waits out every function's policy cache, plus this margin for
# writes made with the old book to finish and reach the index.
RECOMPUTE_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class Writing:
    """What every function that changes cases shares: the table, the writer (timers, outbox, book)."""

    repo: DynamoCases
    writer: CaseWriter
    policies: DynamoPolicies


def _writing(session: Session, settings: CaseWriterSettings, cache_seconds: int | None = None) -> Writing:
    db = session.client("dynamodb")
    repo = DynamoCases(db, settings.cases_table, Outbox(settings.outbox_table))
    timers = SchedulerTimers(
        on_first_use(session, "scheduler"),
        on_first_use(session, "sqs"),
        SYSTEM_CLOCK,
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.timer_queue_arn,
        queue_url=settings.timer_queue_url,
    )
    ttl = settings.policy_cache_seconds if cache_seconds is None else cache_seconds
    policies = DynamoPolicies(db, settings.cases_table, ttl)
    return Writing(repo, CaseWriter(repo, timers, policies, committed=CaseMetrics(metrics).record), policies)


def _requesters(session: Session, settings: CaseIntakeSettings) -> ContactRequesters:
    contacts = DynamoContacts(session.client("dynamodb"), settings.contacts_table, Outbox(settings.outbox_table))
    return ContactRequesters(contacts, SYSTEM_CLOCK)


def intake_service(settings: CaseIntakeSettings) -> CaseIntake:
    session = boto3.session.Session()
    writing = _writing(session, settings)
    return CaseIntake(writing.writer, writing.repo, _requesters(session, settings), SYSTEM_CLOCK)


@dataclass(frozen=True)
class PublicCases:
    """The public form and the CSAT survey."""

    intake: CaseIntake
    survey: CsatSurvey


def public_service(settings: CasesFormSettings) -> PublicCases:
    session = boto3.session.Session()
    writing = _writing(session, settings)
    return PublicCases(
        intake=CaseIntake(writing.writer, writing.repo, _requesters(session, settings), SYSTEM_CLOCK),
        survey=CsatSurvey(
            writing.writer, writing.repo, SecretSigner.from_secret(session, settings.signing_secret_id), SYSTEM_CLOCK
        ),
    )


@dataclass(frozen=True)
class Desk:
    """The role-protected API for agents working cases."""

    intake: CaseIntake
    work: CaseWork
    queries: CaseQueries
    staff: StaffAdmin


def desk_service(settings: CasesApiSettings) -> Desk:
    session = boto3.session.Session()
    writing = _writing(session, settings)
    return Desk(
        intake=CaseIntake(writing.writer, writing.repo, _requesters(session, settings), SYSTEM_CLOCK),
        work=CaseWork(writing.writer, writing.repo, SYSTEM_CLOCK),
        queries=CaseQueries(writing.repo, writing.policies),
        staff=StaffAdmin(DynamoStaff(session.client("dynamodb"), settings.cases_table), SYSTEM_CLOCK),
    )


@dataclass(frozen=True)
class Administration:
    """Admins keeping the SLA policies and the staff list; metrics."""

    queries: CaseQueries
    policies: PolicyAdmin
    staff: StaffAdmin


def admin_service(settings: CasesAdminSettings) -> Administration:
    from ecrm.adapters.sqs import SqsQueue
    from ecrm.cases.recompute import PolicyAdmin

    session = boto3.session.Session()
    db = session.client("dynamodb")
    repo = DynamoCases(db, settings.cases_table)
    policies = DynamoPolicies(db, settings.cases_table, settings.policy_cache_seconds)
    # the first pages wait until every container's policy cache holds the new book
    queue = SqsQueue(
        on_first_use(session, "sqs"),
        settings.recompute_queue_url,
        delay_seconds=settings.policy_cache_seconds + RECOMPUTE_MARGIN_SECONDS,
    )
    return Administration(
        queries=CaseQueries(repo, policies),
        policies=PolicyAdmin(policies, queue, SYSTEM_CLOCK),
        staff=StaffAdmin(DynamoStaff(db, settings.cases_table), SYSTEM_CLOCK),
    )


def timer_service(settings: CaseTimerSettings) -> SlaTimerService:
    from ecrm.cases.firing import SlaTimerService

    session = boto3.session.Session()
    writing = _writing(session, settings)
    return SlaTimerService(writing.writer, writing.repo, SYSTEM_CLOCK)


@dataclass(frozen=True)
class Replanning:
    recompute: Recompute
    queue: SqsQueue  # continuations: no delay


def recompute_service(settings: CaseRecomputeSettings) -> Replanning:
    from ecrm.adapters.sqs import SqsQueue
    from ecrm.cases.recompute import Recompute

    session = boto3.session.Session()
    writing = _writing(session, settings, cache_seconds=0)  # always the book just saved
    return Replanning(
        recompute=Recompute(writing.repo, CaseWork(writing.writer, writing.repo, SYSTEM_CLOCK)),
        queue=SqsQueue(on_first_use(session, "sqs"), settings.recompute_queue_url),
    )


def mailer_service(settings: CaseMailerSettings) -> CaseMailer:
    from ecrm.adapters.ses import SesMailer
    from ecrm.cases.mailer import CaseMailer

    session = boto3.session.Session()
    db = session.client("dynamodb")
    contacts = DynamoContacts(db, settings.contacts_table)
    return CaseMailer(
        DynamoCases(db, settings.cases_table),
        ContactLookup(contacts),
        Staff(DynamoStaff(db, settings.cases_table), settings.fallback_address),
        SesMailer(on_first_use(session, "sesv2"), settings.sender, settings.configuration_set),
        SecretSigner.from_secret(session, settings.signing_secret_id),
        SYSTEM_CLOCK,
        case_url=settings.case_url,
        survey_url=settings.csat_url,
        survey_ttl=timedelta(days=settings.csat_ttl_days),
        acknowledge=settings.acknowledged_channels,
    )


def erasure_service(settings: CaseErasureSettings) -> CaseErasure:
    from ecrm.cases.erasure import CaseErasure

    session = boto3.session.Session()
    return CaseErasure(DynamoCases(session.client("dynamodb"), settings.cases_table), SYSTEM_CLOCK)
