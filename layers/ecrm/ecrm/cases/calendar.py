"""Business-hours calendars and business-time arithmetic.

A calendar opens once per working day, from `opens` to `closes` local time, in one IANA time zone;
holidays are local dates. Arithmetic walks the calendar window by window (one per working day), so
adding a week of business time costs a handful of steps, not ten thousand minutes.

Wall-clock times are turned into instants with `zoneinfo`, so a working day is as long as its hours
say even on the days the clocks change: 09:00-17:00 is eight hours in March and in October, while a
24-hour calendar's day is 23 or 25 hours long on those days. A local time that the clocks skip is
read with the offset in force before the change (Python's fold=0), which moves it later by the gap.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from ecrm.model import Model

ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)

# "24:00" is allowed as a closing time: midnight at the end of the day.
ClockTime = Annotated[str, StringConstraints(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class BusinessCalendar(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: Annotated[str, AfterValidator(_known_zone)] = "UTC"
    weekdays: frozenset[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=frozenset(range(5)), min_length=1, description="working days, Monday = 0"
    )
    opens: ClockTime = "09:00"
    closes: ClockTime = "17:00"
    holidays: frozenset[date] = frozenset()

    @model_validator(mode="after")
    def _opens_before_closes(self) -> Self:
        if _minutes(self.opens) >= _minutes(self.closes):
            raise ValueError("opens must be earlier than closes")
        return self

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """Around the clock, every day (24x7): business time is elapsed time."""
        return cls(timezone=timezone, weekdays=frozenset(range(7)), opens="00:00", closes="24:00")

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when `amount` of business time has passed since `start` (UTC).

        Zero is `start` itself, in or out of hours; an amount that uses a day's hours up exactly
        ends at that day's closing time, not at the next opening.
        """
        if amount < ZERO:
            raise ValueError("amount must not be negative")
        if amount == ZERO:
            return start.astimezone(UTC)
        remaining = amount
        for opens, closes in self._windows(start):
            begin = max(opens, start)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return (begin + remaining).astimezone(UTC)
            remaining -= closes - begin
        raise AssertionError("unreachable: a calendar with working days has windows forever")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants; zero when `end` is not after `start`."""
        total = ZERO
        if end <= start:
            return total
        for opens, closes in self._windows(start):
            if opens >= end:
                break
            total += max(min(closes, end) - max(opens, start), ZERO)
        return total

    def is_open(self, instant: datetime) -> bool:
        opens, closes = next(self._windows(instant))
        return opens <= instant < closes

    def _windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening windows in UTC, in order and disjoint, beginning with the local day of `start`."""
        if start.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        day = start.astimezone(self._zone).date()
        previous_close: datetime | None = None
        while True:
            window = self._window(day)
            day += _ONE_DAY
            if window is None:
                continue
            opens, closes = window
            if previous_close is not None:
                # Only odd hours right beside a clock change could make two days' windows touch.
                opens = max(opens, previous_close)
            if opens < closes:
                previous_close = closes
                yield opens, closes

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        return self._instant(day, _minutes(self.opens)), self._instant(day, _minutes(self.closes))

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes == 24 * 60:
            day, minutes = day + _ONE_DAY, 0
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self._zone)
        return local.astimezone(UTC)
