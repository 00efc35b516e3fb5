"""When a wait ends: a duration from now, or the next of some weekdays at a time of day in a zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ecrm.journeys.models import WEEKDAYS


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The contact's zone when it names a real one, else the journey's."""
    for candidate in (name, fallback):
        if candidate and valid_zone(candidate):
            return ZoneInfo(candidate)
    return ZoneInfo("UTC")


def valid_zone(name: str) -> bool:
    if "/" not in name and name != "UTC":
        return False  # "EST" and friends exist but mean little: an IANA region/city
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in _zones()


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def next_slot(now: datetime, weekdays: list[str], at: time, tz: ZoneInfo) -> datetime:
    """The first moment after `now` that is one of `weekdays` at `at` local time, in UTC. A local
    time skipped by a daylight-saving change is taken as it maps forward (zoneinfo's fold=0)."""
    local = now.astimezone(tz)
    days = {WEEKDAYS.index(d) for d in weekdays}
    for ahead in range(8):
        day = (local + timedelta(days=ahead)).date()
        if day.weekday() not in days:
            continue
        candidate = datetime.combine(day, at, tzinfo=tz)
        if candidate > local:
            return candidate.astimezone(now.tzinfo)
    raise AssertionError("a week always holds one of the weekdays")  # pragma: no cover
