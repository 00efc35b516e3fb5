"""Composition root of the contact 360 functions: settings in, wired services out. Each capability's
holdings are read by that capability's own adapter; clients are made on first use.

The API's parts are built on first use, each importing the adapters it needs then (decision 83):
the export reads every capability's tables, a timeline page one table, and a cold start serving
one should not load the other capabilities' models for the other."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import boto3

from ecrm.clock import SYSTEM_CLOCK
from ecrm.contact360.adapters.dynamo_companies import DynamoCompanies
from ecrm.contact360.adapters.dynamo_timeline import DynamoTimeline
from ecrm.contact360.companies import CompanyLinks, CompanyService
from ecrm.contact360.service import Contact360Api, ExportService
from ecrm.contact360.settings import CompanyLinkSettings, Contact360ApiSettings, TimelineSettings
from ecrm.contact360.timeline import TimelineService, retention
from ecrm.contacts.adapters.dynamo_personal_data import ContactsPersonalData
from ecrm.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ecrm.contact360.related import RelatedService


def _db() -> DynamoDBClient:
    return boto3.session.Session().client("dynamodb")


def contact360_api(settings: Contact360ApiSettings) -> Contact360Api:
    db = _db()
    return Contact360Api(
        build_exports=partial(_export, db, settings),
        build_timelines=partial(_timeline, db, settings.contact360_table, settings.cases_table),
        build_related=partial(_related, db, settings),
        build_companies=partial(_companies, db, settings),
    )


def _related(db: DynamoDBClient, settings: Contact360ApiSettings) -> RelatedService:
    from ecrm.campaigns.adapters.dynamo_sends import DynamoSendRecords
    from ecrm.cases.adapters.dynamo_cases import DynamoCases
    from ecrm.contact360.related import RelatedService
    from ecrm.loyalty.adapters.dynamo_loyalty import DynamoLedger

    return RelatedService(
        cases=DynamoCases(db, settings.cases_table),
        members=DynamoLedger(db, settings.loyalty_table),
        mail=DynamoSendRecords(db, settings.campaigns_table),
    )


def _companies(db: DynamoDBClient, settings: Contact360ApiSettings) -> CompanyService:
    from ecrm.cases.adapters.dynamo_cases import DynamoCases
    from ecrm.loyalty.adapters.dynamo_loyalty import DynamoLedger

    return CompanyService(
        companies=DynamoCompanies(db, settings.contact360_table, Outbox(settings.outbox_table)),
        subjects=ContactsPersonalData(db, settings.contacts_table),
        cases=DynamoCases(db, settings.cases_table),
        orders=DynamoLedger(db, settings.loyalty_table),
        clock=SYSTEM_CLOCK,
    )


def company_links(settings: CompanyLinkSettings) -> CompanyLinks:
    db = _db()
    return CompanyLinks(
        companies=DynamoCompanies(db, settings.contact360_table, Outbox(settings.outbox_table)),
        subjects=ContactsPersonalData(db, settings.contacts_table),
        clock=SYSTEM_CLOCK,
    )


def _export(db: DynamoDBClient, settings: Contact360ApiSettings) -> ExportService:
    from ecrm.campaigns.adapters.dynamo_personal_data import CampaignsPersonalData
    from ecrm.cases.adapters.dynamo_personal_data import CasesPersonalData
    from ecrm.contact360.adapters.dynamo_personal_data import Contact360PersonalData
    from ecrm.journeys.adapters.dynamo_personal_data import JourneysPersonalData
    from ecrm.loyalty.adapters.dynamo_personal_data import LoyaltyPersonalData
    from ecrm.webhooks.adapters.dynamo_personal_data import WebhooksPersonalData

    contacts = ContactsPersonalData(db, settings.contacts_table)
    return ExportService(
        subjects=contacts,
        stores=(
            contacts,
            CasesPersonalData(db, settings.cases_table),
            CampaignsPersonalData(db, settings.campaigns_table),
            LoyaltyPersonalData(db, settings.loyalty_table),
            Contact360PersonalData(db, settings.contact360_table),
            WebhooksPersonalData(db, settings.webhooks_table),
            JourneysPersonalData(db, settings.journeys_table),
        ),
        clock=SYSTEM_CLOCK,
    )


def _timeline(db: DynamoDBClient, table: str, cases_table: str, keep: str = "") -> TimelineService:
    from ecrm.cases.adapters.dynamo_cases import DynamoCases

    return TimelineService(
        log=DynamoTimeline(db, table),
        requesters=DynamoCases(db, cases_table),
        clock=SYSTEM_CLOCK,
        keep=retention(keep),
    )


def timeline_service(settings: TimelineSettings) -> TimelineService:
    return _timeline(_db(), settings.contact360_table, settings.cases_table, settings.retention)
