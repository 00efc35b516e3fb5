"""What the ledger keeps besides its entries: the member item and the order record.

The member item is the one item an accrual reads. Its lots and buckets are numbers per month
(phase 2 stores them as top-level attributes `lot:<YYYY-MM>` and `earned:<YYYY-MM>`), so every
change to them is a commutative ADD and concurrent accruals never overwrite each other.

The order record (keyed by order id alone: a refund names no member) is the exactly-once guard of
an order's earn and refunds, keeps what a refund needs to be priced, and parks refunds that
arrive before their order.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from ecrm.loyalty.rules import SkuShare
from ecrm.loyalty.shop import OrderRefunded
from ecrm.model import Model

MAX_PARKED = 25  # refunds waiting for one order; more is not a real shop


class MemberState(Model):
    model_config = ConfigDict(frozen=True)

    member_id: str
    balance: int = 0  # always the sum of `lots`
    lots: dict[str, int] = Field(default_factory=dict, description="points left per month earned")
    earned: dict[str, int] = Field(default_factory=dict, description="points earned per month, net of reversals")
    tier: str | None = None  # the tier last announced; None = the base tier, never changed
    tier_version: int = 0  # counts tier changes: TierChanged's id, and the guard on them


class Earned(Model):
    """What an order earned, kept so its refunds can be priced without the rules."""

    model_config = ConfigDict(frozen=True)

    member_id: str
    points: int
    total_minor: int
    currency: str
    lines: dict[str, SkuShare]
    bonus_weight: int
    lot: str
    rule_version: str
    at: datetime


class Refunds(Model):
    model_config = ConfigDict(frozen=True)

    by_sku: dict[str, int] = Field(default_factory=dict, description="refunded amount allocated to a SKU")
    unallocated_minor: int = 0  # refunded amount spread over the whole order
    reversed: int = 0  # points reversed so far (collected or not): never more than earned
    applied: dict[str, int] = Field(default_factory=dict, description="refund id -> points it reversed")


class OrderRecord(Model):
    model_config = ConfigDict(frozen=True)

    order_id: str
    version: int = 0  # 0 = not stored yet
    earned: Earned | None = None  # None while only parked refunds are known
    refunds: Refunds = Refunds()
    parked: list[OrderRefunded] = Field(default_factory=list)

    def knows_refund(self, refund_id: str) -> bool:
        return refund_id in self.refunds.applied or any(r.refund_id == refund_id for r in self.parked)
