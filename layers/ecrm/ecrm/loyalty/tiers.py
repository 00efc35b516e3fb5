"""Tiers by points earned in a rolling window of calendar months, from monthly buckets.

The member item carries one bucket per month (`earned:<YYYY-MM>`, net of reversals), so the window
sum is a pure function of the item the accrual reads anyway: no history query. The window at a
moment is its month and the `window_months - 1` months before it; a bucket leaves the window on
the first instant of a month, so that is when a downgrade can happen (see `review_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from ecrm.loyalty import months
from ecrm.model import Model

TierName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


class Tier(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: TierName
    threshold: int = Field(ge=0, description="points earned in the window needed to hold the tier")


class TierPolicy(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: list[Tier] = Field(min_length=1, description="ascending thresholds; the first is the base tier, at 0")
    window_months: int = Field(default=12, ge=1, le=36)

    @model_validator(mode="after")
    def _ascending_from_zero(self) -> TierPolicy:
        thresholds = [t.threshold for t in self.tiers]
        if thresholds[0] != 0 or any(a >= b for a, b in pairwise(thresholds)):
            raise ValueError("thresholds must start at 0 and strictly increase")
        if len({t.name for t in self.tiers}) != len(self.tiers):
            raise ValueError("tier names must be unique")
        return self

    @property
    def base(self) -> str:
        return self.tiers[0].name

    def tier_for(self, points: int) -> str:
        return [t for t in self.tiers if t.threshold <= points][-1].name if points > 0 else self.base

    def threshold(self, tier: str) -> int:
        return next((t.threshold for t in self.tiers if t.name == tier), 0)

    def above(self, tier: str) -> Tier | None:
        names = [t.name for t in self.tiers]
        position = names.index(tier) if tier in names else 0
        return self.tiers[position + 1] if position + 1 < len(self.tiers) else None

    def window(self, at: datetime) -> range:
        """Month indexes in the window at `at`."""
        last = months.index(months.month_of(at))
        return range(last - self.window_months + 1, last + 1)

    def window_points(self, buckets: Mapping[str, int], at: datetime) -> int:
        inside = self.window(at)
        return sum(points for month, points in buckets.items() if months.index(month) in inside)

    def tier_at(self, buckets: Mapping[str, int], at: datetime) -> str:
        return self.tier_for(self.window_points(buckets, at))

    def stale_buckets(self, buckets: Mapping[str, int], at: datetime) -> tuple[str, ...]:
        """Buckets a month past the window: safe to drop, nothing writes them any more (a
        reversal only touches its bucket while it is inside the window)."""
        oldest = self.window(at).start - 1
        return tuple(sorted(m for m in buckets if months.index(m) < oldest))

    def review_at(self, buckets: Mapping[str, int], tier: str, at: datetime) -> datetime | None:
        """The first month start after `at` when, with no new points, the window falls below the
        threshold of `tier`: when to look again for a downgrade. None for the base tier."""
        threshold = self.threshold(tier)
        if threshold == 0:
            return None
        current = months.index(months.month_of(at))
        for ahead in range(1, self.window_months + 1):
            first = current + ahead - self.window_months + 1
            kept = sum(p for m, p in buckets.items() if months.index(m) >= first)
            if kept < threshold:
                return months.start(current + ahead)
        return months.start(current + self.window_months)


@dataclass(frozen=True)
class TierDecision:
    """What one write of `points` into the current month's bucket does to the tier.

    `before` prices the order (the tier the member holds when it arrives); `change` is set when
    the stored (announced) tier differs from `after`. `bucket_limit` is the guard that makes the
    decision safe without a lock: the write commits only while the current month's bucket is
    still below it, i.e. while concurrent accruals have not pushed the window across a threshold
    this decision did not see. It is None at the top tier, where nothing can be missed.
    """

    month: str
    before: str
    after: str
    change: str | None
    bucket_limit: int | None


def decide(
    policy: TierPolicy, buckets: Mapping[str, int], stored: str | None, at: datetime, points: int
) -> TierDecision:
    month = months.month_of(at)
    before_points = policy.window_points(buckets, at)
    before = policy.tier_for(before_points)
    after_points = before_points + points
    after = policy.tier_for(after_points)
    headroom = [
        nxt.threshold - total
        for tier, total in ((before, before_points), (after, after_points))
        if (nxt := policy.above(tier)) is not None
    ]
    limit = buckets.get(month, 0) + min(headroom) if headroom else None
    change = after if after != (stored or policy.base) else None
    return TierDecision(month=month, before=before, after=after, change=change, bucket_limit=limit)
