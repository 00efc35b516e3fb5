"""Settings of the contacts functions: capture, the contacts API and the consent mailer.

Each model is read once from the environment by the composition root; the topology
(infra/ecrm_infra/topology/contacts.py) names it per function, and tests/infra checks the function's
environment against it.
"""

from __future__ import annotations

from pydantic import Field

from ecrm.contacts.names import Env
from ecrm.settings import FromEnv


class ContactsApiSettings(FromEnv):
    """Role-protected contacts API."""

    table_name: str = Field(alias=Env.CONTACTS_TABLE)
    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    phone_country_code: str = Field(
        alias=Env.PHONE_COUNTRY_CODE,
        pattern=r"^[1-9][0-9]{0,2}$",
        description="calling code of phone numbers stored or searched without one (search index, E.164)",
    )


class CaptureSettings(ContactsApiSettings):
    """Public capture and consent-confirmation routes."""

    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    thank_you_url: str = Field(alias=Env.THANK_YOU_URL)
    allowed_origins: str = Field(alias=Env.ALLOWED_ORIGINS, description="comma-separated origins")
    consent_text_version: str = Field(alias=Env.CONSENT_TEXT_VERSION)

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())


class ConsentMailerSettings(FromEnv):
    """Sends the double opt-in confirmation mail."""

    table_name: str = Field(alias=Env.CONTACTS_TABLE)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
    confirm_url: str = Field(alias=Env.CONFIRM_URL)
    token_ttl_hours: int = Field(alias=Env.CONFIRM_TTL_HOURS, ge=1, le=24 * 30)
