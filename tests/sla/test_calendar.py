"""Business calendars (app.sla.calendar) against hand-computed tables.

Every expected value below was worked out by hand from the rules (shifts are local wall-clock
times; a holiday has no working time; a target ending at a shift's end is due then), not by
running the code. Instants are written in the calendar's zone; UTC equivalents are in comments
where a daylight-saving change makes them matter.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.sla.calendar import Calendar, CalendarError, parse_hhmm, weekdays

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def clean_tables():
    """Pure module: no application and no database (overrides tests/conftest.py's)."""
    yield


def at(day: str, hhmm: str, zone: ZoneInfo = MADRID) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=zone)


def utc(day: str, hhmm: str) -> datetime:
    return at(day, hhmm, UTC)


def office(zone: str = "Europe/Madrid", **kwargs) -> Calendar:
    return Calendar(zone, weekdays("08:00", "18:00"), **kwargs)


SPLIT = ((480, 720), (840, 1080))                       # 08:00-12:00, 14:00-18:00
ALL_DAY = ((0, 1440),)
NIGHT = ((0, 360),)                                      # 00:00-06:00
LATE = ((0, 120), (1200, 1440))                          # 00:00-02:00, 20:00-24:00


# June 2024 has no clock change: Friday 7, Monday 10, Tuesday 11.
# -- the issue's cases: 08:00-18:00 Monday to Friday, 4 business hours from Friday 17:50 ------
ISSUE_CASES = [
    ("plain week", {}, at("2024-06-10", "11:50")),
    ("holiday Monday (date)", {"holidays": {date(2024, 6, 10)}}, at("2024-06-11", "11:50")),
    ("holiday Monday (yearly)", {"yearly": {(6, 10)}}, at("2024-06-11", "11:50")),
    ("holiday of another year", {"holidays": {date(2023, 6, 10)}}, at("2024-06-10", "11:50")),
    ("Monday and Tuesday off", {"holidays": {date(2024, 6, 10)}, "yearly": {(6, 11)}},
     at("2024-06-12", "11:50")),
]


@pytest.mark.parametrize(("extra", "due"), [c[1:] for c in ISSUE_CASES],
                         ids=[c[0] for c in ISSUE_CASES])
def test_four_business_hours_from_friday_1750(extra, due):
    calendar = office(**extra)
    filed = at("2024-06-07", "17:50")
    assert calendar.add(filed, 4 * H) == due
    assert calendar.business_time(filed, due) == 4 * H


# -- daylight saving on the weekend: due times keep their local wall time ----------------------
WEEKEND_CHANGES = [
    # Madrid springs forward Sunday 2024-03-31: Friday 17:50 CET is 16:50 UTC, due 11:50 CEST
    ("Madrid spring", "Europe/Madrid", "2024-03-29", "2024-04-01", utc("2024-04-01", "09:50")),
    # Madrid falls back Sunday 2024-10-27: Friday 17:50 CEST, due Monday 11:50 CET = 10:50 UTC
    ("Madrid autumn", "Europe/Madrid", "2024-10-25", "2024-10-28", utc("2024-10-28", "10:50")),
    # New York springs forward Sunday 2024-03-10: due Monday 11:50 EDT = 15:50 UTC
    ("New York spring", "America/New_York", "2024-03-08", "2024-03-11",
     utc("2024-03-11", "15:50")),
    # New York falls back Sunday 2024-11-03: due Monday 11:50 EST = 16:50 UTC
    ("New York autumn", "America/New_York", "2024-11-01", "2024-11-04",
     utc("2024-11-04", "16:50")),
]


@pytest.mark.parametrize(("zone", "friday", "monday", "due_utc"),
                         [c[1:] for c in WEEKEND_CHANGES], ids=[c[0] for c in WEEKEND_CHANGES])
def test_weekend_clock_change_keeps_local_wall_time(zone, friday, monday, due_utc):
    tz = ZoneInfo(zone)
    calendar = office(zone)
    filed = at(friday, "17:50", tz)
    due = calendar.add(filed, 4 * H)
    assert due == due_utc == at(monday, "11:50", tz)
    assert calendar.business_time(filed, due) == 4 * H
    # the same instants given in UTC give the same answers
    assert calendar.add(filed.astimezone(UTC), 4 * H) == due
    assert calendar.business_time(filed.astimezone(UTC), due.astimezone(UTC)) == 4 * H


