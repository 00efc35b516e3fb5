"""Composition root of the loyalty functions: settings and adapters in, one frozen bundle out.

boto3 is imported here, not in the domain; clients are made when a function first builds its
service (the first invocation), so moto and the local stack can point them elsewhere before that.
One DynamoDB client serves the ledger, the programme and the contacts, so everything a function
asks of DynamoDB goes through (and can be counted on) that one client. Each bundle
(ecrm.loyalty.service) is built whole here, with every port its function uses; none is added later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from ecrm.adapters.clients import on_first_use
from ecrm.adapters.scheduler import SchedulerTimers
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.loyalty.adapters.dynamo_loyalty import DynamoLedger, DynamoProgrammes
from ecrm.loyalty.members import ContactMembers
from ecrm.loyalty.programme_versions import ProgrammeService
from ecrm.loyalty.service import LoyaltyAccrual, LoyaltyApi, LoyaltyUpkeep
from ecrm.loyalty.settings import (
    LoyaltyAccrualSettings,
    LoyaltyApiSettings,
    LoyaltyProgrammeSettings,
    LoyaltyUpkeepSettings,
)
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient


def _db(session: Session) -> DynamoDBClient:
    return session.client("dynamodb")


def _timers(session: Session, settings: LoyaltyApiSettings) -> SchedulerTimers:
    return SchedulerTimers(
        on_first_use(session, "scheduler"),
        on_first_use(session, "sqs"),
        SYSTEM_CLOCK,
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.timer_queue_arn,
        queue_url=settings.timer_queue_url,
    )


def _ledger(db: DynamoDBClient, settings: LoyaltyApiSettings) -> DynamoLedger:
    return DynamoLedger(db, settings.loyalty_table, Outbox(settings.outbox_table))


def _programmes(db: DynamoDBClient, table: str) -> ProgrammeService:
    return ProgrammeService(DynamoProgrammes(db, table), SYSTEM_CLOCK)


def loyalty_programme(settings: LoyaltyProgrammeSettings) -> ProgrammeService:
    return _programmes(_db(boto3.session.Session()), settings.loyalty_table)


def loyalty_api(settings: LoyaltyApiSettings) -> LoyaltyApi:
    session = boto3.session.Session()
    db = _db(session)
    return LoyaltyApi(
        ledger=_ledger(db, settings),
        programmes=_programmes(db, settings.loyalty_table),
        timers=_timers(session, settings),
        clock=SYSTEM_CLOCK,
    )


def loyalty_accrual(settings: LoyaltyAccrualSettings) -> LoyaltyAccrual:
    session = boto3.session.Session()
    db = _db(session)
    contacts = DynamoContacts(db, settings.contacts_table, Outbox(settings.outbox_table))
    return LoyaltyAccrual(
        ledger=_ledger(db, settings),
        programmes=_programmes(db, settings.loyalty_table),
        timers=_timers(session, settings),
        clock=SYSTEM_CLOCK,
        members=ContactMembers(contacts, SYSTEM_CLOCK),
    )


def loyalty_upkeep(settings: LoyaltyUpkeepSettings) -> LoyaltyUpkeep:
    from ecrm.adapters.ses import SesMailer  # the one function that mails

    session = boto3.session.Session()
    db = _db(session)
    ledger = _ledger(db, settings)
    return LoyaltyUpkeep(
        ledger=ledger,
        programmes=_programmes(db, settings.loyalty_table),
        timers=_timers(session, settings),
        clock=SYSTEM_CLOCK,
        contacts=DynamoContacts(db, settings.contacts_table),
        mailer=SesMailer(on_first_use(session, "sesv2"), settings.sender, settings.configuration_set),
        erasure_port=ledger,
    )
