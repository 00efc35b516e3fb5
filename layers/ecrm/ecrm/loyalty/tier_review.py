"""Tier reviews: downgrades that no accrual makes. Points leave the window on the first instant
of a month, and reversals lower it, without an order to notice; a per-member timer comes back
then (at `TierPolicy.review_at`, or shortly after a reversal) and settles the tier."""

from __future__ import annotations

from ecrm.clock import Clock
from ecrm.errors import Conflict
from ecrm.loyalty.accrual import ATTEMPTS
from ecrm.loyalty.deadlines import TierReview
from ecrm.loyalty.effects import Effects, Plan
from ecrm.loyalty.events import tier_changed
from ecrm.loyalty.models import Outcome, TierChange
from ecrm.loyalty.ports import LedgerRepository, LedgerWrite, MemberChange, MemberChanged, MemberGuard
from ecrm.loyalty.programme import Programme
from ecrm.loyalty.tiers import decide


class TierReviewService:
    def __init__(
        self, repo: LedgerRepository, effects: Effects, clock: Clock, programme: Programme, attempts: int = ATTEMPTS
    ) -> None:
        self._repo = repo
        self._effects = effects
        self._clock = clock
        self._programme = programme
        self._attempts = attempts

    def review(self, timer: TierReview) -> Outcome:
        tiers = self._programme.tiers
        for _ in range(self._attempts):
            member = self._repo.get_member(timer.member_id)
            if member is None:
                return Outcome.STALE
            now = self._clock.now()
            decision = decide(tiers, member.earned, member.tier, now, 0)
            next_review = tiers.review_at(member.earned, decision.after, now)
            if decision.change is None:
                if next_review is not None:
                    self._effects.review_tier(member.member_id, next_review)
                return Outcome.STALE
            change = TierChange(
                from_tier=member.tier or tiers.base, to_tier=decision.change, version=member.tier_version + 1
            )
            limit = decision.bucket_limit
            guard = MemberGuard(
                tier_version=member.tier_version,
                bucket_below=(decision.month, limit) if limit is not None else None,
            )
            update = MemberChange(
                tier=decision.change, remove_buckets=tiers.stale_buckets(member.earned, now), guard=guard
            )
            event = tier_changed(member.member_id, change, self._effects.ranks, now)
            plan = Plan(
                member.member_id, LedgerWrite(member.member_id, (), update), review_at=next_review, events=[event]
            )
            try:
                self._repo.apply(self._effects.write(plan))
            except MemberChanged:
                continue
            self._effects.after(plan)
            return Outcome.APPLIED
        raise Conflict(f"member {timer.member_id}: the tier kept changing")
