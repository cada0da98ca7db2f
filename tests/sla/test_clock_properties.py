"""Properties of business calendars and SLA clocks over random calendars and histories
(Hypothesis, derandomized like tests/api/test_openapi_fuzz.py so every run is the same).

Calendars have random shifts, holidays and zones, several with daylight saving (some change at
midnight, by 30 minutes, or skipped a whole day); instants are drawn near clock changes as well
as anywhere, and handed over in UTC or in a local zone.
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sla.calendar import Calendar
from app.sla.clock import KINDS, PAUSABLE_STATUSES, Target, compute, timeline

ZERO = timedelta(0)
TICK = timedelta(microseconds=1)
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

ZONES = ["UTC", "Europe/Madrid", "America/New_York", "America/Santiago", "Australia/Lord_Howe",
         "Asia/Kolkata", "America/Havana", "Pacific/Apia", "Europe/London", "Africa/Casablanca",
         "America/St_Johns", "Asia/Tehran"]
# Days when one of those zones changes its clocks (Apia skipped 2011-12-30 altogether)
CHANGE_DAYS = [date(2024, 3, 31), date(2024, 10, 27), date(2024, 3, 10), date(2024, 11, 3),
               date(2024, 4, 7), date(2024, 9, 8), date(2024, 10, 6), date(2011, 12, 30),
               date(2024, 3, 10), date(2024, 4, 14), date(2021, 3, 22), date(2021, 9, 22)]


@pytest.fixture(autouse=True)
def clean_tables():
    """Pure module: no application and no database (overrides tests/conftest.py's)."""
    yield


# -- strategies -----------------------------------------------------------------------------------
@st.composite
def day_shifts(draw):
    """Up to three shifts at quarter hours; often a long one, over the night's clock change."""
    if draw(st.integers(0, 2)) == 0:
        return ((draw(st.integers(0, 8)) * 60, draw(st.integers(16, 24)) * 60),)
    count = draw(st.integers(0, 3))
    points = sorted(draw(st.lists(st.integers(0, 96), min_size=2 * count, max_size=2 * count,
                                  unique=True)))
    return tuple((points[i] * 15, points[i + 1] * 15) for i in range(0, len(points), 2))


def _seconds(count: int) -> timedelta:
    return timedelta(seconds=count)


def in_some_zone(instant: datetime, draw) -> datetime:
    """The same instant, written in UTC or in one of the zones."""
    return instant.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))


@st.composite
def instants(draw):
    """An aware instant near a clock change or anywhere, in UTC or a local zone."""
    if draw(st.booleans()):
        base = datetime.combine(draw(st.sampled_from(CHANGE_DAYS)), datetime.min.time(), UTC)
        instant = base + timedelta(seconds=draw(st.integers(-4 * 86400, 4 * 86400)))
    else:
        instant = draw(st.datetimes(datetime(1995, 1, 1), datetime(2040, 1, 1),
                                    timezones=st.just(UTC)))
    return in_some_zone(instant, draw)


@st.composite
def later(draw, instant: datetime, most=timedelta(days=20)):
    """An instant up to ``most`` after ``instant`` (often the same), in some zone."""
    step = draw(st.one_of(st.just(ZERO), st.timedeltas(ZERO, most),
                          st.integers(0, int(most.total_seconds())).map(_seconds)))
    return in_some_zone(instant + step, draw)


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    week = draw(st.tuples(*[day_shifts()] * 7).filter(any))
    holidays = draw(st.frozensets(st.dates(date(2011, 12, 1), date(2024, 12, 31)), max_size=40))
    yearly = draw(st.frozensets(st.tuples(st.integers(1, 12), st.integers(1, 28)), max_size=8))
    return Calendar(zone, week, holidays=holidays, yearly=yearly)


amounts = st.timedeltas(TICK, timedelta(hours=72))

REQUEST_STATUSES = ["pending_authorization", "pending_evaluation", "returned",
                    "pending_assignment", "in_service", "completed", "cancelled", "rejected",
                    "in_review"]
TICKET_STATUSES = [None, "pending", "in_progress", "on_hold", "finished", "closed"]


