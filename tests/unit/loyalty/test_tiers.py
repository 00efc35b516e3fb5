"""unit: tiers from monthly buckets in a rolling window; the guard that keeps a decision true."""

from datetime import UTC, datetime

import pytest
from ecrm.loyalty.tiers import Tier, TierPolicy, decide
from pydantic import ValidationError

from tests.unit.loyalty.world import TIERS

AT = datetime(2026, 11, 22, tzinfo=UTC)


def test_the_window_is_this_month_and_the_eleven_before():
    buckets = {"2025-11": 5000, "2025-12": 300, "2026-11": 250}
    assert TIERS.window_points(buckets, AT) == 550
    assert TIERS.tier_at(buckets, AT) == "silver"
    assert TIERS.stale_buckets({**buckets, "2025-10": 1}, AT) == ("2025-10",)  # a month past the window


@pytest.mark.parametrize(
    ("points", "tier"), [(0, "bronze"), (499, "bronze"), (500, "silver"), (2000, "gold"), (-5, "bronze")]
)
def test_thresholds(points, tier):
    assert TIERS.tier_for(points) == tier


def test_an_upgrade_is_decided_with_a_guard_on_this_months_bucket():
    decision = decide(TIERS, {"2026-11": 400}, None, AT, 150)
    assert (decision.before, decision.after, decision.change) == ("bronze", "silver", "silver")
    # commits only while nobody else added 100+ points this month (1450 more would cross gold after)
    assert decision.bucket_limit == 400 + min(500 - 400, 2000 - 550)


def test_no_change_still_guards_against_a_crossing_it_cannot_see():
    decision = decide(TIERS, {"2026-11": 100}, None, AT, 50)
    assert decision.change is None and decision.bucket_limit == 100 + 500 - 150
    top = decide(TIERS, {"2026-11": 2500}, "gold", AT, 10)
    assert top.change is None and top.bucket_limit is None  # nothing above gold to miss


def test_a_stored_tier_the_window_no_longer_supports_is_changed():
    decision = decide(TIERS, {"2025-10": 3000}, "gold", AT, 0)
    assert decision.change == "bronze"


def test_review_at_is_the_month_a_tier_stops_being_held():
    buckets = {"2026-01": 300, "2026-06": 300}
    assert TIERS.review_at(buckets, "silver", AT) == datetime(2027, 1, 1, tzinfo=UTC)  # January leaves
    assert TIERS.review_at(buckets, "bronze", AT) is None
    assert TIERS.review_at({"2026-11": 2000}, "gold", AT) == datetime(2027, 11, 1, tzinfo=UTC)


def test_policy_is_validated():
    with pytest.raises(ValidationError, match="start at 0"):
        TierPolicy(tiers=[Tier(name="a", threshold=10)])
    with pytest.raises(ValidationError, match="increase"):
        TierPolicy(tiers=[Tier(name="a", threshold=0), Tier(name="b", threshold=0)])
    with pytest.raises(ValidationError, match="unique"):
        TierPolicy(tiers=[Tier(name="a", threshold=0), Tier(name="a", threshold=5)])
