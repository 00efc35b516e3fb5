"""A contact's erasure (ContactErased.v1) reaches the ledger: the member's points stay, as ids and
numbers, and the free text that may describe the person goes.

What stays: the member item (balance, lots, tier: numbers under a random contact id), every entry's
kind, points, lots, dates, order and refund ids, rule version and the staff user id that made an
adjustment, order records (ids and amounts). What goes: an adjustment's `reason` and a redemption's
`reference`. The contact itself (address, name) lives in the contacts table and is gone already;
expiry warnings find no contact and send nothing.
"""

from __future__ import annotations

from ecrm.clock import Clock
from ecrm.events import ContactErased
from ecrm.loyalty.models import Outcome
from ecrm.loyalty.ports import PersonalDataStore


class ErasureService:
    def __init__(self, ledger: PersonalDataStore, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock

    def on_contact_erased(self, event: ContactErased) -> Outcome:
        self._ledger.erase_personal_data(event.contact_id, self._clock.now())
        return Outcome.APPLIED  # repeatable: a second erasure finds nothing left to strip