@st.composite
def histories(draw):
    """History events from a filing at a random instant; later events are mostly later, some
    at the same instant, a few earlier (another server's clock)."""
    at = draw(instants())
    events = [SimpleNamespace(created_at=at, action="filed", to_status="pending_authorization",
                              changes=None)]
    for _ in range(draw(st.integers(0, 10))):
        at = at + draw(st.one_of(st.just(ZERO), st.integers(0, 3 * 86400).map(_seconds),
                                 st.timedeltas(-timedelta(hours=2), ZERO)))
        to_status = draw(st.one_of(st.none(), st.sampled_from(REQUEST_STATUSES)))
        new_ticket = draw(st.sampled_from(TICKET_STATUSES))
        changes = {"ticket_status": [None, new_ticket]} if new_ticket else None
        events.append(SimpleNamespace(created_at=at, action="step", to_status=to_status,
                                      changes=changes))
    return events


@st.composite
def targets(draw, kind=None):
    return Target(kind or draw(st.sampled_from(KINDS)),
                  timedelta(minutes=draw(st.integers(1, 40 * 60))),
                  warn_percent=draw(st.integers(1, 100)),
                  pauses=draw(st.frozensets(st.sampled_from(PAUSABLE_STATUSES))))


def _reads(moments, offsets):
    """Instants to read a clock at: around and after the history, in order."""
    first = moments[0].at
    return sorted(first + offset for offset in offsets)


read_offsets = st.lists(st.timedeltas(-timedelta(hours=6), timedelta(days=40)), min_size=1,
                        max_size=6)


# -- calendars -----------------------------------------------------------------------------------
@PROPERTY
@given(calendars(), st.data())
def test_business_time_is_within_wall_time_and_adds_up(calendar, data):
    a = data.draw(instants())
    b = data.draw(later(a))
    c = data.draw(later(b))
    ab, bc, ac = (calendar.business_time(a, b), calendar.business_time(b, c),
                  calendar.business_time(a, c))
    assert ZERO <= ab <= b - a
    assert ZERO <= bc <= c - b
    assert ac == ab + bc
    assert calendar.business_time(c, a) == ZERO or a == c


@PROPERTY
@given(calendars(), instants(), amounts)
def test_add_reaches_exactly_the_amount(calendar, start, amount):
    due = calendar.add(start, amount)
    assert due > start
    assert calendar.business_time(start, due) == amount
    assert calendar.business_time(start, due - TICK) < amount       # and not a moment later


@PROPERTY
@given(calendars(), st.data())
def test_add_of_business_time_lands_at_or_before_the_end(calendar, data):
    a = data.draw(instants())
    b = data.draw(later(a))
    spent = calendar.business_time(a, b)
    landed = calendar.add(a, spent)
    assert a <= landed <= b
    assert calendar.business_time(a, landed) == spent


@PROPERTY
@given(calendars(), instants())
def test_intervals_are_ordered_and_stay_in_their_day(calendar, instant):
    first = calendar.local_date(instant) - timedelta(days=2)
    previous_end = None
    for day in (first + timedelta(days=n) for n in range(5)):
        intervals = calendar.intervals_on(day)
        for a, b in intervals:
            assert a < b
            assert previous_end is None or previous_end <= a        # no overlap, even by day
            assert day <= calendar.local_date(a) <= calendar.local_date(b) \
                <= day + timedelta(days=1)
            previous_end = b
        assert calendar.day_total(day) == sum((b - a for a, b in intervals), ZERO)
        if calendar.is_holiday(day):
            assert intervals == ()


# -- clocks --------------------------------------------------------------------------------------
@PROPERTY
@given(histories())
def test_timeline_never_runs_backwards(events):
    moments = timeline(events)
    # compared in UTC: a local time in a repeated hour never equals one of another zone
    stamps = [m.at.astimezone(UTC) for m in moments]
    assert stamps[0] == events[0].created_at.astimezone(UTC)
    assert stamps == sorted(stamps)
    assert set(stamps) <= {e.created_at.astimezone(UTC) for e in events}


@PROPERTY
@given(calendars(), targets(), histories(), read_offsets)
def test_elapsed_is_monotonic_and_never_exceeds_wall_time(calendar, target, events, offsets):
    moments = timeline(events)
    previous = ZERO
    for now in _reads(moments, offsets):
        clock = compute(target, calendar, moments, now)
        assert clock.elapsed >= previous
        previous = clock.elapsed
        assert clock.remaining == target.length - clock.elapsed
        if clock.started_at is None:
            assert clock.state == "not_started" and clock.elapsed == ZERO
            continue
        end = clock.stopped_at or now
        assert clock.started_at <= end <= now
        assert clock.elapsed <= end - clock.started_at
        assert clock.elapsed <= calendar.business_time(clock.started_at, end)


