"""Calendar months in UTC: the grain of lots (points earned in one month expire together) and of
the tier window's buckets. A month is named "YYYY-MM" so that names sort in time order."""

from __future__ import annotations

from datetime import UTC, datetime


def month_of(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"


def index(month: str) -> int:
    """Months since year 0: consecutive months have consecutive indexes."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def name(month_index: int) -> str:
    return f"{month_index // 12:04d}-{month_index % 12 + 1:02d}"


def start(month_index: int) -> datetime:
    return datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=UTC)


def shift(month: str, months: int) -> str:
    return name(index(month) + months)
