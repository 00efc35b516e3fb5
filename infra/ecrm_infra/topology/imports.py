"""Bulk import and export of contacts: the API that hands out presigned URLs and starts jobs, the
worker that validates each file whole and applies its rows through the contacts' capture rules,
and the exporter that writes contacts to CSV."""

from __future__ import annotations

from ecrm import access
from ecrm.campaigns.names import Env as CampaignsEnv
from ecrm.campaigns.names import Resource as CampaignsResource
from ecrm.contacts.names import Env as ContactsEnv
from ecrm.imports import settings
from ecrm.imports.names import Env, Resource

from ecrm_infra.topology.events import OUTBOX_ENV, OUTBOX_GRANT
from ecrm_infra.topology.spec import Access, Bucket, Capability, Function, MetricAlarm, QueueTrigger, Table

JOB_ENV = {
    Env.IMPORTS_TABLE: Resource.IMPORTS_TABLE,
    Env.FILES_BUCKET: Resource.FILES_BUCKET,
    Env.IMPORT_QUEUE_URL: Resource.IMPORT_QUEUE,
    Env.IMPORT_MAX_BYTES: "context:importMaxBytes",
}

IMPORTS = Capability(
    name="Imports",
    tables=(Table(Resource.IMPORTS_TABLE, no_personal_data="jobs: states, offsets and counts; rows stay in the file"),),
    buckets=(Bucket(Resource.FILES_BUCKET, expire_days=7),),
    context_defaults={"importMaxBytes": str(200 * 1024 * 1024), "importOptInPerSecond": "10"},
    functions=(
        Function(
            name="imports_api",
            description="Admins and marketers: import jobs, their presigned upload URL, start and report",
            settings=settings.ImportsApiSettings,
            env={**JOB_ENV, Env.EXPORT_QUEUE_URL: Resource.EXPORT_QUEUE},
            # jobs made, read and started (put whole, versioned); the upload's size read and its
            # presigned PUT and the report's and export's presigned GETs signed (S3 authorizes
            # those when used); the first import step and the export queued
            grants={
                Resource.IMPORTS_TABLE: Access.READ | Access.PUT,
                Resource.FILES_BUCKET: Access.READ | Access.PUT,
                Resource.IMPORT_QUEUE: Access.SEND,
                Resource.EXPORT_QUEUE: Access.SEND,
            },
            routes=access.IMPORTS_API,
        ),
        Function(
            name="imports_worker",
            description="One step of an import job: the whole file validated, then rows applied from a checkpoint",
            settings=settings.ImportWorkerSettings,
            env={
                **JOB_ENV,
                Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
                **OUTBOX_ENV,
                ContactsEnv.PHONE_COUNTRY_CODE: "context:defaultPhoneCountryCode",
                ContactsEnv.CONSENT_TEXT_VERSION: "context:consentTextVersion",
                Env.IMPORT_OPT_IN_RATE: "context:importOptInPerSecond",
            },
            # the job read and its checkpoint saved; the file read in ranges, the report written;
            # the next step queued; each row captured as a form post is (look up, create or merge)
            grants={
                Resource.IMPORTS_TABLE: Access.READ | Access.PUT,
                Resource.FILES_BUCKET: Access.READ | Access.PUT,
                Resource.IMPORT_QUEUE: Access.SEND,
                Resource.CONTACTS_TABLE: Access.READ | Access.PUT,
                **OUTBOX_GRANT,
            },
            # one step at a time per message; a step applies `step_rows` rows and saves its checkpoint
            queue=QueueTrigger(Resource.IMPORT_QUEUE, batch_size=1, max_concurrency=5),
            # the validation reads the whole file in one step: a 200 MiB file is some million rows
            timeout_seconds=900,
            memory_mb=1024,
        ),
        Function(
            name="exports_worker",
            description="One export: contacts (all, or a tag's) read page by page and written as CSV to the bucket",
            settings=settings.ExportWorkerSettings,
            env={
                Env.IMPORTS_TABLE: Resource.IMPORTS_TABLE,
                Env.FILES_BUCKET: Resource.FILES_BUCKET,
                Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
                CampaignsEnv.CAMPAIGNS_TABLE: CampaignsResource.CAMPAIGNS_TABLE,
                ContactsEnv.PHONE_COUNTRY_CODE: "context:defaultPhoneCountryCode",
            },
            # the job read and saved done; the file written in parts; contacts read through the
            # change feed or a tag's listing (Query on gsi1, then the profiles); a segment read,
            # its index's partition counts and pages (Query on gsi1), each member's profile
            grants={
                Resource.IMPORTS_TABLE: Access.READ | Access.PUT,
                Resource.FILES_BUCKET: Access.PUT,
                Resource.CONTACTS_TABLE: Access.READ | Access.QUERY,
                CampaignsResource.CAMPAIGNS_TABLE: Access.READ | Access.QUERY,
            },
            queue=QueueTrigger(Resource.EXPORT_QUEUE, batch_size=1, max_concurrency=2),
            timeout_seconds=900,
            memory_mb=1024,
        ),
    ),
    alarms=(MetricAlarm("ImportStepFailed", 0, "an import step failed: it is retried, then parked in the DLQ"),),
)
