"""unit: expiry by per-lot timers: the warning mail, then the expiry of what is left; stale timers do nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.contacts.models import Contact
from ecrm.loyalty.deadlines import ExpiryWarning, LotExpiry, parse_timer
from ecrm.loyalty.errors import MalformedEvent
from ecrm.loyalty.events import PointsExpired
from ecrm.loyalty.models import Outcome, RedemptionRequest

from tests.unit.loyalty.world import MEMBER, NOW, World, order, refund

EXPIRY = datetime(2027, 12, 1, tzinfo=UTC)  # lot 2026-11 with 12 months
LOT = LotExpiry(member_id=MEMBER, lot="2026-11")


@pytest.fixture
def world() -> World:
    w = World()
    w.contacts.contacts[MEMBER] = Contact(
        id=MEMBER, email="ann@example.com", first_name="Ann", created_at=NOW, updated_at=NOW
    )
    w.accrual.on_order_placed(order("o1", 10_000))  # 100 points, lot 2026-11
    return w


def test_the_lot_expires_only_what_redemptions_left(world):
    world.redemption.redeem(MEMBER, RedemptionRequest(points=30), "idem-key-0001", actor=None)
    outcomes = world.travel(EXPIRY + timedelta(minutes=1))
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED]  # the warning, then the expiry
    entry = world.ledger.entries[(MEMBER, "expire#2026-11")]
    assert (entry.points, entry.at) == (-70, EXPIRY)
    assert world.ledger.members[MEMBER].lots == {} and world.ledger.balance(MEMBER) == 0
    expired = world.loyalty_events()[-1]
    assert isinstance(expired, PointsExpired) and (expired.points, expired.lot) == (70, "2026-11")
    world.ledger.check_invariants()


def test_the_warning_mail_goes_once_before_expiry(world):
    world.travel(EXPIRY - timedelta(days=30))
    (mail,) = world.outbox.sent
    assert mail.to == "ann@example.com" and "100 points expire on 01 December 2027" in mail.subject
    assert "Hello Ann" in mail.text
    again = ExpiryWarning(member_id=MEMBER, lot="2026-11")
    assert world.expiry.on_expiry_warning(again) == Outcome.DUPLICATE
    assert len(world.outbox.sent) == 1


def test_no_warning_when_nothing_is_left_to_lose_or_the_contact_is_gone(world):
    world.redemption.redeem(MEMBER, RedemptionRequest(points=100), "idem-key-0001", actor=None)
    world.clock.at = EXPIRY - timedelta(days=30)
    assert world.expiry.on_expiry_warning(ExpiryWarning(member_id=MEMBER, lot="2026-11")) == Outcome.STALE
    other = World()
    other.accrual.on_order_placed(order("o1", 10_000))  # no contact stored for MEMBER there
    other.clock.at = world.clock.at
    assert other.expiry.on_expiry_warning(ExpiryWarning(member_id=MEMBER, lot="2026-11")) == Outcome.STALE
    assert not world.outbox.sent and not other.outbox.sent


def test_a_consumed_lot_expires_nothing_and_writes_nothing(world):
    world.redemption.redeem(MEMBER, RedemptionRequest(points=100), "idem-key-0001", actor=None)
    world.clock.at = EXPIRY
    writes = world.ledger.writes
    assert world.expiry.on_lot_expiry(LOT) == Outcome.STALE
    assert world.ledger.writes == writes and (MEMBER, "expire#2026-11") not in world.ledger.entries


def test_a_timer_firing_twice_expires_once(world):
    world.clock.at = EXPIRY
    assert world.expiry.on_lot_expiry(LOT) == Outcome.APPLIED
    assert world.expiry.on_lot_expiry(LOT) == Outcome.STALE
    assert world.ledger.balance(MEMBER) == 0 and len([e for e in world.types() if e == "PointsExpired.v1"]) == 1


def test_an_early_timer_is_set_again_and_expires_nothing(world):
    world.timers.timers.clear()
    world.clock.at = EXPIRY - timedelta(days=1)
    assert world.expiry.on_lot_expiry(LOT) == Outcome.STALE
    assert world.ledger.balance(MEMBER) == 100
    assert world.timers.timers[f"loyalty-expire-{MEMBER}-2026-11"].at == EXPIRY


def test_a_redemption_racing_the_expiry_is_never_counted_twice(world):
    def redeem_a_moment_earlier() -> None:  # it read the lot before expiry and writes after the expiry read
        world.clock.at = EXPIRY - timedelta(seconds=1)
        world.redemption.redeem(MEMBER, RedemptionRequest(points=40), "idem-key-0001", actor=None)
        world.clock.at = EXPIRY

    world.clock.at = EXPIRY
    world.ledger.before_apply.append(redeem_a_moment_earlier)
    assert world.expiry.on_lot_expiry(LOT) == Outcome.APPLIED  # its guard failed once: it re-read
    assert world.ledger.entries[(MEMBER, "expire#2026-11")].points == -60
    assert world.ledger.balance(MEMBER) == 0
    world.ledger.check_invariants()


def test_a_refund_after_the_lot_expired_takes_nothing_more(world):
    world.clock.at = EXPIRY
    # the reversal lands between the expiry's read and write; the lot is past expiry, so it takes nothing
    world.ledger.before_apply.append(lambda: world.accrual.on_order_refunded(refund("o1", "r1", 5_000)))
    assert world.expiry.on_lot_expiry(LOT) == Outcome.APPLIED
    assert world.ledger.entries[(MEMBER, "expire#2026-11")].points == -100
    assert world.ledger.entries[(MEMBER, "reverse#r1")].uncollected == 50
    assert world.ledger.balance(MEMBER) == 0
    world.ledger.check_invariants()


def test_timer_payloads_are_validated():
    with pytest.raises(MalformedEvent) as caught:
        parse_timer({"kind": "loyalty.lot-expiry", "member_id": MEMBER, "lot": "Nov"})
    assert caught.value.field == "loyalty.lot-expiry.lot"
    with pytest.raises(MalformedEvent):
        parse_timer({"kind": "something-else"})
