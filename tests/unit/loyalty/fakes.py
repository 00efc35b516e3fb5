"""In-memory loyalty ports with the semantics the DynamoDB adapter must have: a LedgerWrite is
checked as a whole against the stored state and then applied as a whole, or not at all.

Switches for the tests: `throttle` (write numbers that fail before anything is written),
`lose_ack` (write numbers that are applied, then fail as if the response was lost), and
`before_apply` (callables run one per apply, before its conditions are checked: a deterministic
way to let another writer in between a service's read and its write).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ecrm.loyalty.models import LedgerEntry
from ecrm.loyalty.ports import AlreadyApplied, LedgerWrite, MemberChange, MemberChanged, MemberGuard, OrderChanged
from ecrm.loyalty.state import MemberState, OrderRecord
from ecrm.timers import Timer

from tests.unit.fakes import RecordingPublisher


class Throttled(Exception):
    """A transient failure (ProvisionedThroughputExceeded, a lost response): the caller retries."""


@dataclass
class MemoryLedger:
    members: dict[str, MemberState] = field(default_factory=dict)
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    entries: dict[tuple[str, str], LedgerEntry] = field(default_factory=dict)
    reads: int = 0
    writes: int = 0
    throttle: set[int] = field(default_factory=set)
    lose_ack: set[int] = field(default_factory=set)
    before_apply: list[Callable[[], None]] = field(default_factory=list)
    # Where each write's events go when it commits (the outbox, then the bus).
    events: RecordingPublisher = field(default_factory=RecordingPublisher)

    def get_member(self, member_id: str) -> MemberState | None:
        self.reads += 1
        return self.members.get(member_id)

    def get_order(self, order_id: str) -> OrderRecord | None:
        self.reads += 1
        return self.orders.get(order_id)

    def get_entry(self, member_id: str, entry_id: str) -> LedgerEntry | None:
        self.reads += 1
        return self.entries.get((member_id, entry_id))

    def history(self, member_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        self.reads += 1
        mine = sorted(
            (e for (m, _), e in self.entries.items() if m == member_id), key=lambda e: (e.at, e.entry_id), reverse=True
        )
        start = int(cursor or 0)
        more = start + limit < len(mine)
        return mine[start : start + limit], str(start + limit) if more else None

    def apply(self, write: LedgerWrite) -> None:
        if self.before_apply:
            self.before_apply.pop(0)()
        self.writes += 1
        number = self.writes
        if number in self.throttle:
            raise Throttled(f"write {number} throttled")
        self._check(write)
        self._commit(write)
        if number in self.lose_ack:
            raise Throttled(f"write {number} applied, response lost")

    # --- conditions, all checked before anything is written -----------------------------------

    def _check(self, write: LedgerWrite) -> None:
        for entry in write.entries:
            if (entry.member_id, entry.entry_id) in self.entries:
                raise AlreadyApplied(entry.entry_id)
        if write.order is not None:
            stored = self.orders.get(write.order.record.order_id)
            if (stored.version if stored else 0) != write.order.expected_version:
                raise OrderChanged(stored)
            assert write.order.record.version == write.order.expected_version + 1
        if write.member is not None and write.member_id is not None:
            member = self.members.get(write.member_id) or MemberState(member_id=write.member_id)
            if not _holds(write.member.guard, member):
                raise MemberChanged(write.member_id)

    def _commit(self, write: LedgerWrite) -> None:
        self.events.publish(write.events)
        for entry in write.entries:
            self.entries[(entry.member_id, entry.entry_id)] = entry
        if write.order is not None:
            self.orders[write.order.record.order_id] = write.order.record
        if write.member is not None and write.member_id is not None:
            member = self.members.get(write.member_id) or MemberState(member_id=write.member_id)
            self.members[write.member_id] = _updated(member, write.member)

    # --- what the tests check ------------------------------------------------------------------

    def balance(self, member_id: str) -> int:
        member = self.members.get(member_id)
        return member.balance if member else 0

    def check_invariants(self) -> None:
        for member in self.members.values():
            assert member.balance == sum(member.lots.values()), member
            assert all(points >= 0 for points in member.lots.values()), member
            posted = sum(e.points for (m, _), e in self.entries.items() if m == member.member_id)
            assert posted == member.balance, (posted, member)


def _holds(guard: MemberGuard, member: MemberState) -> bool:
    checks = [
        guard.tier_version is None or member.tier_version == guard.tier_version,
        member.balance >= guard.balance_at_least,
        all(member.lots.get(lot, 0) >= points for lot, points in guard.lots_at_least.items()),
        all(member.lots.get(lot, 0) == points for lot, points in guard.lots_equal.items()),
        guard.bucket_below is None or member.earned.get(guard.bucket_below[0], 0) < guard.bucket_below[1],
    ]
    return all(checks)


def _added(numbers: dict[str, int], change: dict[str, int], removed: tuple[str, ...]) -> dict[str, int]:
    out = dict(numbers)
    for key, delta in change.items():
        out[key] = out.get(key, 0) + delta
    for key in removed:
        out.pop(key, None)
    return out


def _updated(member: MemberState, change: MemberChange) -> MemberState:
    update: dict[str, object] = {
        "balance": member.balance + change.balance,
        "lots": _added(member.lots, dict(change.lots), change.remove_lots),
        "earned": _added(member.earned, dict(change.earned), change.remove_buckets),
    }
    if change.tier is not None:
        update["tier"] = change.tier
        update["tier_version"] = member.tier_version + 1
    return member.model_copy(update=update)


@dataclass
class MemoryTimers:
    timers: dict[str, Timer] = field(default_factory=dict)
    sets: int = 0

    def set(self, timer: Timer) -> None:
        self.sets += 1
        self.timers[timer.name] = timer

    def cancel(self, name: str) -> None:
        self.timers.pop(name, None)

    def due(self, now: datetime) -> list[Timer]:
        """Pop the timers due at `now`, soonest first (as Scheduler would fire them)."""
        fired = sorted((t for t in self.timers.values() if t.at <= now), key=lambda t: t.at)
        for timer in fired:
            del self.timers[timer.name]
        return fired
