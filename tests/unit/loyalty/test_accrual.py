"""unit: accrual over the in-memory ledger: one write and at most one read per event, exactly
once per business key, refunds in any order, tiers announced once."""

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.loyalty.errors import MalformedEvent
from ecrm.loyalty.events import PointsEarned, PointsReversed, TierChanged
from ecrm.loyalty.models import Outcome, RedemptionRequest
from ecrm.loyalty.state import MemberState

from tests.unit.loyalty.fakes import Throttled
from tests.unit.loyalty.world import MEMBER, NOW, World, order, refund


@pytest.fixture
def world() -> World:
    return World()


def cost(world: World, handle) -> tuple[object, int, int]:
    reads, writes = world.ledger.reads, world.ledger.writes
    outcome = handle()
    return outcome, world.ledger.reads - reads, world.ledger.writes - writes


def test_an_order_costs_one_read_and_one_write(world):
    assert cost(world, lambda: world.accrual.on_order_placed(order("o1", 12_345))) == (Outcome.APPLIED, 1, 1)
    assert cost(world, lambda: world.accrual.on_order_placed(order("o2", 5_000))) == (Outcome.APPLIED, 1, 1)
    entry = world.ledger.entries[(MEMBER, "earn#o1")]
    assert (entry.points, entry.rule_version, entry.tier, entry.lots) == (123, "v2", "bronze", {"2026-11": 123})
    assert entry.expires_at == datetime(2027, 12, 1, tzinfo=UTC)
    assert world.ledger.balance(MEMBER) == 173
    world.ledger.check_invariants()


def test_the_earn_sets_the_lots_timers_once_and_announces_the_points(world):
    world.accrual.on_order_placed(order("o1", 12_345))
    world.accrual.on_order_placed(order("o2", 5_000))
    assert world.timers.sets == 2  # the lot's expiry and warning, set by its first points only
    expiry = world.timers.timers[f"loyalty-expire-{MEMBER}-2026-11"]
    warning = world.timers.timers[f"loyalty-warn-{MEMBER}-2026-11"]
    assert expiry.at == datetime(2027, 12, 1, tzinfo=UTC) and warning.at == expiry.at - timedelta(days=30)
    assert expiry.payload == {"kind": "loyalty.lot-expiry", "member_id": MEMBER, "lot": "2026-11"}
    earned = world.loyalty_events()[0]
    assert isinstance(earned, PointsEarned) and (earned.entry_id, earned.points) == ("earn#o1", 123)
    assert earned.source == "ecrm.loyalty"


def test_a_redelivered_order_changes_nothing(world):
    world.accrual.on_order_placed(order("o1", 12_345))
    for _ in range(3):
        assert world.accrual.on_order_placed(order("o1", 12_345)) == Outcome.DUPLICATE
    assert world.ledger.balance(MEMBER) == 123 and len(world.ledger.entries) == 1


def test_an_order_by_email_creates_the_contact_once(world):
    first = order("o1", 10_000, email="new@example.com")
    world.accrual.on_order_placed(first)
    world.accrual.on_order_placed(order("o2", 10_000, email="NEW@example.com"))
    (contact,) = world.contacts.contacts.values()
    assert contact.email == "new@example.com" and world.ledger.balance(contact.id) == 200
    assert [e.detail_type for e in world.bus.events].count("ContactCaptured.v1") == 1


def test_a_refund_costs_one_read_and_one_write_and_reverses_proportionally(world):
    world.accrual.on_order_placed(order("o1", 12_345))
    assert cost(world, lambda: world.accrual.on_order_refunded(refund("o1", "r1", 5_000))) == (Outcome.APPLIED, 1, 1)
    assert world.ledger.balance(MEMBER) == 123 - 49
    reversed_ = world.loyalty_events()[-1]
    assert isinstance(reversed_, PointsReversed) and (reversed_.points, reversed_.refund_id) == (49, "r1")
    assert world.accrual.on_order_refunded(refund("o1", "r1", 5_000)) == Outcome.DUPLICATE
    assert world.ledger.balance(MEMBER) == 74
    world.ledger.check_invariants()


def test_refunds_never_take_an_order_below_zero(world):
    world.accrual.on_order_placed(order("o1", 10_000))
    for i in range(3):
        world.accrual.on_order_refunded(refund("o1", f"r{i}", 6_000))
    assert world.ledger.orders["o1"].refunds.reversed == 100
    assert world.ledger.balance(MEMBER) == 0
    world.ledger.check_invariants()


