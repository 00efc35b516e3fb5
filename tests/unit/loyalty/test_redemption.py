"""unit: redemptions and adjustments: oldest lots first, once per Idempotency-Key, never an overdraw."""

from datetime import UTC, datetime

import pytest
from ecrm.errors import Conflict, InvalidInput, NotFound
from ecrm.loyalty.errors import InsufficientPoints
from ecrm.loyalty.models import AdjustmentRequest, RedemptionRequest
from pydantic import ValidationError

from tests.unit.loyalty.world import MEMBER, World, order


@pytest.fixture
def world() -> World:
    w = World()
    w.accrual.on_order_placed(order("o1", 10_000))  # 100 points in lot 2026-11
    w.clock.at = datetime(2026, 12, 5, tzinfo=UTC)
    w.accrual.on_order_placed(order("o2", 5_000, placed_at=w.clock.at))  # 50 points in lot 2026-12
    return w


def redeem(world: World, points: int, key: str = "idem-key-0001", reference: str | None = None):
    return world.redemption.redeem(MEMBER, RedemptionRequest(points=points, reference=reference), key, actor="agent-7")


def test_a_redemption_takes_the_oldest_lots_first_in_one_read_and_one_write(world):
    reads, writes = world.ledger.reads, world.ledger.writes
    result = redeem(world, 120, reference="voucher-10")
    assert (world.ledger.reads - reads, world.ledger.writes - writes) == (1, 1)
    assert result.entry.lots == {"2026-11": -100, "2026-12": -20} and not result.replayed
    assert world.ledger.members[MEMBER].lots == {"2026-11": 0, "2026-12": 30}
    assert (result.entry.actor, result.entry.reference) == ("agent-7", "voucher-10")
    assert world.types()[-1] == "PointsRedeemed.v1"
    world.ledger.check_invariants()


def test_a_repeated_request_gets_the_first_answer_and_costs_nothing(world):
    first = redeem(world, 120)
    again = redeem(world, 120)  # the balance (30) could no longer pay it: still the first answer
    assert again.replayed and again.entry == first.entry
    assert world.ledger.balance(MEMBER) == 30


def test_a_key_reused_for_another_request_is_refused(world):
    redeem(world, 10)
    with pytest.raises(InvalidInput) as caught:
        redeem(world, 11)
    assert (caught.value.field, caught.value.status) == ("Idempotency-Key", 422)
    assert world.ledger.balance(MEMBER) == 140


def test_more_than_the_balance_is_refused_and_may_be_retried_later(world):
    writes = world.ledger.writes
    with pytest.raises(InsufficientPoints):
        redeem(world, 151)
    assert world.ledger.writes == writes
    world.accrual.on_order_placed(order("o3", 1_000, placed_at=world.clock.at))
    assert not redeem(world, 151).replayed  # the refusal was not stored under the key
    assert world.ledger.balance(MEMBER) == 9


@pytest.mark.parametrize("key", [None, "", "short", "has space in it", "x" * 101])
def test_a_missing_or_bad_idempotency_key_names_the_header(world, key):
    with pytest.raises(InvalidInput) as caught:
        redeem(world, 10, key=key)
    assert caught.value.field == "Idempotency-Key"


def test_request_models_name_the_field():
    for bad, field in (({"points": 1.5}, "points"), ({"points": 0}, "points"), ({"points": True}, "points")):
        with pytest.raises(ValidationError) as caught:
            RedemptionRequest.model_validate(bad)
        assert caught.value.errors()[0]["loc"] == (field,)
    with pytest.raises(ValidationError) as caught:
        AdjustmentRequest.model_validate({"points": 10})
    assert caught.value.errors()[0]["loc"] == ("reason",)
    with pytest.raises(ValidationError) as caught:
        AdjustmentRequest.model_validate({"points": 0, "reason": "typo"})
    assert caught.value.errors()[0]["loc"] == ("points",)


def test_an_unknown_member_is_not_found(world):
    with pytest.raises(NotFound):
        world.redemption.redeem("b" * 32, RedemptionRequest(points=1), "idem-key-0001", actor=None)


def test_concurrent_redemptions_never_overdraw(world):
    # B reads and commits between A's read and A's write: A's guard fails, A re-reads, A is refused
    world.ledger.before_apply.append(lambda: redeem(world, 100, key="idem-key-B"))
    with pytest.raises(InsufficientPoints):
        redeem(world, 100, key="idem-key-A")
    assert world.ledger.balance(MEMBER) == 50
    world.ledger.check_invariants()


def test_many_redemptions_from_one_snapshot_take_no_more_than_there_is(world):
    # six redemptions of 40 all read the balance of 150 before any of them writes
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        if i < 5:
            world.ledger.before_apply.append(lambda: attempt(i + 1))
        try:
            redeem(world, 40, key=f"idem-key-{i:04d}")
            outcomes.append("ok")
        except InsufficientPoints:
            outcomes.append("refused")

    attempt(0)
    assert outcomes.count("ok") == 3 and world.ledger.balance(MEMBER) == 30
    world.ledger.check_invariants()


def test_a_member_that_keeps_changing_gives_up_with_a_conflict(world):
    def interfere(i: int) -> None:  # one small redemption before each of A's writes, none nested
        pending, world.ledger.before_apply = world.ledger.before_apply, []
        redeem(world, 1, key=f"idem-key-x{i:03d}")
        world.ledger.before_apply = pending

    world.ledger.before_apply.extend(lambda i=i: interfere(i) for i in range(5))
    with pytest.raises(Conflict):
        redeem(world, 100, key="idem-key-A")
    assert world.ledger.balance(MEMBER) == 145


def test_an_adjustment_is_audited_and_a_credit_is_a_new_lot(world):
    result = world.redemption.adjust(
        MEMBER, AdjustmentRequest(points=25, reason="  goodwill: late parcel "), "adj-key-0001", actor="admin-1"
    )
    entry = result.entry
    assert (entry.kind, entry.points, entry.reason, entry.actor) == ("adjust", 25, "goodwill: late parcel", "admin-1")
    assert entry.lots == {"2026-12": 25} and world.ledger.balance(MEMBER) == 175
    assert world.types()[-1] == "PointsAdjusted.v1"
    again = world.redemption.adjust(
        MEMBER, AdjustmentRequest(points=25, reason="goodwill: late parcel"), "adj-key-0001", actor="admin-2"
    )
    assert again.replayed and world.ledger.balance(MEMBER) == 175


def test_a_debit_adjustment_never_takes_the_balance_below_zero(world):
    with pytest.raises(InsufficientPoints):
        world.redemption.adjust(MEMBER, AdjustmentRequest(points=-151, reason="fraud"), "adj-key-0002", actor="a")
    result = world.redemption.adjust(MEMBER, AdjustmentRequest(points=-150, reason="fraud"), "adj-key-0003", actor="a")
    assert result.entry.lots == {"2026-11": -100, "2026-12": -50} and world.ledger.balance(MEMBER) == 0
    world.ledger.check_invariants()


def test_a_credit_into_a_new_month_sets_that_lots_timers(world):
    world.clock.at = datetime(2027, 1, 3, tzinfo=UTC)
    world.redemption.adjust(MEMBER, AdjustmentRequest(points=5, reason="birthday"), "adj-key-0004", actor="a")
    assert f"loyalty-expire-{MEMBER}-2027-01" in world.timers.timers
