"""Settings of the imports functions, read once from the environment by the composition root; the
topology (infra/ecrm_infra/topology/imports.py) names the model per function."""

from __future__ import annotations

from pydantic import Field

from ecrm.campaigns.names import Env as CampaignsEnv
from ecrm.contacts.names import Env as ContactsEnv
from ecrm.imports.names import Env
from ecrm.settings import FromEnv


class _Imports(FromEnv):
    imports_table: str = Field(alias=Env.IMPORTS_TABLE)
    files_bucket: str = Field(alias=Env.FILES_BUCKET)
    queue_url: str = Field(alias=Env.IMPORT_QUEUE_URL)
    max_bytes: int = Field(alias=Env.IMPORT_MAX_BYTES, ge=1024, le=5 * 1024**3)


class ImportsApiSettings(_Imports):
    """Import jobs made (with their presigned upload URL), started and read; exports queued and read."""

    export_queue_url: str = Field(alias=Env.EXPORT_QUEUE_URL)


class ImportWorkerSettings(_Imports):
    """Steps of import jobs: rows applied through the contacts' capture rules."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)
    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    phone_country_code: str = Field(alias=ContactsEnv.PHONE_COUNTRY_CODE, pattern=r"^[1-9][0-9]{0,2}$")
    consent_text_version: str = Field(alias=ContactsEnv.CONSENT_TEXT_VERSION)
    opt_in_per_second: float = Field(alias=Env.IMPORT_OPT_IN_RATE, gt=0, le=1000)


class ExportWorkerSettings(FromEnv):
    """Exports: contacts read through the contacts' directory, written to the Files bucket."""

    imports_table: str = Field(alias=Env.IMPORTS_TABLE)
    files_bucket: str = Field(alias=Env.FILES_BUCKET)
    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)
    campaigns_table: str = Field(alias=CampaignsEnv.CAMPAIGNS_TABLE, description="saved segments and their index")
    phone_country_code: str = Field(alias=ContactsEnv.PHONE_COUNTRY_CODE, pattern=r"^[1-9][0-9]{0,2}$")