def test_weekend_clock_change_on_a_longer_target():
    # Friday 2024-03-29 10:00 CET + 10 h: 8 h on Friday, 2 h on Monday -> 10:00 CEST
    calendar = office()
    assert calendar.add(at("2024-03-29", "10:00"), 10 * H) == at("2024-04-01", "10:00")


# -- a shift that spans the change itself -----------------------------------------------------
CHANGE_NIGHTS = [
    # 00:00 CET (23:00 UTC) -> 06:00 CEST (04:00 UTC): 5 real hours
    ("Madrid spring", "Europe/Madrid", "2024-03-31",
     (utc("2024-03-30", "23:00"), utc("2024-03-31", "04:00")), 5 * H),
    # 00:00 CEST (22:00 UTC) -> 06:00 CET (05:00 UTC): 7 real hours
    ("Madrid autumn", "Europe/Madrid", "2024-10-27",
     (utc("2024-10-26", "22:00"), utc("2024-10-27", "05:00")), 7 * H),
    # 00:00 EST (05:00 UTC) -> 06:00 EDT (10:00 UTC)
    ("New York spring", "America/New_York", "2024-03-10",
     (utc("2024-03-10", "05:00"), utc("2024-03-10", "10:00")), 5 * H),
    # 00:00 EDT (04:00 UTC) -> 06:00 EST (11:00 UTC)
    ("New York autumn", "America/New_York", "2024-11-03",
     (utc("2024-11-03", "04:00"), utc("2024-11-03", "11:00")), 7 * H),
    # an ordinary night
    ("Madrid plain", "Europe/Madrid", "2024-06-10",
     (utc("2024-06-09", "22:00"), utc("2024-06-10", "04:00")), 6 * H),
]


@pytest.mark.parametrize(("zone", "day", "interval", "length"),
                         [c[1:] for c in CHANGE_NIGHTS], ids=[c[0] for c in CHANGE_NIGHTS])
def test_night_shift_over_a_clock_change_lasts_real_hours(zone, day, interval, length):
    calendar = Calendar(zone, (NIGHT,) * 7)
    the_day = date.fromisoformat(day)
    assert calendar.intervals_on(the_day) == (interval,)
    assert calendar.day_total(the_day) == length
    assert calendar.working_hours(the_day) == length / H
    start = at(day, "00:00", ZoneInfo(zone))
    assert calendar.add(start, length) == interval[1]              # ends at 06:00 exactly
    assert calendar.business_time(start, at(day, "06:00", ZoneInfo(zone))) == length


def test_inside_a_shift_over_the_spring_change_counts_real_time():
    # 00:30 CET (23:30 UTC) + 3 real hours = 02:30 UTC = 04:30 CEST, whether the start is given
    # in the calendar's zone or in UTC
    calendar = Calendar("Europe/Madrid", (NIGHT,) * 7)
    start = at("2024-03-31", "00:30")
    assert calendar.add(start, 3 * H) == utc("2024-03-31", "02:30") == at("2024-03-31", "04:30")
    assert calendar.add(start.astimezone(UTC), 3 * H) == utc("2024-03-31", "02:30")
    assert calendar.business_time(start, at("2024-03-31", "04:30")) == 3 * H
    assert calendar.business_time(start.astimezone(UTC), utc("2024-03-31", "02:30")) == 3 * H
    # 5 h from 00:30: 4.5 h that night (to 06:00 CEST), 30 min from 00:00 CEST the next night
    assert calendar.add(start, 5 * H) == at("2024-04-01", "00:30")


