"""What each loyalty function can do: one frozen bundle per function kind, built whole by compose.py.

`LoyaltyApi` (member queries, redemptions, adjustments), `LoyaltyAccrual` (the shop's events) and
`LoyaltyUpkeep` (timers and erasure) each hold exactly the ports their function needs, all of them
given at construction: a function cannot call what it was not built with (mypy says so, not a
runtime error), and nothing is filled in later.

The services themselves are built per call over the programme in force: `ProgrammeService` caches
the programme per container for a short while (programme_versions.py), so building with it per call is
what lets an admin's replacement reach warm containers without a redeploy. No boto3 here:
compose.py makes the adapters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ecrm.clock import Clock
from ecrm.contacts.ports import ContactRepository
from ecrm.events import ContactErased
from ecrm.loyalty.accrual import AccrualService
from ecrm.loyalty.deadlines import ExpiryWarning, LotExpiry, parse_timer
from ecrm.loyalty.effects import Effects
from ecrm.loyalty.erasure import ErasureService
from ecrm.loyalty.errors import MalformedEvent, first_field_error
from ecrm.loyalty.expiry import ExpiryService
from ecrm.loyalty.models import Outcome
from ecrm.loyalty.ports import LedgerRepository, MemberDirectory, PersonalDataStore
from ecrm.loyalty.programme_versions import ProgrammeService
from ecrm.loyalty.queries import MemberQueries
from ecrm.loyalty.redemption import RedemptionService
from ecrm.loyalty.shop import OrderPlaced, parse_shop_event
from ecrm.loyalty.tier_review import TierReviewService
from ecrm.mail import Mailer
from ecrm.timers import Timers


@dataclass(frozen=True)
class _Ledger:
    """What every loyalty function shares: the ledger, the programme in force, timers, the clock."""

    ledger: LedgerRepository
    programmes: ProgrammeService
    timers: Timers
    clock: Clock

    def effects(self) -> Effects:
        return Effects(self.timers, self.programmes.programme())


@dataclass(frozen=True)
class LoyaltyApi(_Ledger):
    """The role-protected member API: balance and history, redemptions, adjustments."""

    def queries(self) -> MemberQueries:
        return MemberQueries(self.ledger, self.clock, self.programmes.programme())

    def redemption(self) -> RedemptionService:
        return RedemptionService(self.ledger, self.effects(), self.clock, self.programmes.programme())


@dataclass(frozen=True)
class LoyaltyAccrual(_Ledger):
    """The shop's OrderPlaced.v1 / OrderRefunded.v1 into the ledger; members are contacts."""

    members: MemberDirectory

    def accrual(self) -> AccrualService:
        return AccrualService(self.ledger, self.members, self.effects(), self.clock, self.programmes.programme())

    def on_shop_event(self, detail_type: Any, detail: Any) -> Outcome:
        """An OrderPlaced.v1 or OrderRefunded.v1 `detail`; MalformedEvent (naming the field) if it
        is neither or does not validate."""
        if not isinstance(detail, Mapping):
            raise MalformedEvent("detail", "must be a JSON object")
        event = parse_shop_event(str(detail_type), detail)
        if isinstance(event, OrderPlaced):
            return self.accrual().on_order_placed(event)
        return self.accrual().on_order_refunded(event)


@dataclass(frozen=True)
class LoyaltyUpkeep(_Ledger):
    """Timers (lot expiry, the expiry warning mail, tier reviews) and ContactErased.v1."""

    contacts: ContactRepository
    mailer: Mailer
    erasure_port: PersonalDataStore

    def expiry(self) -> ExpiryService:
        return ExpiryService(
            self.ledger, self.effects(), self.clock, self.programmes.programme(), self.contacts, self.mailer
        )

    def tier_review(self) -> TierReviewService:
        return TierReviewService(self.ledger, self.effects(), self.clock, self.programmes.programme())

    def erasure(self) -> ErasureService:
        return ErasureService(self.erasure_port, self.clock)

    def on_upkeep(self, body: Mapping[str, Any]) -> Outcome:
        """A timer's payload (lot expiry, expiry warning, tier review), or ContactErased.v1 from the bus."""
        if "detail-type" in body:
            return self._on_contact_event(body)
        timer = parse_timer(body)
        if isinstance(timer, LotExpiry):
            return self.expiry().on_lot_expiry(timer)
        if isinstance(timer, ExpiryWarning):
            return self.expiry().on_expiry_warning(timer)
        return self.tier_review().review(timer)

    def _on_contact_event(self, envelope: Mapping[str, Any]) -> Outcome:
        if envelope.get("detail-type") != ContactErased.detail_type:
            raise MalformedEvent("detail-type", f"only {ContactErased.detail_type} is handled here")
        try:
            event = ContactErased.model_validate(envelope.get("detail"))
        except ValidationError as exc:
            raise first_field_error(exc) from None
        return self.erasure().on_contact_erased(event)
