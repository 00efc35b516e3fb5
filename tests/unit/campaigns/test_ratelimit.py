"""unit: the shared send rate — never more than `rate` SES calls started in any second, however
many senders run; throttling retried with jittered backoff; nothing lost. Virtual time only."""

import heapq
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from ecrm.campaigns.ratelimit import Backoff, Grant, Pace, RateLimiter, slot_of
from ecrm.clock import FixedClock

from tests.unit.campaigns.fakes import FakeSes, MemorySlots, SleepingClock, ThrottlingSes
from tests.unit.campaigns.world import T0, World, make_contact


def test_a_slot_never_grants_more_than_the_rate():
    slots, clock = MemorySlots(), FixedClock(T0)
    limiter = RateLimiter(slots, clock, rate=12, chunk=5)
    grants = [limiter.try_acquire(5).count for _ in range(5)]
    assert grants == [5, 5, 2, 0, 0]  # the last chunk is cut to what is left
    clock.advance(1)
    assert limiter.try_acquire(5).count == 5  # a new second, a new slot


def test_tokens_expire_with_their_second():
    clock = FixedClock(T0)
    grant = RateLimiter(MemorySlots(), clock, rate=10).try_acquire(3)
    assert grant.valid(clock.now())
    clock.advance(0.999)
    assert grant.valid(clock.now())
    clock.advance(0.001)
    assert not grant.valid(clock.now())  # unused tokens are not carried into the next second
    assert not Grant(0, slot_of(clock.now())).valid(clock.now())


def test_threads_racing_for_one_second_get_exactly_the_rate():
    slots, clock = MemorySlots(), FixedClock(T0)

    def take_all(_):
        limiter = RateLimiter(slots, clock, rate=97, chunk=3)
        return sum(iter(lambda: limiter.try_acquire(3).count, 0))

    with ThreadPoolExecutor(16) as pool:
        taken = sum(pool.map(take_all, range(16)))
    assert taken == 97 and slots.used[slot_of(T0)] == 97


def test_acquire_waits_for_the_next_second_and_gives_up_at_the_deadline():
    clock = SleepingClock(T0 + timedelta(milliseconds=300))
    limiter = RateLimiter(MemorySlots(), clock, rate=2)
    assert limiter.acquire(5, clock, clock.now() + timedelta(seconds=10)).count == 2
    grant = limiter.acquire(5, clock, clock.now() + timedelta(seconds=10))
    assert grant.count == 2 and clock.now() == T0 + timedelta(seconds=1)  # slept 0.7 s to the boundary
    limiter.try_acquire(2)
    assert limiter.acquire(1, clock, clock.now() + timedelta(milliseconds=500)).count == 0


def test_a_paced_request_takes_only_what_it_can_spend_before_the_second_ends():
    slots, clock = MemorySlots(), FixedClock(T0 + timedelta(milliseconds=100))
    limiter = RateLimiter(slots, clock, rate=100, chunk=5)
    assert limiter.try_acquire(5, pace=0.1).count == 5  # 0.9 s left: the chunk caps it
    clock.advance(0.65)
    assert limiter.try_acquire(5, pace=0.1).count == 2  # 0.25 s left at 0.1 s a mail
    clock.advance(0.2)
    assert limiter.try_acquire(5, pace=0.1).count == 1  # less than one mail's time left: still one
    assert limiter.try_acquire(5).count == 5  # no pace known: the chunk
    assert slots.used[slot_of(T0)] == 13


def test_a_senders_pace_is_its_work_between_tokens_not_its_waits():
    pace = Pace()
    pace.asking(T0)
    assert pace.seconds is None  # nothing spent yet
    pace.spent(T0)
    pace.asking(T0 + timedelta(milliseconds=100))
    assert pace.seconds == pytest.approx(0.1)
    pace.spent(T0 + timedelta(milliseconds=150))  # a token wait lies between asking and spending
    pace.asking(T0 + timedelta(milliseconds=350))
    assert pace.seconds == pytest.approx(0.8 * 0.1 + 0.2 * 0.2)
    pace.spent(T0 + timedelta(seconds=1))
    pace.paused()  # a throttled call's backoff
    pace.asking(T0 + timedelta(seconds=1, milliseconds=600))
    pace.spent(T0 + timedelta(seconds=2))
    pace.asking(T0 + timedelta(seconds=4))  # a new batch after a gap: not one mail's work
    assert pace.seconds == pytest.approx(0.12)


class _VirtualSender:
    """One concurrent sender in a discrete-event simulation: its own view of time, the shared slots."""

    def __init__(self, slots, rate, latency, chunk, paced=False):
        self.clock = FixedClock(T0)
        self.limiter = RateLimiter(slots, self.clock, rate=rate, chunk=chunk)
        self.latency = latency
        self.grant = Grant(0, 0)
        self.paced = paced

    def step(self, calls):
        now = self.clock.now()
        if not self.grant.valid(now):
            self.grant = self.limiter.try_acquire(10, self.latency if self.paced else None)
        if self.grant.count == 0:
            self.clock.at = now.replace(microsecond=0) + timedelta(seconds=1)  # wait for the next second
            return
        self.grant = self.grant.spend()
        calls.append(now)
        self.clock.advance(self.latency)


