"""The programme's configuration: rules, tiers and the clocks of expiry. Plain data (JSON), loaded
by the composition root and handed to the services; where it is kept is phase 2's choice."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime, ConfigDict, Field

from ecrm.loyalty.rules import RuleBook
from ecrm.loyalty.tiers import TierPolicy
from ecrm.model import Model


class Programme(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: RuleBook
    tiers: TierPolicy
    expiry_months: int = Field(default=24, ge=1, le=120)
    warn_before: timedelta = Field(default=timedelta(days=30), description="expiry warning mail lead time")
    expiring_soon: timedelta = Field(default=timedelta(days=60), description="what the member view lists")
    tier_review_delay: timedelta = Field(
        default=timedelta(minutes=1), description="reversals in this time share one tier review"
    )


class StoredProgramme(Model):
    """GET /loyalty/programme: the programme in force and which revision it is."""

    model_config = ConfigDict(frozen=True)

    version: int = Field(ge=0, description="0 = the built-in default; each replacement adds 1")
    programme: Programme
    saved_at: AwareDatetime | None = None
    saved_by: str | None = Field(default=None, description="the admin's user id")
