"""Redemptions and admin adjustments: entries the API asks for, once per Idempotency-Key.

A redemption reads the member item, takes its points from the usable lots oldest first, and
writes with a guard that every lot it takes from still holds at least what it takes (and the
balance at least the total). Two concurrent redemptions can both read the same balance, but the
second write finds the lots already lowered, fails its guard and re-reads: never an overdraw.
The Idempotency-Key is the entry's business key, so a repeated request finds the first one's
entry and gets its answer; the same key with a different request is refused (422).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ecrm.clock import Clock
from ecrm.errors import Conflict, InvalidInput, NotFound
from ecrm.loyalty.accrual import ATTEMPTS
from ecrm.loyalty.effects import Effects, Plan
from ecrm.loyalty.errors import InsufficientPoints
from ecrm.loyalty.ledger import expires_at, lot_for, take_oldest
from ecrm.loyalty.models import (
    AdjustmentRequest,
    EntryKind,
    EntryResult,
    IdempotencyKey,
    LedgerEntry,
    RedemptionRequest,
    entry_id,
)
from ecrm.loyalty.ports import AlreadyApplied, LedgerRepository, LedgerWrite, MemberChange, MemberChanged, MemberGuard
from ecrm.loyalty.programme import Programme
from ecrm.loyalty.state import MemberState
from ecrm.model import adapter

_KEY: TypeAdapter[str] = adapter(IdempotencyKey)


def idempotency_key(value: str | None) -> str:
    try:
        return _KEY.validate_python(value or "")
    except ValidationError:
        raise InvalidInput("Idempotency-Key", "send a header of 8-100 characters [A-Za-z0-9_.:-]") from None


class RedemptionService:
    def __init__(
        self, repo: LedgerRepository, effects: Effects, clock: Clock, programme: Programme, attempts: int = ATTEMPTS
    ) -> None:
        self._repo = repo
        self._effects = effects
        self._clock = clock
        self._programme = programme
        self._attempts = attempts

    def redeem(self, member_id: str, request: RedemptionRequest, key: str | None, actor: str | None) -> EntryResult:
        detail = {"reference": request.reference, "actor": actor}
        return self._post(member_id, "redeem", idempotency_key(key), -request.points, detail)

    def adjust(self, member_id: str, request: AdjustmentRequest, key: str | None, actor: str) -> EntryResult:
        """An admin's correction, with its reason and author kept on the entry (the audit trail).
        A credit is a new lot of this month; a debit is taken like a redemption."""
        detail = {"reason": request.reason, "actor": actor}
        return self._post(member_id, "adjust", idempotency_key(key), request.points, detail)

    def _post(self, member_id: str, kind: EntryKind, key: str, points: int, detail: dict[str, Any]) -> EntryResult:
        for _ in range(self._attempts):
            member = self._repo.get_member(member_id)
            if member is None:
                raise NotFound("member")
            try:
                plan = self._plan(member, kind, key, points, detail, self._clock.now())
            except InsufficientPoints:
                replayed = self._replayed(member_id, kind, key, points, detail)
                if replayed is None:
                    raise
                return replayed
            try:
                self._repo.apply(self._effects.write(plan))
            except AlreadyApplied:
                replayed = self._replayed(member_id, kind, key, points, detail)
                if replayed is None:  # the adapter reads entries strongly consistent: cannot happen
                    raise Conflict(f"{kind} {key} exists but could not be read") from None
                return replayed
            except MemberChanged:
                continue  # another redemption got there first: re-read
            self._effects.after(plan)
            return EntryResult(entry=plan.write.entries[0], replayed=False)
        raise Conflict("the member's points kept changing; try again")

    def _plan(
        self, member: MemberState, kind: EntryKind, key: str, points: int, detail: dict[str, Any], now: datetime
    ) -> Plan:
        expiry = self._programme.expiry_months
        if points < 0:
            lots = {lot: -taken for lot, taken in take_oldest(member.lots, -points, now, expiry).items()}
            guard = MemberGuard(balance_at_least=-points, lots_at_least={lot: -p for lot, p in lots.items()})
            fresh: tuple[str, ...] = ()
            until = None
        else:
            lot = lot_for(now)
            lots, guard, until = {lot: points}, MemberGuard(), expires_at(lot, expiry)
            fresh = (lot,) if member.lots.get(lot, 0) <= 0 else ()
        entry = LedgerEntry(
            member_id=member.member_id, kind=kind, key=key, points=points, at=now, lots=lots, expires_at=until, **detail
        )
        update = MemberChange(balance=points, lots=lots, guard=guard)
        return Plan(member.member_id, LedgerWrite(member.member_id, (entry,), update), new_lots=fresh)

    def _replayed(
        self, member_id: str, kind: EntryKind, key: str, points: int, detail: dict[str, Any]
    ) -> EntryResult | None:
        entry = self._repo.get_entry(member_id, entry_id(kind, key))
        if entry is None:
            return None
        same = entry.points == points and all(getattr(entry, k) == v for k, v in detail.items() if k != "actor")
        if not same:
            raise InvalidInput("Idempotency-Key", "was used for a different request", status=422)
        self._effects.replay(entry, self._clock.now())
        return EntryResult(entry=entry, replayed=True)
