"""Events the loyalty capability publishes (source `ecrm.loyalty`): ids and numbers only, no
personal data. Each is derived from a ledger entry (`events_for`), so whatever publishes them
(after the write, or phase 2's stream of new entries) publishes the same thing; consumers
de-duplicate on `entry_id` (on `member_id` + `tier_version` for TierChanged)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, Literal

from ecrm.access import as_actor
from ecrm.events import DomainEvent
from ecrm.loyalty.models import EntryKind, LedgerEntry, TierChange
from ecrm.loyalty.names import DetailType
from ecrm.loyalty.shop import SHOP_EVENT_TYPES
from ecrm.names import Source


class LoyaltyEvent(DomainEvent):
    source: ClassVar[str] = Source.LOYALTY

    member_id: str


class PointsEarned(LoyaltyEvent):
    detail_type: ClassVar[str] = DetailType.POINTS_EARNED

    entry_id: str
    order_id: str
    points: int
    rule_version: str
    tier: str
    lot: str
    expires_at: datetime


class PointsReversed(LoyaltyEvent):
    detail_type: ClassVar[str] = DetailType.POINTS_REVERSED

    entry_id: str
    order_id: str
    refund_id: str
    points: int  # taken from the balance (positive)
    uncollected: int  # reversed, but spent or expired already


class PointsRedeemed(LoyaltyEvent):
    detail_type: ClassVar[str] = DetailType.POINTS_REDEEMED

    entry_id: str
    points: int  # positive


class PointsExpired(LoyaltyEvent):
    detail_type: ClassVar[str] = DetailType.POINTS_EXPIRED

    entry_id: str
    lot: str
    points: int  # positive


class PointsAdjusted(LoyaltyEvent):
    detail_type: ClassVar[str] = DetailType.POINTS_ADJUSTED

    entry_id: str
    points: int  # signed; the reason stays in the ledger


class TierChanged(LoyaltyEvent):
    detail_type: ClassVar[str] = DetailType.TIER_CHANGED

    from_tier: str
    to_tier: str
    direction: Literal["up", "down"]
    tier_version: int


LOYALTY_EVENT_TYPES: dict[str, type[LoyaltyEvent]] = {
    cls.detail_type: cls
    for cls in (PointsEarned, PointsReversed, PointsRedeemed, PointsExpired, PointsAdjusted, TierChanged)
}
# What the capability consumes from outside (source `shop`): schemas in shop.py, listed here too so
# that every event schema of the capability is found from its events module.
CONSUMED_EVENT_TYPES = SHOP_EVENT_TYPES


def _rank(ranks: list[str], tier: str) -> int:
    return ranks.index(tier) if tier in ranks else -1


def tier_changed(member_id: str, change: TierChange, ranks: list[str], at: datetime) -> TierChanged:
    """`ranks`: tier names, lowest first (TierPolicy order)."""
    # a tier the programme no longer has ranks lowest
    up = _rank(ranks, change.to_tier) > _rank(ranks, change.from_tier)
    return TierChanged(
        occurred_at=at,
        member_id=member_id,
        from_tier=change.from_tier,
        to_tier=change.to_tier,
        direction="up" if up else "down",
        tier_version=change.version,
    )


def _earned(entry: LedgerEntry) -> LoyaltyEvent:
    return PointsEarned(
        occurred_at=entry.at,
        member_id=entry.member_id,
        entry_id=entry.entry_id,
        order_id=entry.order_id or entry.key,
        points=entry.points,
        rule_version=entry.rule_version or "",
        tier=entry.tier or "",
        lot=next(iter(entry.lots), ""),
        expires_at=entry.expires_at or entry.at,
    )


def _reversed(entry: LedgerEntry) -> LoyaltyEvent:
    return PointsReversed(
        occurred_at=entry.at,
        member_id=entry.member_id,
        entry_id=entry.entry_id,
        order_id=entry.order_id or "",
        refund_id=entry.refund_id or entry.key,
        points=-entry.points,
        uncollected=entry.uncollected,
    )


def _redeemed(entry: LedgerEntry) -> LoyaltyEvent:
    return PointsRedeemed(
        occurred_at=entry.at,
        member_id=entry.member_id,
        entry_id=entry.entry_id,
        points=-entry.points,
        actor=as_actor(entry.actor) if entry.actor else None,
    )


def _expired(entry: LedgerEntry) -> LoyaltyEvent:
    return PointsExpired(
        occurred_at=entry.at, member_id=entry.member_id, entry_id=entry.entry_id, lot=entry.key, points=-entry.points
    )


def _adjusted(entry: LedgerEntry) -> LoyaltyEvent:
    return PointsAdjusted(
        occurred_at=entry.at,
        member_id=entry.member_id,
        entry_id=entry.entry_id,
        points=entry.points,
        actor=as_actor(entry.actor) if entry.actor else None,
    )


_BUILDERS: dict[EntryKind, Callable[[LedgerEntry], LoyaltyEvent]] = {
    "earn": _earned,
    "reverse": _reversed,
    "redeem": _redeemed,
    "expire": _expired,
    "adjust": _adjusted,
}


def events_for(entry: LedgerEntry, ranks: list[str]) -> list[LoyaltyEvent]:
    """The events an entry announces: its own, and TierChanged when it changed the tier."""
    events = [_BUILDERS[entry.kind](entry)]
    if entry.tier_change is not None:
        events.append(tier_changed(entry.member_id, entry.tier_change, ranks, entry.at))
    return events
