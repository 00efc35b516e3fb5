"""Composition roots of the loyalty functions: settings in, the wired capability out.

boto3 is imported here, not in the domain; clients are made when a function first builds its
service (the first invocation), so moto and the local stack can point them elsewhere before that.
One DynamoDB client serves the ledger, the programme and the contacts, so everything a function
asks of DynamoDB goes through (and can be counted on) that one client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from ecrm.adapters.dynamo_contacts import DynamoContacts
from ecrm.adapters.dynamo_loyalty import DynamoLedger, DynamoProgrammes
from ecrm.adapters.scheduler import SchedulerTimers
from ecrm.adapters.ses import SesMailer
from ecrm.clock import SYSTEM_CLOCK
from ecrm.loyalty.members import ContactMembers
from ecrm.loyalty.programmes import ProgrammeService
from ecrm.loyalty.wiring import Loyalty
from ecrm.outbox import Outbox
from ecrm.settings import LoyaltyAccrualSettings, LoyaltyApiSettings, LoyaltyProgrammeSettings, LoyaltyUpkeepSettings

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient


def _core(settings: LoyaltyApiSettings, session: Session) -> tuple[Loyalty, DynamoDBClient]:
    db = session.client("dynamodb")
    ledger = DynamoLedger(db, settings.loyalty_table, Outbox(settings.outbox_table))
    timers = SchedulerTimers(
        session.client("scheduler"),
        session.client("sqs"),
        SYSTEM_CLOCK,
        group=settings.schedule_group,
        role_arn=settings.scheduler_role_arn,
        queue_arn=settings.timer_queue_arn,
        queue_url=settings.timer_queue_url,
    )
    loyalty = Loyalty(
        ledger=ledger,
        programmes=ProgrammeService(DynamoProgrammes(db, settings.loyalty_table), SYSTEM_CLOCK),
        timers=timers,
        clock=SYSTEM_CLOCK,
        erasure_port=ledger,
    )
    return loyalty, db


def loyalty_programme(settings: LoyaltyProgrammeSettings) -> ProgrammeService:
    db = boto3.session.Session().client("dynamodb")
    return ProgrammeService(DynamoProgrammes(db, settings.loyalty_table), SYSTEM_CLOCK)


def loyalty_api(settings: LoyaltyApiSettings) -> Loyalty:
    loyalty, _ = _core(settings, boto3.session.Session())
    return loyalty


def loyalty_accrual(settings: LoyaltyAccrualSettings) -> Loyalty:
    loyalty, db = _core(settings, boto3.session.Session())
    contacts = DynamoContacts(db, settings.contacts_table, Outbox(settings.outbox_table))
    loyalty.members = ContactMembers(contacts, SYSTEM_CLOCK)
    return loyalty


def loyalty_upkeep(settings: LoyaltyUpkeepSettings) -> Loyalty:
    session = boto3.session.Session()
    loyalty, db = _core(settings, session)
    loyalty.contacts = DynamoContacts(db, settings.contacts_table)
    loyalty.mailer = SesMailer(session.client("sesv2"), settings.sender, settings.configuration_set)
    return loyalty
