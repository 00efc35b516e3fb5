"""Composition roots of the imports functions: settings in, wired services out."""

from __future__ import annotations

import boto3

from ecrm.adapters.clients import on_first_use
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.contacts.service import ContactCapture, ContactDirectory
from ecrm.imports.adapters.dynamo_imports import DynamoExports, DynamoImports
from ecrm.imports.adapters.s3_files import S3Files
from ecrm.imports.adapters.sqs_steps import SqsSteps
from ecrm.imports.exports import ExportJobs, ExportRunner
from ecrm.imports.service import BulkApi, ImportJobs, ImportLimits, ImportRunner
from ecrm.imports.settings import ExportWorkerSettings, ImportsApiSettings, ImportWorkerSettings
from ecrm.outbox import Outbox


def imports_api(settings: ImportsApiSettings) -> BulkApi:
    session = boto3.session.Session()
    db, files, sqs = (
        session.client("dynamodb"),
        S3Files(on_first_use(session, "s3"), settings.files_bucket),
        on_first_use(session, "sqs"),
    )
    return BulkApi(
        imports=ImportJobs(
            jobs=DynamoImports(db, settings.imports_table),
            files=files,
            queue=SqsSteps(sqs, settings.queue_url),
            clock=SYSTEM_CLOCK,
            limits=ImportLimits(max_bytes=settings.max_bytes),
        ),
        exports=ExportJobs(
            jobs=DynamoExports(db, settings.imports_table),
            files=files,
            queue=SqsSteps(sqs, settings.export_queue_url),
            clock=SYSTEM_CLOCK,
        ),
    )


def import_runner(settings: ImportWorkerSettings) -> ImportRunner:
    session = boto3.session.Session()
    db = session.client("dynamodb")
    contacts = DynamoContacts(
        db, settings.contacts_table, Outbox(settings.outbox_table), phone_country=settings.phone_country_code
    )
    return ImportRunner(
        jobs=DynamoImports(db, settings.imports_table),
        files=S3Files(on_first_use(session, "s3"), settings.files_bucket),
        queue=SqsSteps(on_first_use(session, "sqs"), settings.queue_url),
        capture=ContactCapture(contacts, SYSTEM_CLOCK, settings.consent_text_version),
        clock=SYSTEM_CLOCK,
        limits=ImportLimits(max_bytes=settings.max_bytes, opt_in_per_second=settings.opt_in_per_second),
    )


def export_runner(settings: ExportWorkerSettings) -> ExportRunner:
    # The campaigns' segments, read by this function alone (decision 93).
    from ecrm.campaigns.adapters.dynamo_campaigns import DynamoRepository
    from ecrm.campaigns.adapters.dynamo_segments import DynamoSegmentIndex
    from ecrm.campaigns.models import Segment

    session = boto3.session.Session()
    db = session.client("dynamodb")
    contacts = DynamoContacts(db, settings.contacts_table, phone_country=settings.phone_country_code)
    return ExportRunner(
        jobs=DynamoExports(db, settings.imports_table),
        files=S3Files(on_first_use(session, "s3"), settings.files_bucket),
        contacts=ContactDirectory(contacts, SYSTEM_CLOCK, settings.phone_country_code),
        segments=DynamoRepository(db, settings.campaigns_table, Segment, "SEGMENT"),
        index=DynamoSegmentIndex(db, settings.campaigns_table, settings.contacts_table),
        clock=SYSTEM_CLOCK,
    )
