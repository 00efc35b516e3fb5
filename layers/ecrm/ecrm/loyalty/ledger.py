"""Pure ledger semantics: lots and their expiry, proportional reversals, oldest-first consumption,
and a reference computation of the balance that the property test holds the services to.

A lot is the points a member earned in one calendar month (UTC). It expires as a whole at the
first instant of the month `expiry_months + 1` after it: points live at least `expiry_months`
months, and a member has at most `expiry_months + 1` lots, so they fit on the member item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from math import floor

from ecrm.loyalty import months
from ecrm.loyalty.errors import InsufficientPoints
from ecrm.loyalty.rules import RuleBook, points_for
from ecrm.loyalty.shop import OrderPlaced, OrderRefunded
from ecrm.loyalty.state import Earned, Refunds
from ecrm.loyalty.tiers import TierPolicy


def lot_for(at: datetime) -> str:
    return months.month_of(at)


def expires_at(lot: str, expiry_months: int) -> datetime:
    return months.start(months.index(lot) + expiry_months + 1)


def usable_lots(lots: Mapping[str, int], now: datetime, expiry_months: int) -> list[tuple[str, int]]:
    """Lots with points left that have not expired at `now`, oldest first. A lot past its expiry
    whose timer has not run yet is not usable: its points are as good as gone."""
    return [
        (lot, points) for lot, points in sorted(lots.items()) if points > 0 and expires_at(lot, expiry_months) > now
    ]


def take(
    lots: Mapping[str, int], points: int, now: datetime, expiry_months: int, first: str | None = None
) -> dict[str, int]:
    """Up to `points` from the usable lots, oldest first (from `first` before the others, if given)."""
    usable = usable_lots(lots, now, expiry_months)
    usable.sort(key=lambda lot: lot[0] != first)  # stable: the rest stay oldest first
    takes: dict[str, int] = {}
    left = points
    for lot, available in usable:
        if left == 0:
            break
        taken = min(available, left)
        takes[lot] = taken
        left -= taken
    return takes


def take_oldest(lots: Mapping[str, int], points: int, now: datetime, expiry_months: int) -> dict[str, int]:
    """Exactly `points` from the usable lots, oldest first, or InsufficientPoints: never overdraws."""
    takes = take(lots, points, now, expiry_months)
    if sum(takes.values()) < points:
        raise InsufficientPoints(points, sum(p for _, p in usable_lots(lots, now, expiry_months)))
    return takes


def reversal_takes(
    lots: Mapping[str, int], own_lot: str, points: int, now: datetime, expiry_months: int
) -> dict[str, int]:
    """Where a reversal of `points` comes from: the order's own lot first, then the oldest others,
    never more than is there. When the order's lot has expired its points already left the
    balance by expiry, so nothing more is taken for them."""
    if expires_at(own_lot, expiry_months) <= now:
        return {}
    return take(lots, points, now, expiry_months, first=own_lot)


def reverse(earned: Earned, state: Refunds, refund: OrderRefunded) -> tuple[int, Refunds]:
    """Points a refund reverses, and the order's refund state after it.

    Cumulative, so rounding never drifts: after any set of refunds the order has reversed
    floor(earned * refunded share), capped at what it earned; each refund reverses the increase.
    Refund lines reverse the points their SKUs earned; an amount without lines (or naming a SKU
    the order does not have) is spread over the whole order in proportion to its total.
    """
    by_sku = dict(state.by_sku)
    allocated = 0
    for line in refund.lines:
        if line.sku in earned.lines:
            by_sku[line.sku] = by_sku.get(line.sku, 0) + line.amount_minor
            allocated += line.amount_minor
    unallocated = state.unallocated_minor + refund.amount_minor - allocated
    target = min(earned.points, _reversed_target(earned, by_sku, unallocated))
    total = max(state.reversed, target)
    after = Refunds(by_sku=by_sku, unallocated_minor=unallocated, reversed=total, applied=dict(state.applied))
    return total - state.reversed, after


def _share(part: int, whole: int) -> Fraction:
    if whole <= 0:
        return Fraction(1 if part > 0 else 0)
    return min(Fraction(1), Fraction(part, whole))


def _reversed_target(earned: Earned, by_sku: Mapping[str, int], unallocated: int) -> int:
    weight = sum(s.weight for s in earned.lines.values()) + earned.bonus_weight
    if weight == 0 or earned.points == 0:
        return 0
    spread = _share(unallocated, earned.total_minor)
    covered = Fraction(0)
    for sku, share in earned.lines.items():
        covered += share.weight * min(Fraction(1), spread + _share(by_sku.get(sku, 0), share.amount_minor))
    refunded = unallocated + sum(by_sku.values())
    covered += earned.bonus_weight * _share(refunded, earned.total_minor)
    return floor(earned.points * covered / weight)


# --- the reference computation -------------------------------------------------------------


@dataclass(frozen=True)
class Redeem:
    key: str
    points: int


Delivery = OrderPlaced | OrderRefunded | Redeem


@dataclass
class _Reference:
    """The ledger for one member as a plain sequential fold, no storage, no concurrency: every
    delivery is applied at most once by its business key; a refund before its order waits for it."""

    rules: RuleBook
    tiers: TierPolicy
    balance: int = 0
    window: int = 0
    orders: dict[str, tuple[Earned, Refunds]] = field(default_factory=dict)
    parked: dict[str, dict[str, OrderRefunded]] = field(default_factory=dict)
    redeemed: set[str] = field(default_factory=set)

    def deliver(self, event: Delivery) -> None:
        if isinstance(event, OrderPlaced):
            self.order(event)
        elif isinstance(event, OrderRefunded):
            self.refund(event)
        elif event.key not in self.redeemed and self.balance >= event.points:
            self.redeemed.add(event.key)  # a refused redemption may be retried under its key
            self.balance -= event.points

    def order(self, order: OrderPlaced) -> None:
        if order.order_id in self.orders:
            return
        earning = points_for(order, self.rules.at(order.placed_at), self.tiers.tier_for(self.window))
        earned = Earned(
            member_id="reference",
            points=earning.points,
            total_minor=order.total.amount_minor,
            currency=order.total.currency,
            lines=earning.lines,
            bonus_weight=earning.bonus_weight,
            lot="-",
            rule_version=earning.rule_version,
            at=order.placed_at,
        )
        self.orders[order.order_id] = (earned, Refunds())
        self.balance += earned.points
        self.window += earned.points
        for refund in self.parked.pop(order.order_id, {}).values():
            self.refund(refund)

    def refund(self, refund: OrderRefunded) -> None:
        if refund.order_id not in self.orders:
            self.parked.setdefault(refund.order_id, {}).setdefault(refund.refund_id, refund)
            return
        earned, state = self.orders[refund.order_id]
        if refund.refund_id in state.applied:
            return
        delta, state = reverse(earned, state, refund)
        applied = {**state.applied, refund.refund_id: delta}
        self.orders[refund.order_id] = (earned, state.model_copy(update={"applied": applied}))
        self.balance -= min(delta, self.balance)
        self.window -= delta


def expected_balance(deliveries: Iterable[Delivery], rules: RuleBook, tiers: TierPolicy) -> int:
    """The balance one member ends with after `deliveries` (duplicates included, in arrival
    order), all inside one month: no lot expires, one tier window."""
    reference = _Reference(rules, tiers)
    for event in deliveries:
        reference.deliver(event)
    return reference.balance


def empty_expired_lots(lots: Mapping[str, int], now: datetime, expiry_months: int) -> tuple[str, ...]:
    """Lots with nothing left that have expired: nothing can add to them again, so a write may
    drop them from the member item (guarded on their being 0)."""
    return tuple(lot for lot, p in sorted(lots.items()) if p == 0 and expires_at(lot, expiry_months) <= now)
