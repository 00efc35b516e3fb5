"""Accrual: the shop's OrderPlaced and OrderRefunded, each applied exactly once, in any order.

An order costs one read (the member item: tier window and lots) and one write. A refund costs
one read (the order record: what the order earned and what was refunded) and one write; it does
not read the member, it takes the points from the order's lot under a guard, and only when that
guard fails (the points were spent) reads the member to take them from elsewhere. A refund that
arrives before its order is parked on the order record, and the order's write applies it.
"""

from __future__ import annotations

from datetime import datetime

from ecrm.clock import Clock
from ecrm.errors import Conflict
from ecrm.loyalty import months
from ecrm.loyalty.effects import Effects, Plan
from ecrm.loyalty.errors import MalformedEvent
from ecrm.loyalty.ledger import empty_expired_lots, expires_at, lot_for, reversal_takes, reverse
from ecrm.loyalty.models import LedgerEntry, Outcome, TierChange, entry_id
from ecrm.loyalty.ports import (
    AlreadyApplied,
    LedgerRepository,
    LedgerWrite,
    MemberChange,
    MemberChanged,
    MemberDirectory,
    MemberGuard,
    OrderChange,
    OrderChanged,
)
from ecrm.loyalty.programme import Programme
from ecrm.loyalty.rules import points_for
from ecrm.loyalty.shop import OrderPlaced, OrderRefunded
from ecrm.loyalty.state import MAX_PARKED, Earned, MemberState, OrderRecord, Refunds
from ecrm.loyalty.tiers import TierDecision, decide

ATTEMPTS = 5  # guard failures are concurrent changes of one member: rare, and each retry re-reads