def test_a_refund_before_its_order_is_parked_then_applied_once(world):
    assert cost(world, lambda: world.accrual.on_order_refunded(refund("o1", "r1", 2_500))) == (Outcome.PARKED, 1, 1)
    assert world.accrual.on_order_refunded(refund("o1", "r1", 2_500)) == Outcome.DUPLICATE
    assert world.accrual.on_order_refunded(refund("o1", "r2", 2_500)) == Outcome.PARKED
    assert world.ledger.balance(MEMBER) == 0 and not world.ledger.entries
    assert world.accrual.on_order_placed(order("o1", 10_000)) == Outcome.APPLIED
    assert world.ledger.balance(MEMBER) == 100 - 25 - 25
    kinds = sorted(key for (_, key) in world.ledger.entries)
    assert kinds == ["earn#o1", "reverse#r1", "reverse#r2"]
    assert not world.ledger.orders["o1"].parked
    for late in (refund("o1", "r1", 2_500), refund("o1", "r2", 2_500)):
        assert world.accrual.on_order_refunded(late) == Outcome.DUPLICATE
    assert world.accrual.on_order_placed(order("o1", 10_000)) == Outcome.DUPLICATE
    assert world.ledger.balance(MEMBER) == 50
    world.ledger.check_invariants()


def test_an_order_racing_its_refund_still_applies_the_refund(world):
    # the refund parks itself between the order's read and its write
    world.ledger.before_apply.append(lambda: world.accrual.on_order_refunded(refund("o1", "r1", 10_000)))
    assert world.accrual.on_order_placed(order("o1", 10_000)) == Outcome.APPLIED
    assert world.ledger.balance(MEMBER) == 0 and (MEMBER, "reverse#r1") in world.ledger.entries
    world.ledger.check_invariants()


def test_a_refund_in_another_currency_is_malformed_and_writes_nothing(world):
    world.accrual.on_order_placed(order("o1", 10_000))
    writes = world.ledger.writes
    with pytest.raises(MalformedEvent) as caught:
        world.accrual.on_order_refunded(refund("o1", "r1", 1_000, currency="USD"))
    assert caught.value.field == "currency" and world.ledger.writes == writes


def test_a_refund_of_points_already_spent_takes_what_is_left_and_records_the_rest(world):
    world.accrual.on_order_placed(order("o1", 10_000))
    world.redemption.redeem(MEMBER, RedemptionRequest(points=80), "redeem-key-1", actor=None)
    world.accrual.on_order_refunded(refund("o1", "r1", 10_000))
    entry = world.ledger.entries[(MEMBER, "reverse#r1")]
    assert (entry.points, entry.uncollected) == (-20, 80)
    assert world.ledger.balance(MEMBER) == 0
    world.ledger.check_invariants()


def test_a_tier_upgrade_is_announced_once(world):
    world.accrual.on_order_placed(order("o1", 40_000))
    assert world.ledger.members[MEMBER].tier is None
    for _ in range(3):
        world.accrual.on_order_placed(order("o2", 20_000))
    member = world.ledger.members[MEMBER]
    assert (member.tier, member.tier_version) == ("silver", 1)
    changes = {(e.tier_version, e.to_tier) for e in world.loyalty_events() if isinstance(e, TierChanged)}
    assert changes == {(1, "silver")}  # a redelivery may repeat the event, never make a second change
    assert world.ledger.entries[(MEMBER, "earn#o2")].tier_change is not None
    # the upgrade prices the next order, not the one that made it
    world.accrual.on_order_placed(order("o3", 10_000))
    assert world.ledger.entries[(MEMBER, "earn#o3")].points == 150


def test_two_orders_that_cross_a_threshold_only_together_still_upgrade_once(world):
    world.accrual.on_order_placed(order("o1", 30_000))  # 300
    # o2 (150) commits between o3's read and o3's write; alone, neither crosses 500
    world.ledger.before_apply.append(lambda: world.accrual.on_order_placed(order("o2", 15_000)))
    world.accrual.on_order_placed(order("o3", 15_000))
    member = world.ledger.members[MEMBER]
    assert member.balance == 600 and (member.tier, member.tier_version) == ("silver", 1)
    assert [e.to_tier for e in world.loyalty_events() if isinstance(e, TierChanged)] == ["silver"]


