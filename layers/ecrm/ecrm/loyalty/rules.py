"""Earn rules, versioned, and the pure pricing of an order in points.

Integer arithmetic only. Every multiplier is a whole percentage (150 = x1.5). A line's points are
the exact fraction

    amount_minor * rate.points * item% * tier% * promo%... / (rate.per_minor * 100 ** factors)

and the order earns floor(sum of its lines' fractions) + bonus points, capped per order. Flooring
once per order (not per line) means splitting an order into more lines never loses a point.
Each line's exact share is also kept as an integer weight in micro-points, so a refund of some
lines reverses the points those lines earned (ledger.reversed_points).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from math import prod
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from ecrm.loyalty.money import Currency
from ecrm.loyalty.shop import OrderLine, OrderPlaced
from ecrm.model import Model

Percent = Annotated[int, Field(ge=0, le=10_000)]
MICRO = 1_000_000  # weights are kept in millionths of a point
MAX_MULTIPLIER_PROMOTIONS = 4  # bounds weights: see money.MAX_MINOR


class EarnRate(Model):
    """`points` per `per_minor` minor units: 1 point per euro is points=1, per_minor=100."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    points: int = Field(ge=1, le=1000)
    per_minor: int = Field(ge=1, le=1_000_000)
    min_order_minor: int = Field(default=0, ge=0, description="orders whose total is below earn nothing")


class Promotion(Model):
    """A time-boxed boost for orders placed in [starts_at, ends_at): a multiplier on the lines of
    its categories (all lines when `categories` is empty), or a bonus once per order that has such a line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    multiplier_percent: Percent | None = None
    bonus_points: int | None = Field(default=None, ge=1, le=1_000_000)
    categories: frozenset[str] = frozenset()

    @model_validator(mode="after")
    def _one_effect(self) -> Promotion:
        if (self.multiplier_percent is None) == (self.bonus_points is None):
            raise ValueError("give exactly one of multiplier_percent and bonus_points")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def covers(self, category: str) -> bool:
        return not self.categories or category in self.categories


class EarnRules(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=32)
    effective_from: AwareDatetime
    rates: dict[Currency, EarnRate]
    category_percent: dict[str, Percent] = Field(default_factory=dict)
    sku_percent: dict[str, Percent] = Field(default_factory=dict, description="overrides the category's")
    tier_percent: dict[str, Percent] = Field(default_factory=dict, description="a tier not named earns 100%")
    promotions: list[Promotion] = Field(default_factory=list, max_length=50)
    max_points_per_order: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounded_stacking(self) -> EarnRules:
        boosts = [p for p in self.promotions if p.multiplier_percent is not None]
        for promo in boosts:
            overlapping = [p for p in boosts if p.starts_at < promo.ends_at and promo.starts_at < p.ends_at]
            if len(overlapping) > MAX_MULTIPLIER_PROMOTIONS:
                raise ValueError(f"at most {MAX_MULTIPLIER_PROMOTIONS} multiplier promotions may overlap")
        return self

    def item_percent(self, line: OrderLine) -> int:
        return self.sku_percent.get(line.sku, self.category_percent.get(line.category, 100))


class RuleBook(Model):
    """Every version of the rules. An order is priced by the version in effect when it was placed,
    so a late or redelivered event earns what it would have earned on time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    versions: list[EarnRules] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> RuleBook:
        if len({v.version for v in self.versions}) != len(self.versions):
            raise ValueError("rule versions must be unique")
        return self

    def at(self, placed_at: datetime) -> EarnRules:
        """The newest version in effect at `placed_at`; the oldest version for orders before all."""
        ordered = sorted(self.versions, key=lambda v: v.effective_from)
        in_effect = [v for v in ordered if v.effective_from <= placed_at]
        return in_effect[-1] if in_effect else ordered[0]


@dataclass(frozen=True)
class SkuShare:
    amount_minor: int
    weight: int  # the lines' exact points in micro-points (before the order cap)


@dataclass(frozen=True)
class Earning:
    points: int
    rule_version: str
    tier: str
    lines: dict[str, SkuShare]  # by SKU; empty when the order earned nothing
    bonus_weight: int  # bonus points in micro-points
    capped: bool = False

    @property
    def weight(self) -> int:
        return sum(s.weight for s in self.lines.values()) + self.bonus_weight


def points_for(order: OrderPlaced, rules: EarnRules, tier: str) -> Earning:
    """Points `order` earns under `rules` for a member holding `tier`."""
    rate = rules.rates.get(order.total.currency)
    if rate is None or order.total.amount_minor < rate.min_order_minor:
        return Earning(points=0, rule_version=rules.version, tier=tier, lines={}, bonus_weight=0)
    promos = [p for p in rules.promotions if p.active(order.placed_at)]
    boosts = [p for p in promos if p.multiplier_percent is not None]
    denominator = rate.per_minor * 100 ** (2 + len(boosts))
    tier_pct = rules.tier_percent.get(tier, 100)
    numerators: dict[str, int] = defaultdict(int)
    amounts: dict[str, int] = defaultdict(int)
    for line in order.lines:
        promo_pct = prod((p.multiplier_percent or 100) if p.covers(line.category) else 100 for p in boosts)
        numerators[line.sku] += line.amount_minor * rate.points * rules.item_percent(line) * tier_pct * promo_pct
        amounts[line.sku] += line.amount_minor
    bonus = sum(p.bonus_points or 0 for p in promos if p.bonus_points and _has_category(order, p))
    raw = sum(numerators.values()) // denominator + bonus
    cap = rules.max_points_per_order
    points = raw if cap is None else min(raw, cap)
    shares = {sku: SkuShare(amounts[sku], numerators[sku] * MICRO // denominator) for sku in numerators}
    return Earning(points, rules.version, tier, shares, bonus * MICRO, capped=points < raw)


def _has_category(order: OrderPlaced, promo: Promotion) -> bool:
    return any(promo.covers(line.category) for line in order.lines)
