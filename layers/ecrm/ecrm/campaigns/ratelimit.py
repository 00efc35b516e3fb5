"""One send rate shared by every concurrent sender, and backoff when the provider throttles anyway.

The rate is enforced per wall-clock second: each second is a *slot* counter in the store (a
DynamoDB item per second, conditionally incremented, expiring soon after). A sender takes a few
tokens at a time from the current slot; a slot never admits more than `rate` in total, whoever
asks. Tokens are good only within their second: one not used before the second ends is dropped,
never carried into the next, so the number of provider calls *started* in any second is at most
`rate`, however many senders run and however slow each call is. A sender that knows its own pace
(`Pace`) asks only for the tokens it can spend before the second ends: with a hundred senders each
holding a few unusable tokens at every boundary, a tenth of the rate would otherwise be dropped.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ecrm.campaigns.ports import RateSlotStore
from ecrm.clock import Clock


class Sleeper(Protocol):
    def sleep(self, seconds: float) -> None: ...


def slot_of(at: datetime) -> int:
    return math.floor(at.timestamp())


@dataclass(frozen=True)
class Grant:
    count: int
    slot: int

    def valid(self, now: datetime) -> bool:
        return self.count > 0 and slot_of(now) == self.slot

    def spend(self) -> Grant:
        return Grant(self.count - 1, self.slot)


class RateLimiter:
    def __init__(self, slots: RateSlotStore, clock: Clock, rate: int, chunk: int = 5) -> None:
        if rate < 1 or chunk < 1:
            raise ValueError("rate and chunk must be at least 1")
        self._slots = slots
        self._clock = clock
        self.rate = rate
        # Tokens taken per store write. Small chunks waste little when a second ends mid-chunk;
        # large ones cost fewer writes. A sender making a call every ~100 ms wants about 5.
        self._chunk = chunk

    def try_acquire(self, wanted: int, pace: float | None = None) -> Grant:
        """Up to `wanted` tokens of the current second (possibly none). Never waits. With `pace`
        (seconds the caller spends per token), no more than it can spend before the second ends."""
        now = self._clock.now()
        slot = slot_of(now)
        want = min(wanted, self._chunk, self.rate)
        if pace:
            left = slot + 1 - now.timestamp()
            want = max(1, min(want, math.floor(left / pace + 1e-9)))
        while want > 0:
            taken = self._slots.take(slot, want, self.rate)
            if taken.granted:
                return Grant(want, slot)
            # Refused: fewer than `want` are left. Ask for what is left; this strictly shrinks.
            want = min(want - 1, self.rate - taken.used)
        return Grant(0, slot)

    def acquire(self, wanted: int, sleeper: Sleeper, deadline: datetime, pace: float | None = None) -> Grant:
        """Tokens from the first second that has some, waiting for second boundaries; an empty
        grant if none came before `deadline` (the caller then hands the work back to the queue)."""
        while True:
            grant = self.try_acquire(wanted, pace)
            if grant.count:
                return grant
            now = self._clock.now()
            wake = datetime.fromtimestamp(grant.slot + 1, tz=now.tzinfo)
            if wake >= deadline:
                return grant
            sleeper.sleep(max((wake - now).total_seconds(), 0.001))


class Pace:
    """One sender's seconds of work per token: from spending a token to asking for the next (the
    claim, the SES call, the completion, the next render), averaged over recent mails. Waits are not
    work: a token wait comes after the asking, and a backoff sleep is announced (`paused`)."""

    WEIGHT = 0.2  # of the newest sample
    LONGEST = 1.0  # a longer gap is not one mail's work (a new batch, a new invocation)

    def __init__(self) -> None:
        self.seconds: float | None = None
        self._spent_at: datetime | None = None

    def asking(self, now: datetime) -> None:
        if self._spent_at is None:
            return
        sample = (now - self._spent_at).total_seconds()
        self._spent_at = None
        if 0 < sample < self.LONGEST:
            self.seconds = sample if self.seconds is None else (1 - self.WEIGHT) * self.seconds + self.WEIGHT * sample

    def spent(self, now: datetime) -> None:
        self._spent_at = now

    def paused(self) -> None:
        self._spent_at = None


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter for provider throttling the limiter did not prevent
    (another system sharing the account, a quota lowered under us)."""

    base: float = 0.2
    cap: float = 5.0
    attempts: int = 5

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))