def test_a_throttled_write_writes_nothing_and_the_redelivery_applies_it_once(world):
    world.ledger.throttle = {1}
    with pytest.raises(Throttled):
        world.accrual.on_order_placed(order("o1", 10_000))
    assert world.ledger.balance(MEMBER) == 0 and not world.ledger.entries and not world.timers.timers
    assert world.accrual.on_order_placed(order("o1", 10_000)) == Outcome.APPLIED
    assert world.ledger.balance(MEMBER) == 100


def test_a_lost_response_leaves_the_write_with_its_events_and_the_redelivery_restores_its_timers(world):
    world.ledger.lose_ack = {1}
    with pytest.raises(Throttled):
        world.accrual.on_order_placed(order("o1", 10_000))
    # the events committed with the write (the outbox); the timers come after it, so they are missing
    assert world.ledger.balance(MEMBER) == 100 and not world.timers.timers
    assert [getattr(e, "entry_id", None) for e in world.loyalty_events()] == ["earn#o1"]
    world.accrual.on_order_placed(order("o2", 10_000))  # same lot, already has points: sets no timers
    assert world.accrual.on_order_placed(order("o1", 10_000)) == Outcome.DUPLICATE
    assert world.ledger.balance(MEMBER) == 200
    assert f"loyalty-expire-{MEMBER}-2026-11" in world.timers.timers
    assert [getattr(e, "entry_id", None) for e in world.loyalty_events()].count("earn#o1") == 1


def test_old_empty_lots_and_stale_buckets_are_dropped_by_a_later_write(world):
    world.ledger.members[MEMBER] = MemberState(member_id=MEMBER, lots={"2024-01": 0}, earned={"2024-01": 70})
    world.accrual.on_order_placed(order("o1", 10_000))
    member = world.ledger.members[MEMBER]
    assert member.lots == {"2026-11": 100} and member.earned == {"2026-11": 100}


def test_a_late_order_earns_by_the_rules_of_when_it_was_placed(world):
    world.accrual.on_order_placed(order("o1", 10_000, category="toys", placed_at=datetime(2026, 11, 28, tzinfo=UTC)))
    world.clock.at = NOW + timedelta(days=20)  # processed after Black Friday ended
    world.accrual.on_order_placed(order("o2", 10_000, category="toys", placed_at=datetime(2026, 11, 29, tzinfo=UTC)))
    assert world.ledger.entries[(MEMBER, "earn#o2")].points == 300
    assert world.ledger.entries[(MEMBER, "earn#o2")].lots == {"2026-12": 300}  # the lot is when it was credited


def test_a_parked_refund_in_another_currency_is_never_applied(world):
    world.accrual.on_order_refunded(refund("o1", "r1", 5_000, currency="USD"))
    world.accrual.on_order_placed(order("o1", 10_000))
    assert world.ledger.balance(MEMBER) == 100 and (MEMBER, "reverse#r1") not in world.ledger.entries
    assert [r.refund_id for r in world.ledger.orders["o1"].parked] == ["r1"]  # kept, for someone to look at
    with pytest.raises(MalformedEvent):
        world.accrual.on_order_refunded(refund("o1", "r1", 5_000, currency="USD"))


def test_a_stream_of_events_for_one_member_costs_one_write_and_one_read_each(world):
    events = 0
    for i in range(150):
        world.accrual.on_order_placed(order(f"o{i}", 1_000 + 37 * i, category=("books", "garden")[i % 2]))
        events += 1
        if i % 3 == 0:
            world.accrual.on_order_refunded(refund(f"o{i}", f"r{i}", 500))
            events += 1
    assert (world.ledger.writes, world.ledger.reads) == (events, events)
    assert world.ledger.members[MEMBER].tier == "gold"  # tier changes on the way cost nothing extra
    world.ledger.check_invariants()


def test_the_same_order_delivered_twice_at_once_counts_once(world):
    world.ledger.before_apply.append(lambda: world.accrual.on_order_placed(order("o1", 10_000)))
    assert world.accrual.on_order_placed(order("o1", 10_000)) == Outcome.DUPLICATE
    assert world.ledger.balance(MEMBER) == 100 and len(world.ledger.entries) == 1
