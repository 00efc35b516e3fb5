"""The Clock port: every 'now' in the domain comes from here, so tests and the local stack can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class MovableClock(Clock, Protocol):
    """A clock the local stack and the tests move; Lambda code only reads a Clock."""

    def advance(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time in UTC, shifted by an offset that only the local stack ever moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class FixedClock:
    """A clock that stands still until told to move (tests)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


# One process-wide clock the composition roots hand to services. In Lambda nothing moves it;
# `ecrm local` runs handlers in-process and advances this same object (POST /_local/clock).
SYSTEM_CLOCK = SystemClock()
