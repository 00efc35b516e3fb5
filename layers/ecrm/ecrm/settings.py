"""Per-function settings models, read once from the environment by each composition root.

tests/infra checks every function's CDK environment against the model named in the topology.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from ecrm.names import Env


class _FromEnv(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class ContactsApiSettings(_FromEnv):
    """Role-protected contacts API."""

    table_name: str = Field(alias=Env.CONTACTS_TABLE)
    event_bus: str = Field(alias=Env.EVENT_BUS)


class CaptureSettings(ContactsApiSettings):
    """Public capture and consent-confirmation routes."""

    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    thank_you_url: str = Field(alias=Env.THANK_YOU_URL)
    allowed_origins: str = Field(alias=Env.ALLOWED_ORIGINS, description="comma-separated origins")
    consent_text_version: str = Field(alias=Env.CONSENT_TEXT_VERSION)

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())


class ConsentMailerSettings(_FromEnv):
    """Sends the double opt-in confirmation mail."""

    table_name: str = Field(alias=Env.CONTACTS_TABLE)
    signing_secret_id: str = Field(alias=Env.SIGNING_SECRET)
    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
    confirm_url: str = Field(alias=Env.CONFIRM_URL)
    token_ttl_hours: int = Field(alias=Env.CONFIRM_TTL_HOURS, ge=1, le=24 * 30)


class LoyaltyProgrammeSettings(_FromEnv):
    """The programme API: read and replace the earn rules, tiers and expiry settings."""

    loyalty_table: str = Field(alias=Env.LOYALTY_TABLE)


class LoyaltyApiSettings(_FromEnv):
    """The member API: balances, history, redemptions, adjustments, the programme."""

    loyalty_table: str = Field(alias=Env.LOYALTY_TABLE)
    event_bus: str = Field(alias=Env.EVENT_BUS)
    schedule_group: str = Field(alias=Env.SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(alias=Env.SCHEDULER_ROLE)
    timer_queue_url: str = Field(alias=Env.LOYALTY_TIMER_QUEUE_URL)
    timer_queue_arn: str = Field(alias=Env.LOYALTY_TIMER_QUEUE_ARN)


class LoyaltyAccrualSettings(LoyaltyApiSettings):
    """The shop's order events into the ledger; members found (or created) among the contacts."""

    contacts_table: str = Field(alias=Env.CONTACTS_TABLE)


class LoyaltyUpkeepSettings(LoyaltyAccrualSettings):
    """Lot expiry, expiry warning mail and tier reviews (Scheduler's timers), and ContactErased."""

    sender: str = Field(alias=Env.SENDER)
    configuration_set: str = Field(alias=Env.SES_CONFIGURATION_SET)
