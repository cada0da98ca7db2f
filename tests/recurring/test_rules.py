"""Rules, pure: the friendly form and RRULE text give one normalized rule; refusals with a
clear message (never another exception); the wall-clock time kept across daylight saving;
following a rule from its anchor gives what following it from its start gives."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale

from app.recurring import rules, wording

MADRID = rules.zone_of("Europe/Madrid")
NEW_YORK = rules.zone_of("America/New_York")
BOGOTA = rules.zone_of("America/Bogota")


@pytest.fixture(autouse=True)
def _refusals_in_english(app):
    """The refusals are asserted in English; the product's default language is Spanish."""
    with force_locale("en"):
        yield


def test_the_friendly_form_builds_the_rule():
    first_monday = {"frequency": "monthly", "interval": "1", "time": "09:00",
                    "monthly_by": "weekday", "ordinal": "1", "weekday": "MO"}
    assert rules.from_form(first_monday) == "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0"
    assert rules.from_form({"frequency": "weekly", "interval": "2", "time": "07:30",
                            "weekdays": ["TH", "MO"]}) == (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;BYHOUR=7;BYMINUTE=30")
    assert rules.from_form({"frequency": "yearly", "interval": "1", "time": "08:00",
                            "month": "3", "month_day": "-1"}) == (
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1;BYHOUR=8;BYMINUTE=0")
    assert rules.from_form({"frequency": "daily", "interval": 1, "time": "06:00",
                            "weekdays": ["MO", "TU", "WE", "TH", "FR"]}) == (
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6;BYMINUTE=0")
    # and back, for the edit page
    assert rules.to_form("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0")["monthly_by"] == "weekday"
    assert rules.to_form("FREQ=MINUTELY;INTERVAL=30") is None


@pytest.mark.parametrize("form, field", [
    ({"frequency": "hourly", "interval": "1", "time": "09:00"}, "frequency"),
    ({"frequency": "daily", "interval": "0", "time": "09:00"}, "interval"),
    ({"frequency": "daily", "interval": "x", "time": "09:00"}, "interval"),
    ({"frequency": "daily", "interval": "1", "time": "25:00"}, "time"),
    ({"frequency": "weekly", "interval": "1", "time": "09:00"}, "weekdays"),
    ({"frequency": "weekly", "interval": "1", "time": "09:00", "weekdays": ["XX"]}, "weekdays"),
    ({"frequency": "monthly", "interval": "1", "time": "09:00", "month_day": "0"}, "month_day"),
    ({"frequency": "monthly", "interval": "1", "time": "09:00", "monthly_by": "weekday",
      "ordinal": "0", "weekday": "MO"}, "ordinal"),
    ({"frequency": "yearly", "interval": "1", "time": "09:00", "month": "13"}, "month"),
])
def test_the_friendly_form_refuses_by_field(form, field):
    with pytest.raises(rules.RuleError) as refused:
        rules.from_form(form)
    assert list(refused.value.messages) == [field]


def test_rrule_text_is_normalized():
    assert rules.normalized("RRULE:freq=monthly;byday=1mo;byhour=9") == (
        "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0")
    assert rules.normalized("FREQ=MINUTELY;INTERVAL=15") == "FREQ=MINUTELY;INTERVAL=15"
    assert rules.normalized("FREQ=DAILY;COUNT=10") == "FREQ=DAILY;COUNT=10;BYHOUR=0;BYMINUTE=0"


@pytest.mark.parametrize("text, says", [
    ("FREQ=MINUTELY;INTERVAL=5", "15 minutes"),
    ("FREQ=SECONDLY", "FREQ must be"),
    ("DTSTART:20200101T000000Z\nRRULE:FREQ=DAILY", "one rule"),
    ("DTSTART=20200101T000000Z;FREQ=DAILY", "DTSTART"),
    ("FREQ=DAILY;UNTIL=20990101T000000Z", "UNTIL"),
    ("FREQ=DAILY;COUNT=1001", "COUNT"),
    ("FREQ=DAILY;COUNT=99999999999", "COUNT"),
    ("FREQ=DAILY;BYSETPOS=1", "not accepted"),
    ("FREQ=YEARLY;BYWEEKNO=20", "not accepted"),
    ("FREQ=DAILY;BYSECOND=5", "not accepted"),
    ("FREQ=DAILY;INTERVAL=2;BYDAY=MO", "INTERVAL of at most 1"),
    ("FREQ=HOURLY;INTERVAL=24;BYHOUR=5", "INTERVAL of at most 1"),
    ("FREQ=DAILY;BYDAY=1MO", "monthly or yearly"),
    ("FREQ=MONTHLY;BYDAY=9MO", "1 to 5"),
    ("FREQ=DAILY;BYHOUR=24", "0 to 23"),
    ("FREQ=DAILY;FREQ=WEEKLY", "twice"),
    ("FREQ=DAILY;BYHOUR", "NAME=value"),
    ("FREQ=DAILY;TZID=Europe/Madrid", "time zone"),
    ("FREQ=DAILY;BYHOUR=1,2,3;X", "NAME=value"),
    ("", "Give a rule"),
    ("x" * 301, "too long"),
    ("FREQ=DAILY;BYHOUR=ñ", "one rule"),
    ("FREQ=WEEKLY;INTERVAL=53", "at most 52"),
    ("FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=2MO", "one or the other"),
])
def test_rrule_refusals_say_why(text, says):
    with pytest.raises(rules.RuleError) as refused:
        rules.normalized(text)
    assert says in str(refused.value)


def _check(text, starts_on=date(2026, 12, 1), ends_on=None, zone=BOGOTA,
           now=datetime(2026, 12, 1, tzinfo=UTC)):
    return rules.check(rules.Recurrence(rules.normalized(text), zone, starts_on, ends_on), now)


@pytest.mark.parametrize("text", [
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31",   # from December: Decembers have 31... see below
    "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=YEARLY;BYMONTHDAY=31",                # from April: only Aprils
    "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=-30",  # from February
])
def test_a_rule_that_never_fires_is_refused(text):
    start = {"FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31": date(2026, 2, 1),
             "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=-30": date(2026, 2, 1),
             "FREQ=YEARLY;BYMONTHDAY=31": date(2026, 4, 1)}.get(text, date(2026, 12, 1))
    started = time.perf_counter()
    with pytest.raises(rules.RuleError, match="never"):
        _check(text, starts_on=start)
    assert time.perf_counter() - started < 0.2  # said at once, not after a walk to 9999


def test_a_rule_whose_day_exists_in_some_visited_month_is_not_refused():
    # from April every six months: Aprils (30 days) and Octobers (31); checked on 1 Dec 2026
    assert _check("FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=31;BYHOUR=9",
                  starts_on=date(2026, 4, 1)).first.local == datetime(2027, 10, 31, 9)


def test_an_end_before_the_first_occurrence_or_a_spent_count_never_fires():
    with pytest.raises(rules.RuleError, match="never"):
        _check("FREQ=MONTHLY;BYMONTHDAY=28;BYHOUR=9", ends_on=date(2026, 12, 20))
    with pytest.raises(rules.RuleError, match="never"):
        _check("FREQ=DAILY;COUNT=3", starts_on=date(2026, 11, 1))
    with pytest.raises(rules.RuleError) as both:
        _check("FREQ=DAILY;COUNT=3", ends_on=date(2027, 1, 1))
    assert "not both" in str(both.value)
    with pytest.raises(rules.RuleError, match="years"):
        _check("FREQ=DAILY", ends_on=date(2040, 1, 1))
    with pytest.raises(rules.RuleError, match="before the start"):
        _check("FREQ=DAILY", ends_on=date(2026, 11, 1))


def test_more_often_than_every_15_minutes_is_refused_whatever_the_shape():
    with pytest.raises(rules.RuleError, match="15 minutes"):
        _check("FREQ=HOURLY;BYMINUTE=0,10")
    with pytest.raises(rules.RuleError, match="15 minutes"):
        _check("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0,5")
    summary = _check("FREQ=MINUTELY;INTERVAL=15")
    assert summary.smallest_gap == timedelta(minutes=15)
    assert summary.per_month == 31 * 96  # December, every 15 minutes


def test_the_busiest_month_is_counted():
    assert _check("FREQ=DAILY;BYHOUR=9").per_month == 31
    assert _check("FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9").per_month == 9  # 5 + 4 at most
    assert _check("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9").per_month == 1
    assert _check("FREQ=HOURLY").per_month == 31 * 24


def test_first_monday_at_nine_in_bogota():
    rec = rules.Recurrence(rules.normalized("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9"), BOGOTA,
                           date(2026, 12, 1))
    found = rec.upcoming(datetime(2026, 12, 1, tzinfo=UTC), 3)
    assert [o.local for o in found] == [datetime(2026, 12, 7, 9), datetime(2027, 1, 4, 9),
                                        datetime(2027, 2, 1, 9)]
    assert found[0].at == datetime(2026, 12, 7, 14, tzinfo=UTC)  # Bogota is UTC-5, no DST


@pytest.mark.parametrize("zone, spring, fall", [
    (MADRID, date(2027, 3, 28), date(2027, 10, 31)),
    (NEW_YORK, date(2027, 3, 14), date(2027, 11, 7)),
])
def test_nine_local_stays_nine_local_across_daylight_saving(zone, spring, fall):
    for change in (spring, fall):
        rec = rules.Recurrence(rules.normalized("FREQ=DAILY;BYHOUR=9"), zone,
                               change - timedelta(days=2))
        found = rec.upcoming(datetime.combine(change - timedelta(days=2),
                                              datetime.min.time(), UTC), 4)
        assert [o.local.hour for o in found] == [9, 9, 9, 9]
        offsets = {o.at.astimezone(zone).utcoffset() for o in found}
        assert len(offsets) == 2  # the UTC instant moves by an hour, the local time does not
        assert all(o.at.astimezone(zone).hour == 9 for o in found)


def test_a_time_that_does_not_exist_is_filed_an_hour_later():
    rec = rules.Recurrence(rules.normalized("FREQ=DAILY;BYHOUR=2;BYMINUTE=30"), MADRID,
                           date(2027, 3, 27))
    found = rec.upcoming(datetime(2027, 3, 27, tzinfo=UTC), 3)
    assert [o.at.astimezone(MADRID).strftime("%d %H:%M") for o in found] == [
        "27 02:30", "28 03:30", "29 02:30"]


@pytest.mark.parametrize("text", [
    "FREQ=MINUTELY;INTERVAL=45", "FREQ=HOURLY;INTERVAL=5;BYMINUTE=10",
    "FREQ=DAILY;INTERVAL=3;BYHOUR=9", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYHOUR=9",
    "FREQ=MONTHLY;INTERVAL=5;BYDAY=-1FR;BYHOUR=9", "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9",
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
])
def test_following_from_an_anchor_gives_what_following_from_the_start_gives(text):
    rec = rules.Recurrence(rules.normalized(text), MADRID, date(2026, 1, 1))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    from_start = rec.upcoming(since, 60)
    anchor = from_start[17]
    assert rec.upcoming(anchor.at, 40, anchor.local) == from_start[17:57]


def test_the_rule_in_words(app):
    with app.test_request_context():
        words = wording.describe("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0")
        assert "09:00" in words
        assert wording.describe("not a rule") == "not a rule"
