"""EventBridge `rate()` and `cron()` expressions: when is the next run due? (at() is in schedules.py.)"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    n: i for i, n in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
_WEEKDAYS = {n: i for i, n in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}  # EventBridge: SUN=1
# (low, high, names) per field: minutes hours day-of-month month day-of-week year
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (1, 7, _WEEKDAYS),
    (1970, 2199, {}),
)
MAX_LOOKAHEAD = timedelta(days=366)


def rate_seconds(expression: str) -> int | None:
    found = _RATE.match(expression.strip())
    if not found:
        return None
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2).rstrip("s")]


def _number(text: str, names: dict[str, int]) -> int:
    return names[text.upper()] if text.upper() in names else int(text)  # L, W and # raise: unsupported


def _field_values(field: str, low: int, high: int, names: dict[str, int]) -> frozenset[int] | None:
    """The values a field allows, or None for any (`*`, `?`)."""
    if field in ("*", "?"):
        return None
    values: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _number(first, names), _number(last, names)
        else:
            start = _number(base, names)
            end = high if step else start
        values.update(range(start, end + 1, int(step or 1)))
    return frozenset(values)


class Cron:
    """A parsed `cron(min hour dom month dow year)`; ValueError for what it does not support."""

    def __init__(self, expression: str) -> None:
        inner = expression.strip()
        if not (inner.startswith("cron(") and inner.endswith(")")):
            raise ValueError(f"not a cron expression: {expression}")
        fields = inner[5:-1].split()
        if len(fields) != 6:
            raise ValueError(f"cron needs 6 fields: {expression}")
        self._sets = [_field_values(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _FIELDS, strict=True)]

    def _allows(self, index: int, value: int) -> bool:
        allowed = self._sets[index]
        return allowed is None or value in allowed

    def _day_matches(self, moment: datetime) -> bool:
        weekday = moment.isoweekday() % 7 + 1
        return (
            self._allows(2, moment.day)
            and self._allows(3, moment.month)
            and self._allows(4, weekday)
            and self._allows(5, moment.year)
        )

    def next_after(self, after: datetime) -> datetime | None:
        """The first run strictly after `after` (same tz), within a year; None if there is none."""
        moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = after + MAX_LOOKAHEAD
        while moment <= limit:
            if not self._day_matches(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            elif self._allows(0, moment.minute) and self._allows(1, moment.hour):
                return moment
            else:
                moment += timedelta(minutes=1)
        return None
