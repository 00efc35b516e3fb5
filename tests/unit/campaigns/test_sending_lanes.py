"""unit: a sender's lanes (decision 101) — recipients of one message worked on at once, in real
threads, with the guarantees of one lane: each contact at most one mail, a stopped account or a
failed lane leaves the rest for the redelivery, and two deliveries of one message at once still
mail each contact once."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest
from ecrm.campaigns.errors import SendingPaused
from ecrm.campaigns.sending import SenderConfig, in_threads
from ecrm.mail import Mail

from tests.unit.campaigns.fakes import Crash
from tests.unit.campaigns.test_sending import live_campaign
from tests.unit.campaigns.world import World, make_contact

LANES = 4


class ConcurrentSes:
    """SES as lanes meet it: calls overlap. The first `meet` calls wait for one another (proof that
    the lanes are at work at once); `fail_at` (1-based) raises instead of accepting that call."""

    def __init__(self, meet: int = 0, fail_at: dict[int, BaseException] | None = None) -> None:
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(meet, timeout=10) if meet else None
        self._fail_at = fail_at or {}
        self.calls = 0
        self.in_flight = self.most_in_flight = 0
        self.sent: list[str] = []

    def send(self, mail: Mail, tags: Mapping[str, str]) -> str:
        with self._lock:
            self.calls += 1
            call = self.calls
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self._barrier is not None and call <= self._barrier.parties:
                self._barrier.wait()
            if call in self._fail_at:
                raise self._fail_at[call]
            with self._lock:
                self.sent.append(mail.to)
                return f"ses-{len(self.sent)}"
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def world() -> World:
    return World(config=SenderConfig(lanes=LANES))


def test_lanes_work_on_recipients_at_once_and_mail_each_once(world: World) -> None:
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 31)))
    cid = live_campaign(world)
    ses = ConcurrentSes(meet=LANES)  # would time out (BrokenBarrierError) if the lanes ran one by one
    result = world.sender(ses=ses).send(world.one_batch(*(c.id for c in contacts), campaign_id=cid), world.deadline())
    assert result.complete and sorted(result.ids("sent")) == sorted(c.id for c in contacts)
    assert ses.most_in_flight == LANES
    assert sorted(ses.sent) == sorted(c.email for c in contacts)
    assert world.stats.get(cid).total.sent == 30
    assert {r.status for r in world.records.records.values()} == {"sent"}


def test_a_paused_account_stops_every_lane_and_the_redelivery_sends_the_rest_once(world: World) -> None:
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 31)))
    cid = live_campaign(world)
    batch = world.one_batch(*(c.id for c in contacts), campaign_id=cid)
    ses = ConcurrentSes(fail_at={6: SendingPaused("daily quota used up")})
    first = world.sender(ses=ses).send(batch, world.deadline())
    # The lanes take nothing after the pause: at most the calls already under way finish.
    assert not first.complete
    assert 5 <= len(first.ids("sent")) <= 5 + LANES - 1
    assert len(first.ids("sent")) + len(first.ids("retry")) == 30
    assert ses.calls == len(first.ids("sent")) + 1

    again = ConcurrentSes()
    second = world.sender(ses=again).send(batch, world.deadline())
    assert second.complete
    assert sorted(second.ids("sent")) == sorted(first.ids("retry"))
    assert sorted(ses.sent + again.sent) == sorted(c.email for c in contacts)  # each exactly once


def test_a_failed_lane_fails_the_message_and_no_contact_is_mailed_twice(world: World) -> None:
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 21)))
    cid = live_campaign(world)
    batch = world.one_batch(*(c.id for c in contacts), campaign_id=cid)
    ses = ConcurrentSes(fail_at={3: Crash("the connection died mid-call")})
    with pytest.raises(Crash):
        world.sender(ses=ses).send(batch, world.deadline())
    # The other lanes finished what they had and took no more.
    assert len(ses.sent) <= 2 + LANES - 1

    world.clock.advance(world.config.lease.total_seconds() + 1)  # the failed call's claim is in doubt
    again = ConcurrentSes()
    result = world.sender(ses=again).send(batch, world.deadline())
    assert result.complete and len(result.ids("unknown")) == 1  # never resent: SES may have it
    mailed = ses.sent + again.sent
    assert len(mailed) == len(set(mailed)) == 19


def test_two_deliveries_of_one_message_at_once_mail_each_contact_once(world: World) -> None:
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 41)))
    cid = live_campaign(world)
    batch = world.one_batch(*(c.id for c in contacts), campaign_id=cid)
    ses = ConcurrentSes()
    results = []

    def deliver() -> None:
        results.append(world.sender(ses=ses).send(batch, world.deadline()))

    in_threads([deliver, deliver])
    assert sorted(ses.sent) == sorted(c.email for c in contacts)  # each exactly once
    assert sum(len(r.ids("sent")) for r in results) == 40
    for result in results:  # what the other had claimed is done, or open (retried later)
        assert set(result.outcomes.values()) <= {"sent", "done", "retry"}


def test_in_threads_runs_every_body_and_raises_the_first_failure() -> None:
    ran: list[int] = []

    def ok(n: int) -> None:
        ran.append(n)

    def fails() -> None:
        raise ValueError("lane 2")

    with pytest.raises(ValueError, match="lane 2"):
        in_threads([lambda: ok(1), fails, lambda: ok(3)])
    assert sorted(ran) == [1, 3]


def test_a_sender_needs_a_lane() -> None:
    with pytest.raises(ValueError, match="at least one lane"):
        SenderConfig(lanes=0)
