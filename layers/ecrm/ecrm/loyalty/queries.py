"""The member API's reads: the member view and the paginated history."""

from __future__ import annotations

from ecrm.clock import Clock
from ecrm.errors import InvalidInput, NotFound
from ecrm.loyalty.ledger import expires_at, usable_lots
from ecrm.loyalty.models import ExpiringPoints, LedgerPage, MemberView
from ecrm.loyalty.ports import LedgerRepository
from ecrm.loyalty.programme import Programme

MAX_PAGE = 100


class MemberQueries:
    def __init__(self, repo: LedgerRepository, clock: Clock, programme: Programme) -> None:
        self._repo = repo
        self._clock = clock
        self._programme = programme

    def member(self, member_id: str) -> MemberView:
        """Balance and tier as they are now: a lot past its expiry no longer counts, even in the
        moment before its timer runs, and the tier is the window's, even before a review."""
        member = self._repo.get_member(member_id)
        if member is None:
            raise NotFound("member")
        now = self._clock.now()
        months, tiers = self._programme.expiry_months, self._programme.tiers
        usable = usable_lots(member.lots, now, months)
        window = tiers.window_points(member.earned, now)
        tier = tiers.tier_for(window)
        above = tiers.above(tier)
        horizon = now + self._programme.expiring_soon
        soon = [
            ExpiringPoints(points=points, expires_at=expires_at(lot, months))
            for lot, points in usable
            if expires_at(lot, months) <= horizon
        ]
        return MemberView(
            member_id=member_id,
            balance=sum(points for _, points in usable),
            tier=tier,
            window_points=window,
            next_tier=above.name if above else None,
            points_to_next_tier=above.threshold - window if above else None,
            expiring_soon=soon,
        )

    def history(self, member_id: str, limit: int = 20, cursor: str | None = None) -> LedgerPage:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"must be 1-{MAX_PAGE}")
        items, next_cursor = self._repo.history(member_id, limit, cursor)
        return LedgerPage(items=items, next_cursor=next_cursor)
