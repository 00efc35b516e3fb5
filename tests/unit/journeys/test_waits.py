"""`wait_until`: the next of some weekdays at a time of day, in the contact's zone or the journey's."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from ecrm.journeys.waits import next_slot, valid_zone, zone

PARIS = ZoneInfo("Europe/Paris")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "weekdays", "at", "tz", "expected"),
    [
        pytest.param(MONDAY_9, ["wed"], time(10), UTC, datetime(2026, 3, 4, 10, tzinfo=UTC), id="a later weekday"),
        pytest.param(
            MONDAY_9, ["tue", "fri"], time(8), UTC, datetime(2026, 3, 3, 8, tzinfo=UTC), id="the first of two"
        ),
        pytest.param(MONDAY_9, ["mon"], time(10), UTC, datetime(2026, 3, 2, 10, tzinfo=UTC), id="today, later"),
        pytest.param(
            MONDAY_9, ["mon"], time(8), UTC, datetime(2026, 3, 9, 8, tzinfo=UTC), id="today, earlier: next week"
        ),
        pytest.param(MONDAY_9, ["mon"], time(9), UTC, datetime(2026, 3, 9, 9, tzinfo=UTC), id="now exactly: next week"),
        pytest.param(
            datetime(2026, 3, 8, 12, tzinfo=UTC),
            ["sun", "mon"],
            time(9),
            UTC,
            datetime(2026, 3, 9, 9, tzinfo=UTC),
            id="across the week's end",
        ),
        pytest.param(
            MONDAY_9,
            ["mon"],
            time(10),
            PARIS,
            datetime(2026, 3, 9, 9, tzinfo=UTC),
            id="Paris: 10:00 today has passed (it is 10:00)",
        ),
        pytest.param(
            datetime(2026, 3, 2, 2, tzinfo=UTC),
            ["mon"],
            time(8),
            ZoneInfo("America/New_York"),
            datetime(2026, 3, 2, 13, tzinfo=UTC),
            id="New York: still Sunday evening there",
        ),
        pytest.param(
            datetime(2026, 3, 28, 12, tzinfo=UTC),
            ["sun"],
            time(9),
            PARIS,
            datetime(2026, 3, 29, 7, tzinfo=UTC),
            id="DST: the Sunday it starts",
        ),
        pytest.param(
            datetime(2026, 3, 27, 12, tzinfo=UTC),
            ["mon"],
            time(9),
            PARIS,
            datetime(2026, 3, 30, 7, tzinfo=UTC),
            id="DST: the Monday after",
        ),
        pytest.param(
            datetime(2026, 3, 20, 12, tzinfo=UTC),
            ["mon"],
            time(9),
            PARIS,
            datetime(2026, 3, 23, 8, tzinfo=UTC),
            id="DST: the Monday before",
        ),
        pytest.param(
            datetime(2026, 3, 28, 12, tzinfo=UTC),
            ["sun"],
            time(2, 30),
            PARIS,
            datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
            id="DST: a skipped 02:30 maps forward to 03:30",
        ),
        pytest.param(
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            ["sun"],
            time(2, 30),
            PARIS,
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            id="DST ends: a twice-seen 02:30 is the first",
        ),
    ],
)
def test_next_slot(now: datetime, weekdays: list[str], at: time, tz: ZoneInfo, expected: datetime) -> None:
    slot = next_slot(now, weekdays, at, tz)
    assert slot == expected
    assert slot.tzinfo == now.tzinfo
    assert slot > now


def test_every_weekday_gives_a_slot_within_a_week() -> None:
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        slot = next_slot(MONDAY_9, [day], time(9), PARIS)
        assert MONDAY_9 < slot <= datetime(2026, 3, 9, 9, tzinfo=UTC)
        assert slot.astimezone(PARIS).strftime("%a").lower() == day


@pytest.mark.parametrize(
    ("named", "fallback", "expected"),
    [
        ("Europe/Berlin", "Europe/Paris", "Europe/Berlin"),
        (None, "Europe/Paris", "Europe/Paris"),
        ("", "Europe/Paris", "Europe/Paris"),
        ("Not/AZone", "Europe/Paris", "Europe/Paris"),
        ("EST", "America/New_York", "America/New_York"),
        ("../etc/passwd", "Europe/Paris", "Europe/Paris"),
        (None, "Mars/Olympus", "UTC"),
    ],
)
def test_zone_falls_back_to_the_journeys(named: str | None, fallback: str, expected: str) -> None:
    assert zone(named, fallback) == ZoneInfo(expected)


@pytest.mark.parametrize(
    ("name", "valid"),
    [("UTC", True), ("Europe/Paris", True), ("EST", False), ("Europe/Nowhere", False), ("", False), ("/etc", False)],
)
def test_valid_zone(name: str, valid: bool) -> None:
    assert valid_zone(name) is valid
