"""unit: the member view and its paginated history."""

from datetime import UTC, datetime

import pytest
from ecrm.errors import InvalidInput, NotFound
from ecrm.loyalty.models import RedemptionRequest

from tests.unit.loyalty.world import MEMBER, World, order


@pytest.fixture
def world() -> World:
    w = World()
    w.clock.at = datetime(2025, 12, 10, tzinfo=UTC)
    w.accrual.on_order_placed(order("o1", 30_000, placed_at=w.clock.at))  # 300 in lot 2025-12
    w.clock.at = datetime(2026, 11, 22, tzinfo=UTC)
    w.accrual.on_order_placed(order("o2", 25_000, placed_at=w.clock.at))  # 250 in lot 2026-11
    w.redemption.redeem(MEMBER, RedemptionRequest(points=100), "idem-key-0001", actor=None)
    return w


def test_the_member_view_shows_balance_tier_and_what_expires_soon(world):
    view = world.queries.member(MEMBER)
    assert view.balance == 450 and (view.tier, view.window_points) == ("silver", 550)
    assert (view.next_tier, view.points_to_next_tier) == ("gold", 1450)
    assert [(p.points, p.expires_at) for p in view.expiring_soon] == [(200, datetime(2027, 1, 1, tzinfo=UTC))]


def test_points_past_expiry_no_longer_count_even_before_their_timer_ran(world):
    world.clock.at = datetime(2027, 1, 1, tzinfo=UTC)
    view = world.queries.member(MEMBER)
    assert view.balance == 250 and view.window_points == 250 and view.tier == "bronze"


def test_history_pages_newest_first(world):
    first = world.queries.history(MEMBER, limit=2)
    assert [e.entry_id for e in first.items] == ["redeem#idem-key-0001", "earn#o2"]
    second = world.queries.history(MEMBER, limit=2, cursor=first.next_cursor)
    assert [e.entry_id for e in second.items] == ["earn#o1"] and second.next_cursor is None


def test_bad_paging_and_unknown_members(world):
    with pytest.raises(InvalidInput) as caught:
        world.queries.history(MEMBER, limit=0)
    assert caught.value.field == "limit"
    with pytest.raises(NotFound):
        world.queries.member("b" * 32)
