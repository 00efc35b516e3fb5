"""A loyalty programme and all its services over in-memory ports, for the unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrm.clock import FixedClock
from ecrm.loyalty.accrual import AccrualService
from ecrm.loyalty.deadlines import ExpiryWarning, LotExpiry, TierReview, parse_timer
from ecrm.loyalty.effects import Effects
from ecrm.loyalty.events import LoyaltyEvent
from ecrm.loyalty.expiry import ExpiryService
from ecrm.loyalty.members import ContactMembers
from ecrm.loyalty.models import Outcome
from ecrm.loyalty.programme import Programme
from ecrm.loyalty.queries import MemberQueries
from ecrm.loyalty.redemption import RedemptionService
from ecrm.loyalty.rules import EarnRate, EarnRules, Promotion, RuleBook
from ecrm.loyalty.shop import OrderPlaced, OrderRefunded
from ecrm.loyalty.tier_review import TierReviewService
from ecrm.loyalty.tiers import Tier, TierPolicy

from tests.unit.fakes import MemoryContacts, Outbox, RecordingPublisher
from tests.unit.loyalty.fakes import MemoryLedger, MemoryTimers

MEMBER = "a" * 32
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

RULES_V1 = EarnRules(
    version="v1",
    effective_from=EPOCH,
    rates={"EUR": EarnRate(points=1, per_minor=100, min_order_minor=1000)},
    category_percent={"books": 200},
    sku_percent={"GIFTCARD": 0},
    tier_percent={"silver": 150, "gold": 200},
    max_points_per_order=5000,
)
RULES_V2 = RULES_V1.model_copy(
    update={
        "version": "v2",
        "effective_from": datetime(2026, 6, 1, tzinfo=UTC),
        "promotions": [
            Promotion(
                id="black-friday",
                starts_at=datetime(2026, 11, 27, tzinfo=UTC),
                ends_at=datetime(2026, 11, 30, tzinfo=UTC),
                multiplier_percent=300,
                categories=frozenset({"toys"}),
            ),
            Promotion(
                id="welcome-bonus",
                starts_at=datetime(2026, 11, 1, tzinfo=UTC),
                ends_at=datetime(2026, 12, 1, tzinfo=UTC),
                bonus_points=25,
                categories=frozenset({"books"}),
            ),
        ],
    }
)
TIERS = TierPolicy(
    tiers=[Tier(name="bronze", threshold=0), Tier(name="silver", threshold=500), Tier(name="gold", threshold=2000)],
    window_months=12,
)


def programme(**changes: Any) -> Programme:
    base = Programme(rules=RuleBook(versions=[RULES_V1, RULES_V2]), tiers=TIERS, expiry_months=12)
    return base.model_copy(update=changes)


def order(
    order_id: str,
    amount: int = 10_000,
    category: str = "garden",
    placed_at: datetime = NOW - timedelta(hours=1),
    **detail: Any,
) -> OrderPlaced:
    """An order of one line of `amount` minor units, by contact id unless `email` is given."""
    fields: dict[str, Any] = {
        "order_id": order_id,
        "total": {"amount_minor": amount, "currency": "EUR"},
        "lines": [{"sku": f"SKU-{category}", "category": category, "quantity": 1, "amount_minor": amount}],
        "placed_at": placed_at.isoformat(),
    }
    if "email" not in detail:
        fields["contact_id"] = MEMBER
    return OrderPlaced.model_validate({**fields, **detail})


def refund(order_id: str, refund_id: str, amount: int, **detail: Any) -> OrderRefunded:
    return OrderRefunded.model_validate(
        {"order_id": order_id, "refund_id": refund_id, "amount_minor": amount, **detail}
    )


@dataclass
class World:
    programme: Programme = field(default_factory=programme)
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    timers: MemoryTimers = field(default_factory=MemoryTimers)
    bus: RecordingPublisher = field(default_factory=RecordingPublisher)
    outbox: Outbox = field(default_factory=Outbox)
    contacts: MemoryContacts = field(init=False)

    def __post_init__(self) -> None:
        self.contacts = MemoryContacts(self.bus)
        self.ledger.events = self.bus
        self.effects = Effects(self.timers, self.programme)
        members = ContactMembers(self.contacts, self.clock)
        self.accrual = AccrualService(self.ledger, members, self.effects, self.clock, self.programme)
        self.redemption = RedemptionService(self.ledger, self.effects, self.clock, self.programme)
        self.expiry = ExpiryService(self.ledger, self.effects, self.clock, self.programme, self.contacts, self.outbox)
        self.review = TierReviewService(self.ledger, self.effects, self.clock, self.programme)
        self.queries = MemberQueries(self.ledger, self.clock, self.programme)

    def loyalty_events(self) -> list[LoyaltyEvent]:
        return [e for e in self.bus.events if isinstance(e, LoyaltyEvent)]

    def types(self) -> list[str]:
        return [e.detail_type for e in self.loyalty_events()]

    def fire(self, payload: dict[str, Any]) -> Outcome:
        timer = parse_timer(payload)
        if isinstance(timer, LotExpiry):
            return self.expiry.on_lot_expiry(timer)
        if isinstance(timer, ExpiryWarning):
            return self.expiry.on_expiry_warning(timer)
        assert isinstance(timer, TierReview)
        return self.review.review(timer)

    def run_timers(self) -> list[Outcome]:
        """Fire every timer due now, as Scheduler would, and what those set in turn."""
        outcomes: list[Outcome] = []
        while due := self.timers.due(self.clock.now()):
            outcomes.extend(self.fire(t.payload) for t in due)
        return outcomes

    def travel(self, to: datetime) -> list[Outcome]:
        """Move the clock to `to`, firing each timer at its own time on the way."""
        outcomes: list[Outcome] = []
        while pending := sorted((t for t in self.timers.timers.values() if t.at <= to), key=lambda t: t.at):
            self.clock.at = max(self.clock.at, pending[0].at)
            outcomes.extend(self.run_timers())
        self.clock.at = to
        return outcomes
