"""Ledger entries, the member view, and the API's request and answer models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictInt, StringConstraints, field_validator

from ecrm.model import Model
from ecrm.types import PlainText


class Outcome(StrEnum):
    """What handling one event or timer did."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # its business key was applied before: nothing changed
    PARKED = "parked"  # a refund before its order: kept for when the order comes
    STALE = "stale"  # a timer for something gone (consumed, expired, moved): nothing to do
    FAILED = "failed"  # a mail that can never be sent: its claim is settled failed, with the reason


EntryKind = Literal["earn", "reverse", "redeem", "expire", "adjust"]
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{8,100}$")]
MAX_POINTS = 10**9


class TierChange(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    from_tier: str
    to_tier: str
    version: int = Field(description="the member's tier_version after the change: with the member id, its id")


class LedgerEntry(Model):
    """One immutable line of a member's ledger. `key` is the business key that makes it happen
    once: the order id (earn), refund id (reverse), Idempotency-Key (redeem, adjust) or lot (expire)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_id: str
    kind: EntryKind
    key: str
    points: int = Field(description="signed change of the balance")
    at: datetime
    lots: dict[str, int] = Field(default_factory=dict, description="signed change per lot (month earned)")
    expires_at: datetime | None = Field(default=None, description="when points added by this entry expire")
    rule_version: str | None = None
    tier: str | None = Field(default=None, description="the tier that priced an earn")
    tier_change: TierChange | None = Field(default=None, description="the tier change this earn made")
    order_id: str | None = None
    refund_id: str | None = None
    uncollected: int = Field(default=0, ge=0, description="reversed points already spent or expired")
    reason: str | None = None
    actor: str | None = None
    reference: str | None = None

    @property
    def entry_id(self) -> str:
        return entry_id(self.kind, self.key)


def entry_id(kind: EntryKind, key: str) -> str:
    return f"{kind}#{key}"


class ExpiringPoints(Model):
    points: int
    expires_at: datetime


class MemberView(Model):
    """GET /loyalty/members/{id}."""

    member_id: str
    balance: int = Field(description="usable points: lots that have not expired")
    tier: str
    window_points: int = Field(description="points earned in the tier window")
    next_tier: str | None
    points_to_next_tier: int | None
    expiring_soon: list[ExpiringPoints]


class LedgerPage(Model):
    items: list[LedgerEntry]
    next_cursor: str | None = None


class RedemptionRequest(Model):
    """POST /loyalty/members/{id}/redemptions (with an Idempotency-Key header)."""

    model_config = ConfigDict(extra="forbid")

    points: Annotated[StrictInt, Field(ge=1, le=MAX_POINTS)]
    reference: PlainText | None = Field(default=None, description="what the points bought (a reward id)")


class AdjustmentRequest(Model):
    """POST /loyalty/members/{id}/adjustments (admin; with an Idempotency-Key header)."""

    model_config = ConfigDict(extra="forbid")

    points: Annotated[StrictInt, Field(ge=-MAX_POINTS, le=MAX_POINTS)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]

    @field_validator("points")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0")
        return value


class EntryResult(Model):
    """The answer to a redemption or an adjustment."""

    entry: LedgerEntry
    replayed: bool = Field(description="true when this answers a repeat of an Idempotency-Key")
