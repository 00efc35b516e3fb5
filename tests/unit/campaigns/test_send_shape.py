"""unit: the campaign sender's deployed shape follows the configured send rate."""

from __future__ import annotations

import itertools
import math

import pytest
from ecrm.campaigns.runs import PAGE_SIZE
from ecrm.campaigns.sending import SenderConfig
from ecrm.campaigns.settings import MAX_LANES
from ecrm_infra import topology
from ecrm_infra.topology import send_shape
from ecrm_infra.topology.campaigns import CAMPAIGNS, SENDER, SENDER_SHAPE
from ecrm_infra.topology.send_shape import (
    CPU_SECONDS_PER_MAIL,
    CPU_SHARE,
    HEADROOM,
    LANES,
    MAX_RATE,
    MESSAGE_SIZE,
    PER_MAIL_SECONDS,
    STOP_MARGIN_SECONDS,
    deploy_rate,
    sender_shape,
)

RATES = (1, 14, 100, 200, 1000)


@pytest.mark.parametrize(
    ("rate", "concurrency", "lanes", "timeout"),
    [(1, 2, 1, 215), (14, 2, 2, 120), (100, 2, 8, 120), (200, 4, 8, 120), (1000, 20, 8, 120)],
)
def test_the_settings_for_each_rate(rate: int, concurrency: int, lanes: int, timeout: int) -> None:
    shape = sender_shape(rate)
    assert (shape.concurrency, shape.lanes, shape.timeout_seconds, shape.batch_size) == (concurrency, lanes, timeout, 1)
    assert shape.memory_mb == (1024 if lanes == 8 else 512)
    assert shape.visibility_timeout_seconds == 6 * timeout


@pytest.mark.parametrize("rate", [*RATES, 2, 3, 7, 13, 15, 63, 64, 65, 499, 999])
def test_the_invariants(rate: int) -> None:
    shape = sender_shape(rate)
    # The senders together can go faster than the rate (at the assumed pace per mail), with headroom.
    assert shape.capacity == shape.concurrency * shape.lanes / PER_MAIL_SECONDS >= 1.25 * rate
    # Within the event source mapping's range; each sender's share of the rate is at most its own pace.
    assert 2 <= shape.concurrency <= 1000
    assert shape.share <= shape.pace
    # No more lanes than the share needs (idle lanes would each wake for every second's tokens).
    assert 1 <= shape.lanes <= LANES
    assert shape.lanes == min(LANES, math.ceil(shape.share * HEADROOM * PER_MAIL_SECONDS))
    # Enough vCPU for the lanes at full pace, with half of it to spare (AWS: 1 vCPU at 1,769 MB).
    assert shape.memory_mb / 1769 * CPU_SHARE >= shape.pace * CPU_SECONDS_PER_MAIL
    # A message is finished inside one invocation, before the sender's stop margin.
    assert shape.message_seconds + STOP_MARGIN_SECONDS <= shape.timeout_seconds <= 900
    # AWS's guidance for SQS event sources, and the send records' lease (docs/campaigns.md, exactly once).
    assert shape.visibility_timeout_seconds >= 6 * shape.timeout_seconds
    assert shape.visibility_timeout_seconds > SenderConfig().lease.total_seconds()
    assert shape.timeout_seconds > 4 * SenderConfig().margin.total_seconds()


def test_the_constants_are_the_senders_and_the_planners() -> None:
    assert SenderConfig().margin.total_seconds() == STOP_MARGIN_SECONDS
    assert MESSAGE_SIZE == PAGE_SIZE
    assert LANES == MAX_LANES


def test_concurrency_never_falls_as_the_rate_rises() -> None:
    shapes = [sender_shape(rate) for rate in range(1, MAX_RATE + 1)]
    assert all(a.concurrency <= b.concurrency for a, b in itertools.pairwise(shapes))


@pytest.mark.parametrize("rate", [0, -1, MAX_RATE + 1])
def test_rates_outside_the_range_are_refused(rate: int) -> None:
    with pytest.raises(ValueError, match="1 to 1000"):
        sender_shape(rate)


def test_the_deployment_rate_is_the_configured_one_or_the_ceiling_when_it_is_the_accounts() -> None:
    assert deploy_rate({"campaignSendRate": "200", "campaignMaxSendRate": "14"}) == 200
    assert deploy_rate({"campaignSendRate": "0", "campaignMaxSendRate": "500"}) == 500
    assert deploy_rate(topology.CONTEXT_DEFAULTS) == send_shape.DEFAULT_MAX_RATE


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"campaignSendRate": "fast", "campaignMaxSendRate": "14"}, "campaignSendRate"),
        ({"campaignSendRate": "5000", "campaignMaxSendRate": "14"}, "campaignSendRate"),
        ({"campaignSendRate": "0", "campaignMaxSendRate": "0"}, "campaignMaxSendRate"),
        ({"campaignSendRate": "0", "campaignMaxSendRate": "1.5"}, "campaignMaxSendRate"),
    ],
)
def test_a_bad_context_value_is_refused_naming_its_key(context: dict[str, str], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        deploy_rate(context)


def test_the_declared_sender_is_the_default_contexts_and_a_context_reshapes_it() -> None:
    assert CAMPAIGNS.for_context(topology.CONTEXT_DEFAULTS) == CAMPAIGNS
    declared = topology.function(SENDER)
    assert declared.queue is not None
    assert (declared.queue.max_concurrency, declared.timeout_seconds) == (
        SENDER_SHAPE.concurrency,
        SENDER_SHAPE.timeout_seconds,
    )
    deployed = CAMPAIGNS.for_context({**topology.CONTEXT_DEFAULTS, "campaignSendRate": "1000"})
    (sender,) = [fn for fn in deployed.functions if fn.name == SENDER]
    assert sender.queue is not None
    assert (sender.queue.max_concurrency, sender.queue.batch_size, sender.reserved_concurrency) == (20, 1, 20)
    assert sender.env["SENDER_LANES"] == "value:8"
    assert declared.env["SENDER_LANES"] == f"value:{SENDER_SHAPE.lanes}"
    # Nothing else moves.
    others = [fn for fn in deployed.functions if fn.name != SENDER]
    assert others == [fn for fn in CAMPAIGNS.functions if fn.name != SENDER]
