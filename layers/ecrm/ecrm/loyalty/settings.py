"""Settings of the loyalty functions: accrual, upkeep, the member API and the programme API.

Each model is read once from the environment by the composition root; the topology
(infra/ecrm_infra/topology/loyalty.py) names it per function, and tests/infra checks the function's
environment against it.
"""

from __future__ import annotations

from pydantic import Field

from ecrm.loyalty.names import Env
from ecrm.settings import FromEnv


class LoyaltyProgrammeSettings(FromEnv):
    """The programme API: read and replace the earn rules, tiers and expiry settings."""

    loyalty_table: str = Field(alias=Env.LOYALTY_TABLE)


class LoyaltyApiSettings(FromEnv):
    """The member API: balances, history, redemptions, adjustments, the programme."""

    loyalty_table: str = Field(alias=Env.LOYALTY_TABLE)
    outbox_table: str = Field(alias=Env.OUTBOX_TABLE)
    schedule_group: str = Field(alias=Env.LOYALTY_SCHEDULE_GROUP)
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
