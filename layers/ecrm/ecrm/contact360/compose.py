"""Composition root of the contact 360 functions: settings in, wired services out. Each capability's
holdings are read by that capability's own adapter; clients are made on first use."""

from __future__ import annotations

import boto3

from ecrm.campaigns.adapters.dynamo_personal_data import CampaignsPersonalData
from ecrm.cases.adapters.dynamo_personal_data import CasesPersonalData
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contact360.service import ExportService
from ecrm.contact360.settings import Contact360ApiSettings
from ecrm.contacts.adapters.dynamo_personal_data import ContactsPersonalData
from ecrm.loyalty.adapters.dynamo_personal_data import LoyaltyPersonalData


def export_service(settings: Contact360ApiSettings) -> ExportService:
    db = boto3.session.Session().client("dynamodb")
    contacts = ContactsPersonalData(db, settings.contacts_table)
    return ExportService(
        subjects=contacts,
        stores=(
            contacts,
            CasesPersonalData(db, settings.cases_table),
            CampaignsPersonalData(db, settings.campaigns_table),
            LoyaltyPersonalData(db, settings.loyalty_table),
        ),
        clock=SYSTEM_CLOCK,
    )
