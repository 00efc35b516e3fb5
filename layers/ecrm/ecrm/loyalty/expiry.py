"""Expiry, driven by one-time timers per lot (no sweeps): the warning mail, then the expiry.

Both re-read the member item and act on what is left of the lot then: points redeemed or reversed
since the timer was set are not expired again, and a timer for a lot with nothing left (or one
that fires twice) does nothing. The expiry removes exactly the remainder it read, guarded on the
lot still holding it, so a redemption racing the expiry makes the expiry re-read, never both.
"""

from __future__ import annotations

from functools import partial

from ecrm.clock import Clock
from ecrm.contacts.ports import ContactRepository
from ecrm.errors import Conflict
from ecrm.loyalty import expiry_mail
from ecrm.loyalty.accrual import ATTEMPTS
from ecrm.loyalty.deadlines import ExpiryWarning, LotExpiry
from ecrm.loyalty.effects import Effects, Plan
from ecrm.loyalty.ledger import expires_at
from ecrm.loyalty.models import LedgerEntry, Outcome, entry_id
from ecrm.loyalty.ports import AlreadyApplied, LedgerRepository, LedgerWrite, MemberChange, MemberChanged, MemberGuard
from ecrm.loyalty.programme import Programme
from ecrm.mail import Mailer, send_once


def warning_key(lot: str) -> str:
    return f"loyalty-expiry-warning#{lot}"


class ExpiryService:
    def __init__(
        self,
        repo: LedgerRepository,
        effects: Effects,
        clock: Clock,
        programme: Programme,
        contacts: ContactRepository,
        mailer: Mailer,
        attempts: int = ATTEMPTS,
    ) -> None:
        self._repo = repo
        self._effects = effects
        self._clock = clock
        self._programme = programme
        self._contacts = contacts
        self._mailer = mailer
        self._attempts = attempts

    def on_lot_expiry(self, timer: LotExpiry) -> Outcome:
        due = expires_at(timer.lot, self._programme.expiry_months)
        for _ in range(self._attempts):
            member = self._repo.get_member(timer.member_id)
            left = member.lots.get(timer.lot, 0) if member else 0
            now = self._clock.now()
            if left <= 0:
                return Outcome.STALE  # consumed, reversed or expired already
            if now < due:
                self._effects.arm_lot(timer.member_id, timer.lot)  # fired early: set it again
                return Outcome.STALE
            entry = LedgerEntry(
                member_id=timer.member_id, kind="expire", key=timer.lot, points=-left, at=now, lots={timer.lot: -left}
            )
            update = MemberChange(
                balance=-left, remove_lots=(timer.lot,), guard=MemberGuard(lots_equal={timer.lot: left})
            )
            plan = Plan(timer.member_id, LedgerWrite(timer.member_id, (entry,), update))
            try:
                self._repo.apply(self._effects.write(plan))
            except AlreadyApplied:
                return self._replay(timer)
            except MemberChanged:
                continue  # a redemption or reversal moved the lot: expire what is left now
            self._effects.after(plan)
            return Outcome.APPLIED
        raise Conflict(f"lot {timer.lot}: the member kept changing")

    def _replay(self, timer: LotExpiry) -> Outcome:
        entry = self._repo.get_entry(timer.member_id, entry_id("expire", timer.lot))
        if entry is not None:
            self._effects.replay(entry, self._clock.now())
        return Outcome.DUPLICATE

    def on_expiry_warning(self, timer: ExpiryWarning) -> Outcome:
        """Mail the member once per lot, if points of it are still there to lose."""
        member = self._repo.get_member(timer.member_id)
        left = member.lots.get(timer.lot, 0) if member else 0
        now = self._clock.now()
        due = expires_at(timer.lot, self._programme.expiry_months)
        contact = self._contacts.get(timer.member_id) if left > 0 and now < due else None
        if contact is None:
            return Outcome.STALE  # nothing left to lose, too late, or the contact was erased
        mail = partial(expiry_mail.render, contact, left, due)
        sent = send_once(self._contacts, self._mailer, self._clock, timer.member_id, warning_key(timer.lot), mail)
        return {"sent": Outcome.APPLIED, "skipped": Outcome.DUPLICATE, "failed": Outcome.FAILED}[sent]
