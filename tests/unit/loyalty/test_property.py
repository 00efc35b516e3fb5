"""unit: the property the ledger exists for. Any sequence of order, refund and redemption events,
each delivered 1-3 times in any order, ends with the balance the reference computation gives,
never negative; and so it does when writes are throttled or their responses lost on the way."""

from contextlib import suppress
from datetime import timedelta
from typing import Any

from ecrm.errors import NotFound
from ecrm.loyalty.errors import InsufficientPoints
from ecrm.loyalty.ledger import Delivery, Redeem, expected_balance
from ecrm.loyalty.models import RedemptionRequest
from ecrm.loyalty.shop import OrderPlaced, OrderRefunded
from ecrm.loyalty.tiers import Tier, TierPolicy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.loyalty.fakes import Throttled
from tests.unit.loyalty.world import MEMBER, NOW, World, programme

CATEGORIES = ["books", "garden", "toys"]
# thresholds low enough that a few orders cross them, so tier multipliers change what orders earn
TIERS = TierPolicy(
    tiers=[Tier(name="bronze", threshold=0), Tier(name="silver", threshold=150), Tier(name="gold", threshold=600)]
)


def fresh_world() -> World:
    return World(programme=programme(tiers=TIERS))


@st.composite
def an_order(draw: st.DrawFn, index: int) -> OrderPlaced:
    specs = draw(st.lists(st.tuples(st.sampled_from(CATEGORIES), st.integers(0, 15_000)), min_size=1, max_size=3))
    lines = [{"sku": f"S{j}", "category": c, "quantity": 1, "amount_minor": a} for j, (c, a) in enumerate(specs)]
    shipping = draw(st.integers(0, 1_500))
    return OrderPlaced.model_validate(
        {
            "order_id": f"o{index}",
            "contact_id": MEMBER,
            "total": {"amount_minor": sum(a for _, a in specs) + shipping, "currency": "EUR"},
            "lines": lines,
            "placed_at": (NOW - timedelta(hours=draw(st.integers(1, 400)))).isoformat(),
        }
    )


@st.composite
def a_refund(draw: st.DrawFn, index: int, orders: int) -> OrderRefunded:
    target = draw(st.integers(0, orders))  # == orders: an order that never comes
    amount = draw(st.integers(1, 15_000) | st.just(100_000))  # often a refund of the whole order
    detail: dict[str, Any] = {"order_id": f"o{target}", "refund_id": f"r{index}", "amount_minor": amount}
    if draw(st.booleans()):
        detail["lines"] = [{"sku": draw(st.sampled_from(["S0", "S1", "S9"])), "quantity": 1, "amount_minor": amount}]
    return OrderRefunded.model_validate(detail)


@st.composite
def deliveries(draw: st.DrawFn) -> list[Delivery]:
    orders = draw(st.integers(1, 5))
    events: list[Delivery] = [draw(an_order(i)) for i in range(orders)]
    events += [draw(a_refund(i, orders)) for i in range(draw(st.integers(0, 5)))]
    events += [
        Redeem(f"redeem-key-{i:04d}", draw(st.integers(1, 100) | st.integers(100, 600)))
        for i in range(draw(st.integers(0, 4)))
    ]
    repeated = [event for event in events for _ in range(draw(st.integers(1, 3)))]
    return draw(st.permutations(repeated))


def handle(world: World, event: Delivery) -> None:
    if isinstance(event, OrderPlaced):
        world.accrual.on_order_placed(event)
    elif isinstance(event, OrderRefunded):
        world.accrual.on_order_refunded(event)
    else:
        # refused: the API answers 409/404, and nothing is stored under the key
        with suppress(InsufficientPoints, NotFound):
            world.redemption.redeem(MEMBER, RedemptionRequest(points=event.points), event.key, actor=None)


def deliver(world: World, event: Delivery) -> None:
    """Like the queue: a message whose handling failed comes again until it succeeds."""
    for _ in range(20):
        try:
            return handle(world, event)
        except Throttled:
            continue
    raise AssertionError("never got through")


def check(world: World, sequence: list[Delivery]) -> None:
    balance = world.ledger.balance(MEMBER)
    assert balance == expected_balance(sequence, world.programme.rules, TIERS)
    assert balance >= 0
    world.ledger.check_invariants()
    earned = {o.order_id for o in sequence if isinstance(o, OrderPlaced)}
    assert {key for (_, key) in world.ledger.entries if key.startswith("earn#")} == {f"earn#{o}" for o in earned}
    applied = {r.refund_id for r in sequence if isinstance(r, OrderRefunded) and r.order_id in earned}
    assert {key for (_, key) in world.ledger.entries if key.startswith("reverse#")} == {f"reverse#{r}" for r in applied}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=deliveries())
def test_any_order_of_duplicated_events_ends_at_the_reference_balance(sequence):
    world = fresh_world()
    for event in sequence:
        deliver(world, event)
    check(world, sequence)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sequence=deliveries(),
    throttled=st.sets(st.integers(1, 80), max_size=12),
    lost=st.sets(st.integers(1, 80), max_size=12),
)
def test_throttled_writes_and_lost_responses_lose_nothing_and_count_nothing_twice(sequence, throttled, lost):
    world = fresh_world()
    world.ledger.throttle, world.ledger.lose_ack = throttled, lost - throttled
    for event in sequence:
        deliver(world, event)
    check(world, sequence)