def test_inside_a_24_7_calendar_over_the_changes():
    calendar = Calendar("Europe/Madrid", (ALL_DAY,) * 7)
    # Saturday 12:00 CET -> Sunday 12:00 CEST is 23 real hours; the autumn one is 25
    assert calendar.business_time(at("2024-03-30", "12:00"), at("2024-03-31", "12:00")) == 23 * H
    assert calendar.business_time(at("2024-10-26", "12:00"), at("2024-10-27", "12:00")) == 25 * H
    assert calendar.add(at("2024-03-30", "12:00"), 24 * H) == at("2024-03-31", "13:00")
    assert calendar.add(at("2024-10-26", "12:00"), 24 * H) == at("2024-10-27", "11:00")
    # a plain week: every hour counts
    assert calendar.business_time(at("2024-06-03", "00:00"), at("2024-06-10", "00:00")) == 168 * H


def test_shifts_inside_the_gap_and_the_repeated_hour():
    # 02:00-03:00 does not exist on 2024-03-31 in Madrid; on 2024-10-27 it happens twice
    # (00:00 UTC -> 02:00 UTC); 02:30-06:00 on the spring night starts at the change (01:00 UTC)
    one = Calendar("Europe/Madrid", (((120, 180),),) * 7)
    assert one.intervals_on(date(2024, 3, 31)) == ()
    assert one.day_total(date(2024, 3, 31)) == timedelta(0)
    assert one.intervals_on(date(2024, 10, 27)) == (
        (utc("2024-10-27", "00:00"), utc("2024-10-27", "02:00")),)
    late = Calendar("Europe/Madrid", (((150, 360),),) * 7)
    assert late.intervals_on(date(2024, 3, 31)) == (
        (utc("2024-03-31", "01:00"), utc("2024-03-31", "04:00")),)


# -- split shifts, shift ends, midnight ---------------------------------------------------------
SPLIT_CASES = [
    # Monday 2024-06-10
    ("4 h from 08:00 ends at the lunch break", "2024-06-10", "08:00", 4 * H,
     at("2024-06-10", "12:00")),
    ("one minute more goes past lunch", "2024-06-10", "08:00", 4 * H + M,
     at("2024-06-10", "14:01")),
    ("8 h from 08:00 ends at 18:00, not Tuesday 08:00", "2024-06-10", "08:00", 8 * H,
     at("2024-06-10", "18:00")),
    ("1 h from 11:00", "2024-06-10", "11:00", H, at("2024-06-10", "12:00")),
    ("1.5 h from 11:00", "2024-06-10", "11:00", 90 * M, at("2024-06-10", "14:30")),
    ("from inside lunch", "2024-06-10", "12:30", H, at("2024-06-10", "15:00")),
    ("from 12:00 exactly", "2024-06-10", "12:00", H, at("2024-06-10", "15:00")),
    ("8 h from 10:00: 2 + 4, then 2 on Tuesday", "2024-06-10", "10:00", 8 * H,
     at("2024-06-11", "10:00")),
    ("8 h from Friday 17:00: 1 + 4 + 3", "2024-06-07", "17:00", 8 * H,
     at("2024-06-10", "17:00")),
    ("from Saturday", "2024-06-08", "09:00", 30 * M, at("2024-06-10", "08:30")),
    ("from Friday after hours", "2024-06-07", "19:00", 4 * H, at("2024-06-10", "12:00")),
]


@pytest.mark.parametrize(("day", "hhmm", "amount", "due"), [c[1:] for c in SPLIT_CASES],
                         ids=[c[0] for c in SPLIT_CASES])
def test_split_shifts_add(day, hhmm, amount, due):
    calendar = Calendar("Europe/Madrid", (SPLIT,) * 5 + ((), ()))
    start = at(day, hhmm)
    assert calendar.add(start, amount) == due
    assert calendar.business_time(start, due) == amount


BETWEEN_SPLIT = [
    ("across lunch", ("2024-06-10", "09:00"), ("2024-06-10", "15:00"), 4 * H),
    ("lunch only", ("2024-06-10", "12:00"), ("2024-06-10", "14:00"), timedelta(0)),
    ("a whole day", ("2024-06-10", "00:00"), ("2024-06-11", "00:00"), 8 * H),
    ("a weekend", ("2024-06-07", "18:00"), ("2024-06-10", "08:00"), timedelta(0)),
    ("Friday noon to Monday 09:30", ("2024-06-07", "11:00"), ("2024-06-10", "09:30"),
     5 * H + 90 * M),
    ("a work week", ("2024-06-10", "00:00"), ("2024-06-15", "00:00"), 40 * H),
    ("backwards", ("2024-06-10", "15:00"), ("2024-06-10", "09:00"), timedelta(0)),
    ("empty", ("2024-06-10", "09:00"), ("2024-06-10", "09:00"), timedelta(0)),
]