@pytest.mark.parametrize(
    ("senders", "rate", "latency", "chunk"), [(1, 5, 0.05, 5), (8, 50, 0.08, 3), (40, 200, 0.13, 5)]
)
def test_concurrent_senders_never_exceed_the_rate_in_any_second(senders, rate, latency, chunk):
    slots = MemorySlots()
    crowd = [_VirtualSender(slots, rate, latency * (1 + i / 50), chunk) for i in range(senders)]
    calls: list[datetime] = []
    queue = [(T0, i) for i in range(senders)]
    end = T0 + timedelta(seconds=20)
    while queue:
        at, i = heapq.heappop(queue)
        if at >= end:
            continue
        crowd[i].step(calls)
        heapq.heappush(queue, (crowd[i].clock.now(), i))
    per_second = Counter(slot_of(c) for c in calls)
    assert max(per_second.values()) <= rate
    capacity = min(rate, senders / latency)
    assert len(calls) / 20 >= 0.9 * capacity  # and the rate is used, not wasted


def test_paced_senders_use_the_rate_when_they_can_barely_exceed_it():
    """157 senders at 0.141 s a mail can make 1,113 calls a second against a rate of 1,000: asking
    for whole chunks, the tokens they hold at each second's end are dropped; paced, they are not."""

    def used(paced: bool) -> float:
        slots = MemorySlots()
        crowd = [_VirtualSender(slots, 1000, 0.141, 5, paced) for _ in range(157)]
        calls: list[datetime] = []
        queue = [(T0 + timedelta(milliseconds=i), i) for i in range(len(crowd))]
        end = T0 + timedelta(seconds=10)
        while queue:
            at, i = heapq.heappop(queue)
            if at >= end:
                continue
            crowd[i].clock.at = at
            crowd[i].step(calls)
            heapq.heappush(queue, (crowd[i].clock.now(), i))
        per_second = Counter(slot_of(c) for c in calls)
        assert max(per_second.values()) <= 1000
        return len(calls) / 10 / 1000

    assert used(paced=True) >= 0.97
    assert used(paced=False) < 0.95  # what the pace is for


class _SlowSes(FakeSes):
    """SES taking 0.3 s a call on the world's sleeping clock."""

    def __init__(self, clock: SleepingClock) -> None:
        super().__init__(clock)
        self.sleeping = clock

    def send(self, mail, tags):
        self.sleeping.sleep(0.3)
        return super().send(mail, tags)


def test_a_sender_takes_only_the_tokens_its_pace_lets_it_spend():
    world = World(rate=50, page_size=100)
    ses = _SlowSes(world.clock)
    world.add_contacts(*(make_contact(n) for n in range(1, 21)))
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment())
    world.service.schedule(cid)
    world.clock.advance(3600)
    world.fire_timers()
    world.deliver(sender=world.sender(ses=ses))
    assert len(ses.sent) == 20
    # Only the first chunk, taken before the sender knew its pace, may hold tokens it cannot spend
    # in their second; asking for whole chunks every second would drop 2 in most of the 6 seconds.
    assert sum(world.slots.used.values()) - len(ses.sent) <= 4


def test_backoff_is_full_jitter_within_its_cap():
    backoff, rng = Backoff(base=0.2, cap=1.0, attempts=6), random.Random(1)
    delays = [backoff.delay(a, rng) for a in range(6) for _ in range(50)]
    assert all(0 <= d <= 1.0 for d in delays)
    assert max(backoff.delay(0, rng) for _ in range(50)) <= 0.2
    assert len(set(delays)) > 200  # jittered, not lock-step


def test_an_ses_that_throttles_loses_and_duplicates_nothing():
    """The limiter is set above what SES accepts (a shared account): SES throttles, the sender
    backs off and hands unsent recipients back to the queue; in the end everyone has one mail."""
    world = World(rate=40, page_size=30)
    ses = ThrottlingSes(world.clock, rate=10)
    contacts = world.add_contacts(*(make_contact(n) for n in range(1, 121)))
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment())
    world.service.schedule(cid)
    world.clock.advance(3600)
    world.fire_timers()
    world.deliver(sender=world.sender(ses=ses), rounds=200)
    assert ses.throttled > 0
    assert Counter(ses.to()) == Counter(c.email for c in contacts)  # each exactly once
    assert max(ses.per_second.values()) <= 10
    assert world.campaigns[cid].status == "sent"


def test_limiter_at_the_ses_rate_avoids_throttling_entirely():
    world = World(rate=10, page_size=50)
    ses = ThrottlingSes(world.clock, rate=10)
    world.add_contacts(*(make_contact(n) for n in range(1, 101)))
    cid = world.campaign({"kind": "one_off", "at": "2026-11-24T09:00:00"}, world.segment())
    world.service.schedule(cid)
    world.clock.advance(3600)
    started = world.clock.now()
    world.fire_timers()
    world.deliver(sender=world.sender(ses=ses))
    elapsed = (world.clock.now() - started).total_seconds()
    assert ses.throttled == 0 and len(ses.sent) == 100
    assert 9 <= elapsed <= 11  # 100 mails at 10/s: the rate is used, not undercut