class AccrualService:
    def __init__(
        self,
        repo: LedgerRepository,
        members: MemberDirectory,
        effects: Effects,
        clock: Clock,
        programme: Programme,
        attempts: int = ATTEMPTS,
    ) -> None:
        self._repo = repo
        self._members = members
        self._effects = effects
        self._clock = clock
        self._programme = programme
        self._attempts = attempts

    # --- OrderPlaced ------------------------------------------------------------------------

    def on_order_placed(self, order: OrderPlaced) -> Outcome:
        member_id = self._members.member_for(order.contact_id, order.email)
        member: MemberState | None = None
        record: OrderRecord | None = None  # the stored record, once a write ran into one
        for _ in range(self._attempts):
            member = member or self._repo.get_member(member_id) or MemberState(member_id=member_id)
            plan = self._earn(member, order, record)
            try:
                self._repo.apply(self._effects.write(plan))
            except AlreadyApplied:
                return self._replay(member_id, entry_id("earn", order.order_id))
            except OrderChanged as changed:
                record = changed.current or self._repo.get_order(order.order_id)
                if record is not None and record.earned is not None:  # earned meanwhile, maybe by another member id
                    return self._replay(record.earned.member_id, entry_id("earn", order.order_id))
                continue  # refunds were parked for it: apply them with the earn
            except MemberChanged:
                member = None
                continue
            self._effects.after(plan)
            return Outcome.APPLIED
        raise Conflict(f"order {order.order_id}: the member kept changing")

    def _earn(self, member: MemberState, order: OrderPlaced, record: OrderRecord | None) -> Plan:
        now = self._clock.now()
        tiers = self._programme.tiers
        earned, entry = self._priced(member, order, now)
        refunds, reversals, rejected = _unpark(earned, record)
        net = earned.points + sum(r.points for r in reversals)
        decision = decide(tiers, member.earned, member.tier, now, net)
        if decision.change is not None:
            change = TierChange(
                from_tier=member.tier or tiers.base, to_tier=decision.change, version=member.tier_version + 1
            )
            entry = entry.model_copy(update={"tier_change": change})
        version = record.version if record else 0
        stored = OrderRecord(
            order_id=order.order_id, version=version + 1, earned=earned, refunds=refunds, parked=rejected
        )
        write = LedgerWrite(
            member.member_id,
            (entry, *reversals),
            self._member_update(member, decision, net, now),
            OrderChange(stored, expected_version=version),
        )
        buckets = {**member.earned, decision.month: member.earned.get(decision.month, 0) + net}
        review = tiers.review_at(buckets, decision.after, now) if decision.change else None
        fresh = (earned.lot,) if net > 0 and member.lots.get(earned.lot, 0) <= 0 else ()
        return Plan(member.member_id, write, new_lots=fresh, review_at=review)

    def _priced(self, member: MemberState, order: OrderPlaced, now: datetime) -> tuple[Earned, LedgerEntry]:
        """The order priced by the rules in effect when it was placed, at the member's tier now."""
        lot = lot_for(now)
        tier = self._programme.tiers.tier_at(member.earned, now)
        earning = points_for(order, self._programme.rules.at(order.placed_at), tier)
        earned = Earned(
            member_id=member.member_id,
            points=earning.points,
            total_minor=order.total.amount_minor,
            currency=order.total.currency,
            lines=earning.lines,
            bonus_weight=earning.bonus_weight,
            lot=lot,
            rule_version=earning.rule_version,
            at=now,
        )
        entry = LedgerEntry(
            member_id=member.member_id,
            kind="earn",
            key=order.order_id,
            points=earning.points,
            at=now,
            lots={lot: earning.points},
            expires_at=expires_at(lot, self._programme.expiry_months),
            rule_version=earning.rule_version,
            tier=tier,
            order_id=order.order_id,
        )
        return earned, entry

    def _member_update(self, member: MemberState, decision: TierDecision, net: int, now: datetime) -> MemberChange:
        """ADD the net points to this month's lot and bucket; SET the tier if it changed. Guarded
        so that the tier decision still holds when the write lands (see tiers.TierDecision)."""
        dropped = empty_expired_lots(member.lots, now, self._programme.expiry_months)
        limit = decision.bucket_limit
        guard = MemberGuard(
            tier_version=member.tier_version,
            lots_equal=dict.fromkeys(dropped, 0),
            bucket_below=(decision.month, limit) if limit is not None else None,
        )
        return MemberChange(
            balance=net,
            lots={decision.month: net} if net else {},
            earned={decision.month: net} if net else {},
            remove_lots=dropped,
            remove_buckets=self._programme.tiers.stale_buckets(member.earned, now),
            tier=decision.change,
            guard=guard,
        )

    # --- OrderRefunded ----------------------------------------------------------------------

    def on_order_refunded(self, refund: OrderRefunded) -> Outcome:
        record = self._repo.get_order(refund.order_id)
        member: MemberState | None = None  # read only when the order's lot could not pay
        for _ in range(self._attempts):
            try:
                return self._refund(record, member, refund)
            except OrderChanged as changed:
                record = changed.current or self._repo.get_order(refund.order_id)
            except MemberChanged:
                member_id = record.earned.member_id if record and record.earned else ""
                member = self._repo.get_member(member_id) or MemberState(member_id=member_id)
        raise Conflict(f"refund {refund.refund_id}: the order kept changing")

    def _refund(self, record: OrderRecord | None, member: MemberState | None, refund: OrderRefunded) -> Outcome:
        if record is None or record.earned is None:
            return self._park(record, refund)
        if refund.refund_id in record.refunds.applied:
            return self._replay(record.earned.member_id, entry_id("reverse", refund.refund_id))
        if refund.currency is not None and refund.currency != record.earned.currency:
            raise MalformedEvent("currency", f"the order was placed in {record.earned.currency}")
        plan = self._reversal(record, record.earned, member, refund)
        try:
            self._repo.apply(self._effects.write(plan))
        except AlreadyApplied:  # the refund id was used for another order of this member
            return self._replay(record.earned.member_id, entry_id("reverse", refund.refund_id))
        self._effects.after(plan)
        return Outcome.APPLIED

    def _reversal(self, record: OrderRecord, earned: Earned, member: MemberState | None, refund: OrderRefunded) -> Plan:
        now = self._clock.now()
        expiry = self._programme.expiry_months
        delta, refunds = reverse(earned, record.refunds, refund)
        if member is None:  # the order's own lot, if it still holds the points (guarded)
            takes = {earned.lot: delta} if delta and expires_at(earned.lot, expiry) > now else {}
        else:
            takes = reversal_takes(member.lots, earned.lot, delta, now, expiry)
        collected = sum(takes.values())
        refunds = refunds.model_copy(update={"applied": {**refunds.applied, refund.refund_id: delta}})
        in_window = months.index(earned.lot) in self._programme.tiers.window(now)
        bucket = {earned.lot: -delta} if delta and in_window else {}
        update = MemberChange(
            balance=-collected,
            lots={lot: -points for lot, points in takes.items()},
            earned=bucket,
            guard=MemberGuard(balance_at_least=collected, lots_at_least=takes),
        )
        stored = record.model_copy(update={"version": record.version + 1, "refunds": refunds})
        entry = _reversal_entry(earned, refund, delta, takes, now)
        write = LedgerWrite(
            earned.member_id,
            (entry,),
            update if (collected or bucket) else None,
            OrderChange(stored, expected_version=record.version),
        )
        review = now + self._programme.tier_review_delay if bucket else None  # the window shrank: maybe a downgrade
        return Plan(earned.member_id, write, review_at=review)

    def _park(self, record: OrderRecord | None, refund: OrderRefunded) -> Outcome:
        if record is not None and record.knows_refund(refund.refund_id):
            return Outcome.DUPLICATE
        parked = [*(record.parked if record else []), refund]
        if len(parked) > MAX_PARKED:
            raise MalformedEvent("order_id", f"more than {MAX_PARKED} refunds wait for this order")
        version = record.version if record else 0
        stored = OrderRecord(order_id=refund.order_id, version=version + 1, parked=parked)
        self._repo.apply(LedgerWrite(member_id=None, order=OrderChange(stored, expected_version=version)))
        return Outcome.PARKED

    def _replay(self, member_id: str, key: str) -> Outcome:
        entry = self._repo.get_entry(member_id, key)
        if entry is not None:
            self._effects.replay(entry, self._clock.now())
        return Outcome.DUPLICATE


def _unpark(earned: Earned, record: OrderRecord | None) -> tuple[Refunds, list[LedgerEntry], list[OrderRefunded]]:
    """Apply the refunds parked for this order, in the order they arrived. The lot the earn fills
    is theirs, so each reversal is collected in full. A refund in another currency than the order
    stays parked, applied never: its own redelivery is then rejected as malformed (dead letter)."""
    refunds, entries, rejected = Refunds(), [], []
    for refund in record.parked if record else []:
        if refund.currency is not None and refund.currency != earned.currency:
            rejected.append(refund)
            continue
        delta, refunds = reverse(earned, refunds, refund)
        refunds = refunds.model_copy(update={"applied": {**refunds.applied, refund.refund_id: delta}})
        entries.append(_reversal_entry(earned, refund, delta, {earned.lot: delta} if delta else {}, earned.at))
    return refunds, entries, rejected


def _reversal_entry(
    earned: Earned, refund: OrderRefunded, delta: int, takes: dict[str, int], at: datetime
) -> LedgerEntry:
    collected = sum(takes.values())
    return LedgerEntry(
        member_id=earned.member_id,
        kind="reverse",
        key=refund.refund_id,
        points=-collected,
        at=at,
        lots={lot: -points for lot, points in takes.items()},
        order_id=refund.order_id,
        refund_id=refund.refund_id,
        uncollected=delta - collected,
    )