@pytest.mark.parametrize(("start", "end", "expected"), [c[1:] for c in BETWEEN_SPLIT],
                         ids=[c[0] for c in BETWEEN_SPLIT])
def test_split_shifts_business_time(start, end, expected):
    calendar = Calendar("Europe/Madrid", (SPLIT,) * 5 + ((), ()))
    assert calendar.business_time(at(*start), at(*end)) == expected


def test_adjacent_shifts_count_as_one():
    calendar = Calendar("Europe/Madrid", (((480, 720), (720, 1080)),) * 5 + ((), ()))
    assert calendar.add(at("2024-06-10", "11:00"), 2 * H) == at("2024-06-10", "13:00")
    assert calendar.business_time(at("2024-06-10", "07:00"), at("2024-06-10", "19:00")) == 10 * H


LATE_CASES = [
    # 00:00-02:00 and 20:00-24:00 every day
    ("to midnight exactly", "23:00", H, at("2024-06-11", "00:00")),
    ("over midnight", "23:00", 2 * H, at("2024-06-11", "01:00")),
    ("to 02:00 exactly", "22:00", 4 * H, at("2024-06-11", "02:00")),
    ("over the day gap", "22:00", 5 * H, at("2024-06-11", "21:00")),
]


@pytest.mark.parametrize(("hhmm", "amount", "due"), [c[1:] for c in LATE_CASES],
                         ids=[c[0] for c in LATE_CASES])
def test_crossing_midnight_with_a_2400_end(hhmm, amount, due):
    calendar = Calendar("Europe/Madrid", (LATE,) * 7)
    start = at("2024-06-10", hhmm)
    assert calendar.add(start, amount) == due
    assert calendar.business_time(start, due) == amount


def test_2400_end_is_the_next_local_midnight():
    calendar = Calendar("Europe/Madrid", (LATE,) * 7)
    assert calendar.intervals_on(date(2024, 6, 10)) == (
        (utc("2024-06-09", "22:00"), utc("2024-06-10", "00:00")),
        (utc("2024-06-10", "18:00"), utc("2024-06-10", "22:00")),
    )
    assert calendar.business_time(at("2024-06-10", "20:00"), at("2024-06-11", "20:00")) == 6 * H


def test_zero_or_negative_amount_is_the_start():
    calendar = office()
    start = at("2024-06-08", "12:00")                    # a Saturday, outside working time
    assert calendar.add(start, timedelta(0)) == start
    assert calendar.add(start, -H) == start


# -- long ranges, holidays --------------------------------------------------------------------
def test_a_month_and_a_year():
    # June 2024: 20 weekdays; 2024: 262 weekdays (Jan 1 a Monday, 366 days)
    assert office().business_time(at("2024-06-01", "00:00"), at("2024-07-01", "00:00")) == 200 * H
    assert office(holidays={date(2024, 6, 10)}).business_time(
        at("2024-06-01", "00:00"), at("2024-07-01", "00:00")) == 190 * H
    year = office(yearly={(1, 1), (12, 25)})              # a Monday and a Wednesday in 2024
    start, end = at("2024-01-01", "00:00"), at("2025-01-01", "00:00")
    assert office().business_time(start, end) == 2620 * H
    assert year.business_time(start, end) == 2600 * H
    assert year.add(start, 2600 * H) == at("2024-12-31", "18:00")
    # holidays on a weekend change nothing
    assert office(yearly={(6, 8), (6, 9)}).business_time(
        at("2024-06-01", "00:00"), at("2024-07-01", "00:00")) == 200 * H


