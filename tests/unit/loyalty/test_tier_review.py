"""unit: downgrades no order makes: the window sliding past old points, and reversals."""

from datetime import UTC, datetime, timedelta

from ecrm.loyalty.deadlines import TierReview
from ecrm.loyalty.events import TierChanged
from ecrm.loyalty.models import Outcome

from tests.unit.loyalty.world import MEMBER, NOW, World, order, refund


def tier_changes(world: World) -> list[tuple[str, str, str, int]]:
    return [
        (e.from_tier, e.to_tier, e.direction, e.tier_version)
        for e in world.loyalty_events()
        if isinstance(e, TierChanged)
    ]


def test_an_upgrade_sets_a_review_for_when_the_points_leave_the_window():
    world = World()
    world.accrual.on_order_placed(order("o1", 60_000))  # 600 points in 2026-11: silver
    review = world.timers.timers[f"loyalty-tier-{MEMBER}"]
    assert review.at == datetime(2027, 11, 1, tzinfo=UTC) and review.payload["kind"] == "loyalty.tier-review"
    world.travel(datetime(2027, 11, 1, 0, 1, tzinfo=UTC))
    assert world.ledger.members[MEMBER].tier == "bronze"
    assert tier_changes(world) == [("bronze", "silver", "up", 1), ("silver", "bronze", "down", 2)]


def test_points_earned_meanwhile_keep_the_tier_and_move_the_review():
    world = World()
    world.accrual.on_order_placed(order("o1", 60_000))
    world.clock.at = datetime(2027, 6, 10, tzinfo=UTC)
    world.accrual.on_order_placed(order("o2", 50_000, placed_at=world.clock.at))
    world.clock.at = datetime(2027, 11, 1, tzinfo=UTC)
    assert world.timers.timers[f"loyalty-tier-{MEMBER}"].at <= world.clock.at
    assert world.review.review(TierReview(member_id=MEMBER)) == Outcome.STALE  # 500 from June still hold silver
    assert world.timers.timers[f"loyalty-tier-{MEMBER}"].at == datetime(2028, 6, 1, tzinfo=UTC)
    assert world.ledger.members[MEMBER].tier == "silver" and len(tier_changes(world)) == 1


def test_a_refund_that_sinks_the_window_downgrades_shortly_after_and_once():
    world = World()
    world.accrual.on_order_placed(order("o1", 60_000))
    world.accrual.on_order_refunded(refund("o1", "r1", 30_000))  # 300 left: below silver
    world.accrual.on_order_refunded(refund("o1", "r2", 10_000))
    assert world.ledger.members[MEMBER].tier == "silver"  # a refund does not read the member
    review = world.timers.timers[f"loyalty-tier-{MEMBER}"]
    assert review.at == NOW + timedelta(minutes=1)  # both refunds share one review
    world.travel(NOW + timedelta(minutes=2))
    assert world.ledger.members[MEMBER].tier == "bronze"
    assert tier_changes(world)[-1] == ("silver", "bronze", "down", 2)
    assert world.review.review(TierReview(member_id=MEMBER)) == Outcome.STALE
    assert len(tier_changes(world)) == 2


def test_an_order_after_the_window_slid_settles_the_tier_itself():
    world = World()
    world.accrual.on_order_placed(order("o1", 250_000))  # 2500: gold
    world.timers.timers.clear()  # even if the review timer were lost
    world.clock.at = datetime(2028, 1, 5, tzinfo=UTC)
    world.accrual.on_order_placed(order("o2", 1_000, placed_at=world.clock.at))
    entry = world.ledger.entries[(MEMBER, "earn#o2")]
    assert entry.tier == "bronze" and entry.points == 10  # priced at the tier the window gives now
    assert world.ledger.members[MEMBER].tier == "bronze"
    assert tier_changes(world)[-1] == ("gold", "bronze", "down", 2)


def test_a_review_of_an_unknown_member_is_stale():
    assert World().review.review(TierReview(member_id="b" * 32)) == Outcome.STALE
