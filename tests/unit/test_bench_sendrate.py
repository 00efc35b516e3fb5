"""unit: the deployed-shape simulation of `make bench ONLY=sendrate` keeps SQS's and the clock's rules
(the bench is not in the suite; what it stands on is checked here, on a small run)."""

from __future__ import annotations

import itertools

from ecrm.campaigns.models import SendBatch

from tests.bench.bench_sendrate import MAX_RECEIVES, SimulatedClock, SimulatedSqs, simulate


def test_the_clock_moves_only_when_every_thread_waits_and_to_the_earliest_wakeup() -> None:
    clock = SimulatedClock(1000.0)
    seen: list[tuple[str, float]] = []

    def sleeper(name: str, seconds: float) -> None:
        clock.sleep(seconds)
        seen.append((name, clock.time()))

    clock.run([lambda: sleeper("late", 2.5), lambda: sleeper("early", 0.5)])
    assert seen == [("early", 1000.5), ("late", 1002.5)]


def test_a_message_not_deleted_comes_back_after_its_visibility_timeout_and_then_goes_to_the_dlq() -> None:
    clock = SimulatedClock(0.0)
    sqs = SimulatedSqs(clock, visibility=720, double=0.0)
    sqs.enqueue([SendBatch(campaign_id="c", run_id="once", batch="0", contact_ids=["0" * 32])])
    receives: list[float] = []

    def consumer() -> None:
        while not sqs.empty():
            if sqs.receive() is None:
                clock.sleep(60)
                continue
            receives.append(clock.time())  # and never deleted: a failed batch

    clock.run([consumer])
    assert len(receives) == MAX_RECEIVES and len(sqs.dead) == 1
    assert all(b - a >= 720 for a, b in itertools.pairwise(receives))


def test_a_small_run_mails_every_eligible_contact_once_at_the_rate() -> None:
    figures = simulate(rate=14, recipients=200, tag="unit")
    mailed = figures.mailed()
    assert len(mailed) == figures.eligible and set(mailed.values()) == {1}
    assert figures.dead == 0
    assert figures.tokens_max <= 14  # the shared limiter granted at most the rate in any second
