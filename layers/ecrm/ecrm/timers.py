"""The Timers port: per-entity deadlines (an SLA milestone, a campaign's send time, a lot of points
expiring) as one-time timers that deliver a JSON payload to a queue when they come due.

Timers are set and cancelled by business name, so setting one twice moves it and cancelling one
that has fired (or never existed) is harmless. A timer may still fire after it was moved or
cancelled (a race with the fire itself), so every consumer checks its payload against the current
state (a version, a status) and does nothing when the timer is stale.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

_NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")

# Arming a timer around a write: a timer set BEFORE the write it belongs to never fires sooner than
# this (longer than any function that sets timers may run, checked in tests/infra), so its consumer
# cannot see it before the write has happened or failed for good; after the write, a timer due
# sooner is set again at its real time (a time already past goes straight to the queue). A crash
# between the two then delays the timer by this margin at most; it never loses it.
ARMING_MARGIN = timedelta(minutes=3)


def timer_name(*parts: str) -> str:
    """A Scheduler-safe name (1-64 of [0-9A-Za-z_.-]) from business-key parts; long keys are hashed."""
    name = re.sub(r"[^0-9A-Za-z_.-]", "_", "-".join(parts))
    if len(name) <= 64:
        return name
    return f"{name[:31]}-{hashlib.sha256(name.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class Timer:
    name: str
    at: datetime  # timezone-aware
    payload: dict[str, Any]

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"timer name {self.name!r} must be 1-64 of [0-9A-Za-z_.-]")
        if self.at.tzinfo is None:
            raise ValueError("timer time must be timezone-aware")


class Timers(Protocol):
    def set(self, timer: Timer) -> None:
        """Create the timer, or move it if one of that name exists. A time already past fires now."""
        ...

    def cancel(self, name: str) -> None:
        """Remove the timer; a timer that fired already or never existed is no error."""
        ...


@dataclass(frozen=True)
class Recurrence:
    """A recurring timer: an EventBridge Scheduler `cron(...)` expression evaluated in a time zone."""

    name: str
    cron: str  # cron(min hour day-of-month month day-of-week year)
    timezone: str
    payload: dict[str, Any]
    start: datetime | None = None
    end: datetime | None = None


class RecurringTimers(Protocol):
    def set_recurring(self, recurrence: Recurrence) -> None: ...
    def cancel(self, name: str) -> None: ...