@PROPERTY
@given(calendars(), targets(), histories(), read_offsets)
def test_paused_time_is_never_counted(calendar, target, events, offsets):
    moments = timeline(events)
    never_pauses = Target(target.kind, target.length, target.warn_percent, pauses=frozenset())
    for now in _reads(moments, offsets):
        clock = compute(target, calendar, moments, now)
        assert clock.elapsed <= compute(never_pauses, calendar, moments, now).elapsed
        if clock.started_at is None:
            continue
        end = clock.stopped_at or now
        paused = sum((calendar.business_time(a, b or end) for a, b in clock.pauses), ZERO)
        # working time from start to stop is either counted or paused, never both
        assert clock.elapsed + paused == calendar.business_time(clock.started_at, end)
        assert (clock.paused_since is not None) == (clock.state == "paused") \
            or clock.state == "breached"
        if clock.stopped_at is None:                 # paused exactly while in a pause status
            last = [m for m in moments if m.at <= now][-1]
            waiting = last.request_status in target.pauses or last.ticket_status in target.pauses
            assert (clock.paused_since is not None) == waiting


@PROPERTY
@given(calendars(), targets(), histories())
def test_due_and_warning_are_when_the_clock_reaches_them(calendar, target, events):
    moments = timeline(events)
    now = moments[-1].at + timedelta(days=1)           # every moment counted
    clock = compute(target, calendar, moments, now)
    for instant, amount in ((clock.due_at, target.length), (clock.warn_at, target.warn_after)):
        if instant is None:
            continue
        assert compute(target, calendar, moments, instant).elapsed == amount
        assert compute(target, calendar, moments, instant - TICK).elapsed < amount
    if clock.state in ("running", "warning") and clock.remaining > ZERO:
        assert clock.due_at == calendar.add(now, clock.remaining)
    if clock.state == "breached":
        assert clock.due_at is not None and clock.due_at <= (clock.stopped_at or now)


# Days (in UTC) each zone changed its clocks, for tests that need to land on a change
ZONE_CHANGES = {
    "Europe/Madrid": [date(2024, 3, 31), date(2024, 10, 27)],
    "Europe/London": [date(2024, 3, 31), date(2024, 10, 27)],
    "America/New_York": [date(2024, 3, 10), date(2024, 11, 3)],
    "America/Havana": [date(2024, 3, 10), date(2024, 11, 3)],
    "America/St_Johns": [date(2024, 3, 10), date(2024, 11, 3)],
    "America/Santiago": [date(2024, 4, 7), date(2024, 9, 8)],
    "Australia/Lord_Howe": [date(2024, 4, 6), date(2024, 10, 5)],
    "Pacific/Apia": [date(2011, 9, 24), date(2011, 12, 30), date(2012, 4, 1)],
    "Africa/Casablanca": [date(2024, 3, 10), date(2024, 4, 14)],
    "Asia/Tehran": [date(2021, 3, 21), date(2021, 9, 21)],
}


def _change_near(day: date, zone: ZoneInfo) -> datetime:
    """The first quarter hour (UTC) from the day before ``day`` whose offset in ``zone`` differs
    from the one before it, or midnight of ``day`` if there is none."""
    instant = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)
    for _ in range(3 * 96):
        step = instant + timedelta(minutes=15)
        if step.astimezone(zone).utcoffset() != instant.astimezone(zone).utcoffset():
            return step
        instant = step
    return datetime.combine(day, datetime.min.time(), UTC)


@PROPERTY
@given(calendars(), st.data())
def test_answers_do_not_depend_on_the_zone_instants_are_written_in(calendar, data):
    local = ZoneInfo(calendar.zone)
    days = ZONE_CHANGES.get(calendar.zone, CHANGE_DAYS)
    change = _change_near(data.draw(st.sampled_from(days)), local)
    minutes = st.integers(0, 6 * 60).map(lambda n: timedelta(minutes=n))
    a = (change - data.draw(minutes)).astimezone(local)
    b = (change + data.draw(minutes)).astimezone(local)
    amount = data.draw(minutes) + TICK
    assert calendar.business_time(a, b) == calendar.business_time(a.astimezone(UTC),
                                                                  b.astimezone(UTC))
    assert calendar.add(a, amount) == calendar.add(a.astimezone(UTC), amount)
