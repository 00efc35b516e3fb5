"""unit: the pure ledger: lots and expiry, proportional reversals, oldest-first consumption."""

from datetime import UTC, datetime

import pytest
from ecrm.loyalty.errors import InsufficientPoints
from ecrm.loyalty.ledger import expires_at, lot_for, reversal_takes, reverse, take_oldest, usable_lots
from ecrm.loyalty.rules import SkuShare
from ecrm.loyalty.state import Earned, Refunds
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.loyalty.world import refund

AT = datetime(2026, 11, 22, tzinfo=UTC)


def earned(points: int, total: int, lines: dict[str, tuple[int, int]] | None = None, bonus: int = 0) -> Earned:
    shares = {
        sku: SkuShare(amount, weight) for sku, (amount, weight) in (lines or {"X": (total, points * 10**6)}).items()
    }
    return Earned(
        member_id="m",
        points=points,
        total_minor=total,
        currency="EUR",
        lines=shares,
        bonus_weight=bonus,
        lot="2026-11",
        rule_version="v1",
        at=AT,
    )


def apply_all(order: Earned, amounts: list[int]) -> list[int]:
    state, deltas = Refunds(), []
    for i, amount in enumerate(amounts):
        delta, state = reverse(order, state, refund("o", f"r{i}", amount))
        deltas.append(delta)
    return deltas


def test_a_lot_is_a_month_and_expires_at_the_start_of_the_month_after_n_months():
    assert lot_for(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == "2026-11"
    assert expires_at("2026-11", 12) == datetime(2027, 12, 1, tzinfo=UTC)
    assert expires_at("2026-12", 1) == datetime(2027, 2, 1, tzinfo=UTC)


def test_reversal_is_proportional_and_floored():
    assert apply_all(earned(123, 12_345), [5000]) == [49]  # floor(123 * 5000 / 12345)


def test_partial_refunds_add_up_to_the_whole_without_rounding_drift():
    # thirds of 100 points: floor(33.3)=33, floor(66.6)=66 -> 33, 33, then the last third 34
    assert apply_all(earned(100, 3000), [1000, 1000, 1000]) == [33, 33, 34]


def test_refunds_never_reverse_more_than_the_order_earned():
    assert apply_all(earned(100, 3000), [2000, 2000, 2000]) == [66, 34, 0]


def test_refund_lines_reverse_the_points_their_skus_earned():
    # BOOK earned 200 points (x2), SPADE 100, on 100 EUR each
    order = earned(300, 20_000, {"BOOK": (10_000, 200 * 10**6), "SPADE": (10_000, 100 * 10**6)})
    book_back = refund("o", "r1", 10_000, lines=[{"sku": "BOOK", "quantity": 1, "amount_minor": 10_000}])
    delta, state = reverse(order, Refunds(), book_back)
    assert delta == 200
    half_spade = refund("o", "r2", 5_000, lines=[{"sku": "SPADE", "quantity": 1, "amount_minor": 5_000}])
    assert reverse(order, state, half_spade)[0] == 50
    unknown = refund("o", "r3", 10_000, lines=[{"sku": "NOPE", "quantity": 1, "amount_minor": 10_000}])
    assert reverse(order, Refunds(), unknown)[0] == 150  # spread over the order: half its total


def test_a_refund_of_the_whole_total_reverses_the_bonus_too():
    order = earned(125, 10_000, {"BOOK": (10_000, 100 * 10**6)}, bonus=25 * 10**6)
    assert apply_all(order, [10_000]) == [125]
    assert apply_all(order, [5_000]) == [62]  # floor(125 * 1/2)


def test_an_order_that_earned_nothing_reverses_nothing():
    assert apply_all(earned(0, 500, {}), [500]) == [0]


@given(
    points=st.integers(0, 10_000),
    total=st.integers(1, 100_000),
    amounts=st.lists(st.integers(1, 60_000), min_size=1, max_size=6),
    data=st.data(),
)
def test_the_total_reversed_depends_only_on_the_amounts_never_their_order(points, total, amounts, data):
    order = earned(points, total)
    shuffled = data.draw(st.permutations(amounts))
    first, second = apply_all(order, amounts), apply_all(order, shuffled)
    assert sum(first) == sum(second) == min(points, points * min(sum(amounts), total) // total)
    assert all(d >= 0 for d in first + second)


LOTS = {"2025-10": 0, "2025-11": 40, "2026-03": 100, "2026-11": 10}


def test_usable_lots_are_oldest_first_and_skip_expired_and_empty_ones():
    assert usable_lots(LOTS, AT, 12) == [("2025-11", 40), ("2026-03", 100), ("2026-11", 10)]
    assert usable_lots(LOTS, datetime(2026, 12, 1, tzinfo=UTC), 12) == [("2026-03", 100), ("2026-11", 10)]


def test_take_oldest_never_overdraws():
    assert take_oldest(LOTS, 50, AT, 12) == {"2025-11": 40, "2026-03": 10}
    with pytest.raises(InsufficientPoints) as caught:
        take_oldest(LOTS, 151, AT, 12)
    assert (caught.value.wanted, caught.value.available) == (151, 150)


def test_a_reversal_takes_its_own_lot_first_then_the_oldest():
    assert reversal_takes(LOTS, "2026-11", 30, AT, 12) == {"2026-11": 10, "2025-11": 20}
    assert reversal_takes(LOTS, "2026-11", 500, AT, 12) == {"2026-11": 10, "2025-11": 40, "2026-03": 100}
    assert reversal_takes(LOTS, "2025-10", 30, AT, 12) == {}  # its lot expired: those points are gone already
