"""How the loyalty events read on a member's timeline (ecrm.timeline): a member is a contact."""

from __future__ import annotations

from ecrm.loyalty.names import DetailType
from ecrm.names import Source
from ecrm.timeline import Kind


def _kind(detail_type: str, name: str, says: str) -> Kind:
    return Kind(Source.LOYALTY, detail_type, name, lambda d: says.format_map(dict(d)), "member_id")


KINDS = (
    _kind(DetailType.POINTS_EARNED, "points.earned", "Earned {points} points on order {order_id}"),
    _kind(DetailType.POINTS_REVERSED, "points.reversed", "{points} points reversed (refund {refund_id})"),
    _kind(DetailType.POINTS_REDEEMED, "points.redeemed", "Redeemed {points} points"),
    _kind(DetailType.POINTS_EXPIRED, "points.expired", "{points} points expired (earned {lot})"),
    _kind(DetailType.POINTS_ADJUSTED, "points.adjusted", "Points adjusted by {points}"),
    _kind(DetailType.TIER_CHANGED, "tier.changed", "Tier changed from {from_tier} to {to_tier}"),
)