def test_holidays_and_weekends_have_no_intervals():
    calendar = office(holidays={date(2024, 6, 10)}, yearly={(2, 29)})
    assert calendar.intervals_on(date(2024, 6, 10)) == ()
    assert calendar.intervals_on(date(2024, 6, 8)) == ()          # Saturday
    assert calendar.intervals_on(date(2024, 2, 29)) == ()         # yearly, a Thursday
    assert calendar.intervals_on(date(2024, 6, 11)) == (
        (utc("2024-06-11", "06:00"), utc("2024-06-11", "16:00")),)
    assert calendar.is_holiday(date(2028, 2, 29))
    assert not calendar.is_holiday(date(2025, 6, 10))


def test_naive_instants_are_refused():
    with pytest.raises(TypeError):
        office().business_time(datetime(2024, 6, 10, 9), datetime(2024, 6, 10, 10))
    with pytest.raises(TypeError):
        office().add(datetime(2024, 6, 10, 9), H)


# -- validation -------------------------------------------------------------------------------
def _week(monday=(), tuesday=(), rest=((480, 1080),)):
    return (tuple(monday), tuple(tuple(s) for s in tuesday)) + (rest,) * 5


BAD_CALENDARS = [
    ("no working time", "Europe/Madrid", ((),) * 7, "week"),
    ("six days", "Europe/Madrid", (((480, 1080),),) * 6, "week"),
    ("overlapping shifts", "Europe/Madrid", _week(monday=((480, 720), (700, 1080))), "mon"),
    ("same shift twice", "Europe/Madrid", _week(monday=((480, 720), (480, 720))), "mon"),
    ("reversed shift", "Europe/Madrid", _week(tuesday=((1080, 480),)), "tue"),
    ("empty shift", "Europe/Madrid", _week(tuesday=((480, 480),)), "tue"),
    ("past midnight", "Europe/Madrid", _week(tuesday=((1200, 1500),)), "tue"),
    ("before midnight", "Europe/Madrid", _week(tuesday=((-60, 480),)), "tue"),
    ("unknown zone", "Mars/Olympus_Mons", weekdays(), "time_zone"),
    ("empty zone", "", weekdays(), "time_zone"),
    ("zone with spaces", " Europe/Madrid", weekdays(), "time_zone"),
    ("a folder of zones", "Europe", weekdays(), "time_zone"),
    ("a path", "../../etc/passwd", weekdays(), "time_zone"),
]


@pytest.mark.parametrize(("zone", "week", "field"), [c[1:] for c in BAD_CALENDARS],
                         ids=[c[0] for c in BAD_CALENDARS])
def test_unusable_calendars_are_refused(zone, week, field):
    with pytest.raises(CalendarError) as error:
        Calendar(zone, week)
    assert error.value.field == field
    assert error.value.message


def test_shifts_are_kept_in_order():
    calendar = Calendar("Europe/Madrid", (((840, 1080), (480, 720)),) + ((),) * 6)
    assert calendar.week[0] == ((480, 720), (840, 1080))
    assert Calendar("UTC", (((0, 1440),),) + ((),) * 6).week[0] == ((0, 1440),)


HHMM = [("08:00", 480), ("8:30", 510), ("00:00", 0), ("24:00", 1440), (" 18:00 ", 1080),
        ("23:59", 1439)]


@pytest.mark.parametrize(("text", "minutes"), HHMM)
def test_parse_hhmm(text, minutes):
    assert parse_hhmm(text) == minutes


@pytest.mark.parametrize("text", ["24:01", "25:00", "12:60", "1200", "12:5", "", ":", "-1:00",
                                  "ab:cd", "123:00", "12:00:00", "+8:00"])
def test_parse_hhmm_refuses(text):
    with pytest.raises(ValueError):
        parse_hhmm(text)


def test_weekdays_helper():
    assert weekdays() == ((((480, 1080),),) * 5) + ((), ())
    assert weekdays("09:00", "17:30") == ((((540, 1050),),) * 5) + ((), ())


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules"])
def test_zones_that_are_not_places_are_refused(name):
    with pytest.raises(CalendarError) as refused:
        Calendar(name, weekdays())
    assert refused.value.field == "time_zone"
