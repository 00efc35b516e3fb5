"""unit: pricing an order in points: integer arithmetic, one floor per order, versions by date."""

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.loyalty.rules import EarnRate, EarnRules, Promotion, RuleBook, points_for
from pydantic import ValidationError

from tests.unit.loyalty.world import EPOCH, RULES_V1, RULES_V2, order

BLACK_FRIDAY = datetime(2026, 11, 28, 12, tzinfo=UTC)


def lines(*specs: tuple[str, str, int]) -> list[dict]:
    return [{"sku": sku, "category": cat, "quantity": 1, "amount_minor": amount} for sku, cat, amount in specs]


def test_points_are_floored_once_per_order_not_per_line():
    # 10 EUR + 3 x 1.50 EUR at 1 point per EUR: 14.5 -> 14 (flooring each line would give 13)
    specs = (("A", "garden", 1000), ("B", "garden", 150), ("C", "garden", 150), ("D", "garden", 150))
    placed = order("o1", 1450, lines=lines(*specs))
    assert points_for(placed, RULES_V1, "bronze").points == 14


def test_category_sku_and_tier_multipliers_combine():
    placed = order(
        "o1", 30_000, lines=lines(("BK", "books", 10_000), ("GIFTCARD", "books", 10_000), ("SPADE", "garden", 10_000))
    )
    bronze = points_for(placed, RULES_V1, "bronze")
    assert bronze.points == 200 + 0 + 100  # books x2, the SKU's 0% overrides its category
    assert {sku: share.amount_minor for sku, share in bronze.lines.items()} == {
        "BK": 10_000,
        "GIFTCARD": 10_000,
        "SPADE": 10_000,
    }
    assert bronze.lines["GIFTCARD"].weight == 0
    assert points_for(placed, RULES_V1, "gold").points == 600  # gold x2 on every line


def test_below_the_minimum_or_in_an_unknown_currency_earns_nothing():
    assert points_for(order("o1", 999), RULES_V1, "bronze").points == 0
    assert points_for(order("o1", 1000), RULES_V1, "bronze").points == 10
    usd = order("o2", 10_000, total={"amount_minor": 10_000, "currency": "USD"})
    nothing = points_for(usd, RULES_V1, "gold")
    assert (nothing.points, nothing.lines, nothing.rule_version) == (0, {}, "v1")


def test_promotions_count_by_when_the_order_was_placed():
    toys = order("o1", 10_000, category="toys", placed_at=BLACK_FRIDAY)
    assert points_for(toys, RULES_V2, "bronze").points == 300  # x3 on toys
    garden = order("o2", 10_000, category="garden", placed_at=BLACK_FRIDAY)
    assert points_for(garden, RULES_V2, "bronze").points == 100  # not its category
    before = order("o3", 10_000, category="toys", placed_at=datetime(2026, 11, 26, 23, 59, tzinfo=UTC))
    assert points_for(before, RULES_V2, "bronze").points == 100
    at_end = order("o4", 10_000, category="toys", placed_at=datetime(2026, 11, 30, tzinfo=UTC))
    assert points_for(at_end, RULES_V2, "bronze").points == 100  # ends_at is exclusive


def test_a_bonus_is_paid_once_per_order_that_has_its_category():
    two_books = order(
        "o1", 20_000, lines=lines(("B1", "books", 10_000), ("B2", "books", 10_000)), placed_at=BLACK_FRIDAY
    )
    earning = points_for(two_books, RULES_V2, "bronze")
    assert earning.points == 400 + 25
    assert earning.bonus_weight == 25 * 1_000_000


def test_the_per_order_cap_is_applied_last():
    big = order("o1", 1_000_000, category="books")
    earning = points_for(big, RULES_V1, "gold")
    assert (earning.points, earning.capped) == (5000, True)


def test_the_rule_book_picks_the_version_in_effect_when_the_order_was_placed():
    book = RuleBook(versions=[RULES_V2, RULES_V1])
    assert book.at(datetime(2026, 5, 31, tzinfo=UTC)).version == "v1"
    assert book.at(datetime(2026, 6, 1, tzinfo=UTC)).version == "v2"
    assert book.at(EPOCH - timedelta(days=1)).version == "v1"  # before every version: the oldest


def test_rules_are_validated():
    with pytest.raises(ValidationError, match="exactly one"):
        Promotion(id="p", starts_at=EPOCH, ends_at=EPOCH + timedelta(days=1), multiplier_percent=200, bonus_points=5)
    with pytest.raises(ValidationError, match="ends_at"):
        Promotion(id="p", starts_at=EPOCH, ends_at=EPOCH, bonus_points=5)
    boosts = [
        Promotion(id=f"p{i}", starts_at=EPOCH, ends_at=EPOCH + timedelta(days=1), multiplier_percent=110)
        for i in range(5)
    ]
    with pytest.raises(ValidationError, match="at most 4"):
        EarnRules(
            version="x", effective_from=EPOCH, rates={"EUR": EarnRate(points=1, per_minor=100)}, promotions=boosts
        )
    with pytest.raises(ValidationError, match="unique"):
        RuleBook(versions=[RULES_V1, RULES_V1])
    with pytest.raises(ValidationError):
        EarnRate(points=1, per_minor=100, min_order_minor=1.5)
