"""What goes with a ledger write: its events, in the write itself (the transactional outbox,
decision 52), and its timers, after it.

Timers come after the transaction, so a crash in between leaves the write without them. The
message that caused the write is then redelivered, finds its entry (AlreadyApplied) and sets
them again from the stored entry: timers are set by name (setting twice moves, never duplicates).
Events need no replay: they committed with the entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ecrm.loyalty.deadlines import lot_timers, tier_review_timer
from ecrm.loyalty.events import LoyaltyEvent, events_for
from ecrm.loyalty.models import LedgerEntry
from ecrm.loyalty.ports import LedgerWrite
from ecrm.loyalty.programme import Programme
from ecrm.timers import Timers


@dataclass(frozen=True)
class Plan:
    """A write, the events it announces, and the timers that must follow it once it committed."""

    member_id: str
    write: LedgerWrite
    new_lots: tuple[str, ...] = ()  # lots that got their first points: their timers are due
    review_at: datetime | None = None  # when to look at the member's tier again
    events: Sequence[LoyaltyEvent] = field(default_factory=tuple)  # beyond those of the entries


class Effects:
    def __init__(self, timers: Timers, programme: Programme) -> None:
        self._timers = timers
        self._programme = programme
        self.ranks = [t.name for t in programme.tiers.tiers]

    def write(self, plan: Plan) -> LedgerWrite:
        """The plan's write carrying the events of its entries and the plan's own."""
        events = [event for entry in plan.write.entries for event in events_for(entry, self.ranks)]
        return dataclasses.replace(plan.write, events=(*events, *plan.events))

    def after(self, plan: Plan) -> None:
        for lot in plan.new_lots:
            self.arm_lot(plan.member_id, lot)
        if plan.review_at is not None:
            self._timers.set(tier_review_timer(plan.member_id, plan.review_at))

    def arm_lot(self, member_id: str, lot: str) -> None:
        for timer in lot_timers(member_id, lot, self._programme):
            self._timers.set(timer)

    def review_tier(self, member_id: str, at: datetime) -> None:
        self._timers.set(tier_review_timer(member_id, at))

    def replay(self, entry: LedgerEntry, now: datetime) -> None:
        """Set the timers of a committed entry again (its message came again)."""
        lots = tuple(lot for lot, points in entry.lots.items() if points > 0)
        review = now + self._programme.tier_review_delay if entry.tier_change or entry.kind == "reverse" else None
        write = LedgerWrite(member_id=entry.member_id, entries=(entry,))
        self.after(Plan(entry.member_id, write, new_lots=lots, review_at=review))
