"""unit: what the adapter stores round-trips through JSON, and the events the ledger announces."""

from datetime import UTC, datetime

from ecrm.loyalty.events import LOYALTY_EVENT_TYPES, events_for
from ecrm.loyalty.models import LedgerEntry, TierChange
from ecrm.loyalty.names import DetailType
from ecrm.loyalty.state import MemberState, OrderRecord
from ecrm.names import Source

from tests.unit.loyalty.world import MEMBER, World, order, refund

AT = datetime(2026, 11, 22, tzinfo=UTC)


def test_order_records_members_and_entries_round_trip_through_json():
    world = World()
    world.accrual.on_order_refunded(refund("o1", "r0", 1_000, lines=[{"sku": "X", "quantity": 1, "amount_minor": 5}]))
    parked = world.ledger.orders["o1"]
    assert OrderRecord.model_validate_json(parked.model_dump_json()) == parked
    world.accrual.on_order_placed(order("o1", 10_000, category="books"))
    for record in world.ledger.orders.values():
        assert OrderRecord.model_validate_json(record.model_dump_json()) == record
    member = world.ledger.members[MEMBER]
    assert MemberState.model_validate_json(member.model_dump_json()) == member
    for entry in world.ledger.entries.values():
        assert LedgerEntry.model_validate_json(entry.model_dump_json()) == entry


def entry(kind, points, **extra) -> LedgerEntry:
    return LedgerEntry(member_id=MEMBER, kind=kind, key="k1", points=points, at=AT, **extra)


def test_each_entry_announces_its_event_with_ids_only():
    ranks = ["bronze", "silver", "gold"]
    earned = entry(
        "earn",
        120,
        lots={"2026-11": 120},
        expires_at=AT,
        rule_version="v2",
        tier="bronze",
        order_id="o1",
        tier_change=TierChange(from_tier="bronze", to_tier="silver", version=1),
    )
    assert [e.detail_type for e in events_for(earned, ranks)] == ["PointsEarned.v1", "TierChanged.v1"]
    tier = events_for(earned, ranks)[1]
    assert tier.model_dump(exclude={"occurred_at"}) == {
        "member_id": MEMBER,
        "from_tier": "bronze",
        "to_tier": "silver",
        "direction": "up",
        "tier_version": 1,
    }
    reversed_ = events_for(entry("reverse", -30, order_id="o1", refund_id="r1", uncollected=5), ranks)[0]
    assert reversed_.model_dump(exclude={"occurred_at"}) == {
        "member_id": MEMBER,
        "entry_id": "reverse#k1",
        "order_id": "o1",
        "refund_id": "r1",
        "points": 30,
        "uncollected": 5,
    }
    kinds = {"redeem": -10, "expire": -10, "adjust": -10}
    assert [events_for(entry(k, p), ranks)[0].detail_type for k, p in kinds.items()] == [
        "PointsRedeemed.v1",
        "PointsExpired.v1",
        "PointsAdjusted.v1",
    ]


def test_every_loyalty_event_is_versioned_and_from_the_loyalty_source():
    assert set(LOYALTY_EVENT_TYPES) == {
        DetailType.POINTS_EARNED,
        DetailType.POINTS_REVERSED,
        DetailType.POINTS_REDEEMED,
        DetailType.POINTS_EXPIRED,
        DetailType.POINTS_ADJUSTED,
        DetailType.TIER_CHANGED,
    }
    for detail_type, cls in LOYALTY_EVENT_TYPES.items():
        assert detail_type.endswith(".v1") and cls.source == Source.LOYALTY


def test_a_change_from_a_tier_the_programme_dropped_counts_as_up():
    change = TierChange(from_tier="platinum-old", to_tier="bronze", version=3)
    earned = entry("earn", 1, order_id="o1", tier_change=change)
    assert events_for(earned, ["bronze", "silver"])[1].model_dump()["direction"] == "up"
