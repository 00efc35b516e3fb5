"""unit: business-time arithmetic across time zones, DST changes and holidays."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ecrm.cases.calendar import BusinessCalendar
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Australia/Lord_Howe"]
H = timedelta(hours=1)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone)


# --- examples that pin the rules down ---------------------------------------------------------


def test_friday_afternoon_plus_two_hours_is_monday_morning_across_the_spring_dst_change():
    cal = BusinessCalendar(timezone="Europe/Berlin")
    start = local(BERLIN, 2026, 3, 27, 16)  # Friday 16:00 CET; clocks go forward on Sunday the 29th
    due = cal.add(start, 2 * H)
    assert due == local(BERLIN, 2026, 3, 30, 10)  # Monday 10:00 CEST
    assert due.utcoffset() == timedelta(0) and due == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert cal.elapsed(start, due) == 2 * H


def test_a_working_day_is_its_hours_long_on_dst_days_while_a_24x7_day_is_23_or_25_hours():
    hours = BusinessCalendar(timezone="America/New_York", weekdays=frozenset(range(7)))
    around = BusinessCalendar.always_open("America/New_York")
    for day, clock_day in ((date(2026, 3, 8), 23), (date(2026, 11, 1), 25), (date(2026, 6, 7), 24)):
        start = local(NEW_YORK, day.year, day.month, day.day)
        end = start.astimezone(UTC) + timedelta(hours=clock_day)
        assert end.astimezone(NEW_YORK).hour == 0  # the next local midnight
        assert hours.elapsed(start, end) == 8 * H
        assert around.elapsed(start, end) == clock_day * H


def test_holidays_and_weekends_are_skipped():
    cal = BusinessCalendar(timezone="Europe/Berlin", holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    start = local(BERLIN, 2026, 12, 23, 16)  # Wednesday; Thu and Fri are holidays
    assert cal.add(start, 2 * H) == local(BERLIN, 2026, 12, 28, 10)
    assert cal.elapsed(start, local(BERLIN, 2026, 12, 28, 10)) == 2 * H


def test_using_a_day_up_exactly_ends_at_closing_and_zero_is_the_start_itself():
    cal = BusinessCalendar(timezone="UTC")
    monday_nine = datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert cal.add(monday_nine, 8 * H) == datetime(2026, 6, 1, 17, tzinfo=UTC)
    assert cal.add(monday_nine, 8 * H + timedelta(seconds=1)) == datetime(2026, 6, 2, 9, 0, 1, tzinfo=UTC)
    saturday = datetime(2026, 6, 6, 12, tzinfo=UTC)
    assert cal.add(saturday, timedelta(0)) == saturday
    assert cal.add(saturday, timedelta(minutes=1)) == datetime(2026, 6, 8, 9, 1, tzinfo=UTC)
    assert cal.elapsed(saturday, monday_nine) == timedelta(0)  # end before start
    with pytest.raises(ValueError, match="negative"):
        cal.add(saturday, -H)


def test_a_24x7_calendar_is_plain_elapsed_time():
    cal = BusinessCalendar.always_open()
    start = datetime(2026, 6, 6, 23, 30, tzinfo=UTC)
    assert cal.add(start, 49 * H) == start + 49 * H
    assert cal.is_open(start)


def test_a_long_amount_steps_by_day_not_by_minute():
    cal = BusinessCalendar(timezone="Europe/Berlin")
    start = local(BERLIN, 2026, 1, 5, 9)
    due = cal.add(start, 8 * H * 250)  # about a working year
    assert due.year == 2026 and due.month == 12
    assert cal.elapsed(start, due) == 8 * H * 250


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"opens": "9am"}, "opens"),
        ({"closes": "24:30"}, "closes"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [7]}, "weekdays"),
        ({"holidays": ["2026-13-01"]}, "holidays"),
    ],
)
def test_bad_calendars_name_the_field(fields, field):
    with pytest.raises(ValidationError) as info:
        BusinessCalendar.model_validate(fields)
    assert info.value.errors()[0]["loc"][0] == field


def test_opening_must_come_before_closing():
    with pytest.raises(ValidationError, match="opens must be earlier than closes"):
        BusinessCalendar(opens="17:00", closes="09:00")


# --- properties ---------------------------------------------------------------------------------

HOURS = st.sampled_from([(0, 24), (8, 17), (9, 17), (7, 19), (10, 22), (6, 14), (0, 12), (12, 24)])


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    opens, closes = draw(HOURS)
    minutes = draw(st.sampled_from([0, 30])) if opens > 0 else 0
    holidays = draw(st.frozensets(st.dates(date(2025, 12, 1), date(2027, 2, 1)), max_size=12))
    return BusinessCalendar(
        timezone=draw(st.sampled_from(ZONES)),
        weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        opens=f"{opens:02d}:{minutes:02d}",
        closes=f"{closes:02d}:00",
        holidays=holidays,
    )


INSTANTS = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))
AMOUNTS = st.timedeltas(timedelta(0), timedelta(days=20))
PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(calendars(), INSTANTS, AMOUNTS)
def test_add_then_elapsed_round_trips(cal, start, amount):
    due = cal.add(start, amount)
    assert due >= start
    assert cal.elapsed(start, due) == amount


@PROPERTY
@given(calendars(), INSTANTS, AMOUNTS, AMOUNTS)
def test_add_is_monotonic_and_additive(cal, start, a, b):
    small, large = sorted((a, b))
    assert cal.add(start, small) <= cal.add(start, large)
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@PROPERTY
@given(calendars(), INSTANTS, AMOUNTS)
def test_a_positive_amount_ends_inside_business_hours_or_at_a_closing_time(cal, start, amount):
    due = cal.add(start, amount + timedelta(seconds=1))
    just_before = due - timedelta(microseconds=1)
    assert cal.is_open(just_before)


@PROPERTY
@given(calendars(), INSTANTS, st.timedeltas(timedelta(0), timedelta(days=30)), st.floats(0, 1))
def test_elapsed_adds_up_over_a_split_and_never_exceeds_wall_time(cal, start, span, split):
    end = start + span
    middle = start + span * split
    assert cal.elapsed(start, end) == cal.elapsed(start, middle) + cal.elapsed(middle, end)
    assert timedelta(0) <= cal.elapsed(start, end) <= span


QUARTER = timedelta(minutes=15)


def _oracle(cal: BusinessCalendar, start: datetime, steps: int) -> timedelta:
    """Count open quarter hours one by one from the local wall clock: slow, but obviously right."""
    zone = ZoneInfo(cal.timezone)
    opens, closes = (int(t[:2]) * 60 + int(t[3:]) for t in (cal.opens, cal.closes))
    total = timedelta(0)
    for n in range(steps):
        wall = (start + n * QUARTER).astimezone(zone)
        minute = wall.hour * 60 + wall.minute
        if wall.weekday() in cal.weekdays and wall.date() not in cal.holidays and opens <= minute < closes:
            total += QUARTER
    return total


# Fridays before the 2026 clock changes (Europe, US, Australia) and an ordinary one.
DST_DAYS = st.sampled_from(
    [datetime(2026, m, d, tzinfo=UTC) for m, d in ((3, 27), (3, 6), (10, 23), (10, 30), (4, 3), (6, 12))]
)


@settings(max_examples=60, deadline=None)
@given(calendars(), DST_DAYS, st.integers(0, 95), st.integers(0, 4 * 24 * 4))
def test_elapsed_matches_counting_quarter_hours_around_dst_changes(cal, day, offset, steps):
    # Opening hours here never fall inside a clock change (which happens at night), as in real life.
    start = day + offset * QUARTER
    assert cal.elapsed(start, start + steps * QUARTER) == _oracle(cal, start, steps)
