"""SLA clocks (app.sla.clock) against hand-computed tables.

Each row gives a target, a calendar, the request's status moments, the instant the clock is
read, and the whole clock expected, worked out by hand from the rules in the module's docstring
(not by running it). Unless a row says otherwise the calendar is 08:00-18:00 Monday to Friday
in Europe/Madrid and the dates are in June 2024 (Friday 7, Saturday 8, Monday 10, Tuesday 11),
when no clock changes.
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.sla.calendar import Calendar, weekdays
from app.sla.clock import Clock, Moment, Target, compute, timeline

MADRID = ZoneInfo("Europe/Madrid")
H = timedelta(hours=1)
M = timedelta(minutes=1)
ZERO = timedelta(0)

OFFICE = Calendar("Europe/Madrid", weekdays("08:00", "18:00"))


@pytest.fixture(autouse=True)
def clean_tables():
    """Pure module: no application and no database (overrides tests/conftest.py's)."""
    yield


def at(day: str, hhmm: str, zone: ZoneInfo = MADRID) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=zone)


def fri(hhmm):
    return at("2024-06-07", hhmm)


def sat(hhmm):
    return at("2024-06-08", hhmm)


def mon(hhmm):
    return at("2024-06-10", hhmm)


def tue(hhmm):
    return at("2024-06-11", hhmm)


def m(when: datetime, request: str, ticket: str | None = None) -> Moment:
    return Moment(when, request, ticket)


def clock(kind, state, started=None, stopped=None, due=None, warn=None, elapsed=ZERO,
          remaining=ZERO, paused_since=None, pauses=()) -> Clock:
    return Clock(kind, state, started, stopped, due, warn, elapsed, remaining, paused_since,
                 tuple(pauses))


FILED = fri("17:50")
# Filed Friday 17:50, approved, ticket created, started Monday 08:30, held 09:00-12:00
HELD = [m(FILED, "pending_authorization"), m(fri("17:55"), "pending_assignment"),
        m(fri("17:58"), "in_service", "pending"), m(mon("08:30"), "in_service", "in_progress"),
        m(mon("09:00"), "in_service", "on_hold"), m(mon("12:00"), "in_service", "in_progress")]
# Filed Monday 08:00, at work from 08:10, held for 30 minutes five times from 08:30 on the hour
MANY_HOLDS = [m(mon("08:00"), "pending_authorization"),
              m(mon("08:10"), "in_service", "in_progress")]
for _hour in range(8, 13):
    MANY_HOLDS += [m(mon(f"{_hour:02d}:30"), "in_service", "on_hold"),
                   m(mon(f"{_hour + 1:02d}:00"), "in_service", "in_progress")]
# Decision: filed 08:00, evaluated from 09:00, returned 09:30-10:30, approved 11:00
DECIDED = [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "pending_evaluation"),
           m(mon("09:30"), "returned"), m(mon("10:30"), "pending_authorization"),
           m(mon("11:00"), "pending_assignment")]
# Start: filed 08:00, approved 10:00, ticket created 10:15, started 11:30
STARTED = [m(mon("08:00"), "pending_authorization"), m(mon("10:00"), "pending_assignment"),
           m(mon("10:15"), "in_service", "pending"), m(mon("11:30"), "in_service", "in_progress")]
APPROVED = STARTED[:3]


def filed_only(when=FILED):
    return [m(when, "pending_authorization")]


def resolution(hours=4, **kwargs):
    return Target("resolution", hours * H, **kwargs)


CASES = [
    # -- the case: 4 business hours from Friday 17:50, due Monday 11:50 --------------
    ("before filing", resolution(), OFFICE, filed_only(), fri("17:49"),
     clock("resolution", "not_started", remaining=4 * H)),
    ("at filing", resolution(), OFFICE, filed_only(), FILED,
     clock("resolution", "running", FILED, None, mon("11:50"), mon("10:50"), ZERO, 4 * H)),
    ("over the weekend", resolution(), OFFICE, filed_only(), sat("12:00"),
     clock("resolution", "running", FILED, None, mon("11:50"), mon("10:50"), 10 * M,
           3 * H + 50 * M)),
    ("Monday 09:00", resolution(), OFFICE, filed_only(), mon("09:00"),
     clock("resolution", "running", FILED, None, mon("11:50"), mon("10:50"), 70 * M,
           2 * H + 50 * M)),
    ("warning at 75%", resolution(), OFFICE, filed_only(), mon("11:00"),
     clock("resolution", "warning", FILED, None, mon("11:50"), mon("10:50"), 3 * H + 10 * M,
           50 * M)),
    ("exactly due is not yet breached", resolution(), OFFICE, filed_only(), mon("11:50"),
     clock("resolution", "warning", FILED, None, mon("11:50"), mon("10:50"), 4 * H, ZERO)),
    ("breached", resolution(), OFFICE, filed_only(), mon("12:00"),
     clock("resolution", "breached", FILED, None, mon("11:50"), mon("10:50"), 4 * H + 10 * M,
           -10 * M)),
    ("warning at 50%", resolution(warn_percent=50), OFFICE, filed_only(), mon("09:00"),
     clock("resolution", "running", FILED, None, mon("11:50"), mon("09:50"), 70 * M,
           2 * H + 50 * M)),
    ("warning at 50%, passed", resolution(warn_percent=50), OFFICE, filed_only(), mon("10:00"),
     clock("resolution", "warning", FILED, None, mon("11:50"), mon("09:50"), 130 * M,
           110 * M)),
    ("warning at 100% is the due time", resolution(warn_percent=100), OFFICE, filed_only(),
     mon("11:00"),
     clock("resolution", "running", FILED, None, mon("11:50"), mon("11:50"), 190 * M, 50 * M)),
    # 1% of 4 h is 2 min 24 s
    ("warning at 1%", resolution(warn_percent=1), OFFICE, filed_only(), fri("17:53"),
     clock("resolution", "warning", FILED, None, mon("11:50"), fri("17:52:24"), 3 * M,
           4 * H - 3 * M)),
    ("holiday Monday (date)", resolution(),
     Calendar("Europe/Madrid", weekdays(), holidays={date(2024, 6, 10)}), filed_only(),
     mon("12:00"),
     clock("resolution", "running", FILED, None, tue("11:50"), tue("10:50"), 10 * M,
           3 * H + 50 * M)),
    ("holiday Monday (yearly)", resolution(),
     Calendar("Europe/Madrid", weekdays(), yearly={(6, 10)}), filed_only(), tue("09:00"),
     clock("resolution", "running", FILED, None, tue("11:50"), tue("10:50"), 70 * M,
           2 * H + 50 * M)),

    # -- holds --------------------------------------------------------------------------------
    # 10 min on Friday and 08:00-09:00 on Monday, held 09:00-12:00, so due 3 h later: 14:50
    ("hold of 3 business hours", resolution(), OFFICE, HELD, mon("13:00"),
     clock("resolution", "running", FILED, None, mon("14:50"), mon("13:50"), 130 * M, 110 * M,
           None, [(mon("09:00"), mon("12:00"))])),
    ("during the hold", resolution(), OFFICE, HELD, mon("10:00"),
     clock("resolution", "paused", FILED, None, None, None, 70 * M, 170 * M, mon("09:00"),
           [(mon("09:00"), None)])),
    ("breached after the hold", resolution(), OFFICE, HELD, mon("15:00"),
     clock("resolution", "breached", FILED, None, mon("14:50"), mon("13:50"), 250 * M, -10 * M,
           None, [(mon("09:00"), mon("12:00"))])),
    ("a target that does not pause on hold", resolution(pauses=()), OFFICE, HELD, mon("13:00"),
     clock("resolution", "breached", FILED, None, mon("11:50"), mon("10:50"), 310 * M, -70 * M)),
    # held Saturday 10:00 to Monday 10:00: only Monday 08:00-10:00 was working time
    ("a hold over the weekend moves only its business hours", resolution(), OFFICE,
     [m(FILED, "pending_authorization"), m(fri("17:55"), "in_service", "pending"),
      m(sat("10:00"), "in_service", "on_hold"), m(mon("10:00"), "in_service", "in_progress")],
     mon("11:00"),
     clock("resolution", "running", FILED, None, mon("13:50"), mon("12:50"), 70 * M, 170 * M,
           None, [(sat("10:00"), mon("10:00"))])),
    # five 30-minute holds: 2 h 30 worked by 13:00, so due at 14:30; 75% (3 h) at 13:30
    ("paused five times", resolution(), OFFICE, MANY_HOLDS, mon("13:15"),
     clock("resolution", "running", mon("08:00"), None, mon("14:30"), mon("13:30"), 165 * M,
           75 * M, None,
           [(mon(f"{h:02d}:30"), mon(f"{h + 1:02d}:00")) for h in range(8, 13)])),
    ("paused five times, in the fifth", resolution(), OFFICE, MANY_HOLDS, mon("12:45"),
     clock("resolution", "paused", mon("08:00"), None, None, None, 150 * M, 90 * M,
           mon("12:30"),
           [(mon(f"{h:02d}:30"), mon(f"{h + 1:02d}:00")) for h in range(8, 12)]
           + [(mon("12:30"), None)])),
    # on hold, then also returned to the requester: one pause, 09:00-11:00
    ("held and returned is one pause", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "in_service", "on_hold"),
      m(mon("10:00"), "returned", "on_hold"), m(mon("11:00"), "in_service", "in_progress")],
     mon("12:00"),
     clock("resolution", "running", mon("08:00"), None, mon("14:00"), mon("13:00"), 2 * H,
           2 * H, None, [(mon("09:00"), mon("11:00"))])),
    ("returned to the requester pauses", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "returned"),
      m(mon("11:00"), "pending_authorization")], mon("12:00"),
     clock("resolution", "running", mon("08:00"), None, mon("14:00"), mon("13:00"), 2 * H,
           2 * H, None, [(mon("09:00"), mon("11:00"))])),
    ("a target pausing on a pending ticket", resolution(pauses={"pending"}), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "in_service", "pending"),
      m(mon("10:00"), "in_service", "in_progress")], mon("11:00"),
     clock("resolution", "running", mon("08:00"), None, mon("13:00"), mon("12:00"), 2 * H,
           2 * H, None, [(mon("09:00"), mon("10:00"))])),

    # -- decision: from filing until the request leaves authorization and evaluation ---------
    # 08:00-09:30 and 10:30-11:00 count: exactly the 2 h target, so met
    ("decision met exactly", Target("decision", 2 * H), OFFICE, DECIDED, mon("12:00"),
     clock("decision", "met", mon("08:00"), mon("11:00"), mon("11:00"), mon("09:30"), 2 * H,
           ZERO, None, [(mon("09:30"), mon("10:30"))])),
    ("decision paused while returned", Target("decision", 2 * H), OFFICE, DECIDED,
     mon("10:00"),
     clock("decision", "paused", mon("08:00"), None, None, mon("09:30"), 90 * M, 30 * M,
           mon("09:30"), [(mon("09:30"), None)])),
    ("decision in evaluation, warning", Target("decision", 2 * H), OFFICE, DECIDED[:2],
     mon("09:40"),
     clock("decision", "warning", mon("08:00"), None, mon("10:00"), mon("09:30"), 100 * M,
           20 * M)),
    ("decision rejected in time", Target("decision", 2 * H), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "rejected")], mon("12:00"),
     clock("decision", "met", mon("08:00"), mon("09:00"), None, None, H, H)),
    ("decision approved late", Target("decision", 2 * H), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("11:00"), "pending_assignment")],
     mon("12:00"),
     clock("decision", "breached", mon("08:00"), mon("11:00"), mon("10:00"), mon("09:30"),
           3 * H, -H)),
    ("decision sent on by a custom diagram", Target("decision", 2 * H), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("08:30"), "in_review")], mon("12:00"),
     clock("decision", "met", mon("08:00"), mon("08:30"), None, None, 30 * M, 90 * M)),
    ("decision cancelled", Target("decision", 2 * H), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "cancelled")], mon("12:00"),
     clock("decision", "cancelled", mon("08:00"), mon("09:00"), None, None, H, H)),
    ("decision cancelled while returned", Target("decision", 2 * H), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "returned"),
      m(mon("10:00"), "cancelled")], mon("12:00"),
     clock("decision", "cancelled", mon("08:00"), mon("10:00"), None, None, H, H, None,
           [(mon("09:00"), mon("10:00"))])),

    # -- start: from approval until the ticket is first started, held or finished ------------
    ("start before approval", Target("start", H), OFFICE, STARTED, mon("09:00"),
     clock("start", "not_started", remaining=H)),
    ("start running", Target("start", H), OFFICE, STARTED, mon("10:30"),
     clock("start", "running", mon("10:00"), None, mon("11:00"), mon("10:45"), 30 * M, 30 * M)),
    ("start breached", Target("start", H), OFFICE, STARTED, mon("12:00"),
     clock("start", "breached", mon("10:00"), mon("11:30"), mon("11:00"), mon("10:45"), 90 * M,
           -30 * M)),
    ("start stopped by a hold", Target("start", H), OFFICE,
     APPROVED + [m(mon("10:40"), "in_service", "on_hold")], mon("12:00"),
     clock("start", "met", mon("10:00"), mon("10:40"), None, None, 40 * M, 20 * M)),
    ("start stopped by a finish", Target("start", H), OFFICE,
     APPROVED + [m(mon("10:50"), "in_service", "finished")], mon("12:00"),
     clock("start", "met", mon("10:00"), mon("10:50"), None, mon("10:45"), 50 * M, 10 * M)),
    ("start stopped by completion", Target("start", H), OFFICE,
     APPROVED[:2] + [m(mon("10:20"), "completed")], mon("12:00"),
     clock("start", "met", mon("10:00"), mon("10:20"), None, None, 20 * M, 40 * M)),
    ("start cancelled", Target("start", H), OFFICE,
     APPROVED[:2] + [m(mon("10:20"), "cancelled")], mon("12:00"),
     clock("start", "cancelled", mon("10:00"), mon("10:20"), None, None, 20 * M, 40 * M)),
    ("start never starts when rejected", Target("start", H), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "rejected")], mon("12:00"),
     clock("start", "not_started", remaining=H)),
    # approved Friday 17:30, started Monday 08:45: 30 + 45 minutes
    ("start over the weekend", Target("start", H), OFFICE,
     [m(fri("17:00"), "pending_authorization"), m(fri("17:30"), "pending_assignment"),
      m(mon("08:45"), "in_service", "in_progress")], mon("12:00"),
     clock("start", "breached", fri("17:30"), mon("08:45"), mon("08:30"), mon("08:15"),
           75 * M, -15 * M)),

    # -- resolution: from filing until the ticket is finished --------------------------------
    ("resolution met at the finish", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "pending_assignment"),
      m(mon("09:10"), "in_service", "pending"), m(mon("10:00"), "in_service", "in_progress"),
      m(mon("12:00"), "in_service", "finished"), m(mon("12:30"), "completed", "finished")],
     mon("15:00"),
     clock("resolution", "met", mon("08:00"), mon("12:00"), mon("12:00"), mon("11:00"), 4 * H,
           ZERO)),
    ("resolution closed ticket", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "in_service", "closed")],
     mon("15:00"),
     clock("resolution", "met", mon("08:00"), mon("09:00"), None, None, H, 3 * H)),
    ("resolution completed without a ticket", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("10:00"), "completed")], mon("15:00"),
     clock("resolution", "met", mon("08:00"), mon("10:00"), None, None, 2 * H, 2 * H)),
    ("resolution rejected", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "rejected")], mon("15:00"),
     clock("resolution", "cancelled", mon("08:00"), mon("09:00"), None, None, H, 3 * H)),
    ("resolution cancelled in service", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "in_service", "in_progress"),
      m(mon("10:00"), "cancelled", "in_progress")], mon("15:00"),
     clock("resolution", "cancelled", mon("08:00"), mon("10:00"), None, None, 2 * H, 2 * H)),
    ("resolution breached then finished stays breached", resolution(), OFFICE,
     [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "in_service", "in_progress"),
      m(mon("13:00"), "in_service", "finished")], mon("15:00"),
     clock("resolution", "breached", mon("08:00"), mon("13:00"), mon("12:00"), mon("11:00"),
           5 * H, -H)),
]


@pytest.mark.parametrize(("target", "calendar", "moments", "now", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clock_table(target, calendar, moments, now, expected):
    assert compute(target, calendar, moments, now) == expected


# -- daylight saving ----------------------------------------------------------------------------
WEEKEND_CHANGES = [
    ("Madrid spring", "Europe/Madrid", "2024-03-29", "2024-04-01"),
    ("Madrid autumn", "Europe/Madrid", "2024-10-25", "2024-10-28"),
    ("New York spring", "America/New_York", "2024-03-08", "2024-03-11"),
    ("New York autumn", "America/New_York", "2024-11-01", "2024-11-04"),
]


@pytest.mark.parametrize(("zone", "friday", "monday"), [c[1:] for c in WEEKEND_CHANGES],
                         ids=[c[0] for c in WEEKEND_CHANGES])
def test_clock_over_a_weekend_clock_change(zone, friday, monday):
    tz = ZoneInfo(zone)
    calendar = Calendar(zone, weekdays())
    filed = at(friday, "17:50", tz)
    moments = [m(filed, "pending_authorization")]
    got = compute(resolution(), calendar, moments, at(monday, "09:00", tz))
    assert got == clock("resolution", "running", filed, None, at(monday, "11:50", tz),
                        at(monday, "10:50", tz), 70 * M, 170 * M)
    # the same history in UTC gives the same clock
    in_utc = [m(filed.astimezone(UTC), "pending_authorization")]
    assert compute(resolution(), calendar, in_utc, at(monday, "09:00", tz).astimezone(UTC)) == got
    # the hold case on the Monday after the change: held 3 h, due 3 h later
    held = [m(at(monday, "08:00", tz), "pending_authorization"),
            m(at(monday, "09:00", tz), "in_service", "on_hold"),
            m(at(monday, "12:00", tz), "in_service", "in_progress")]
    assert compute(resolution(), calendar, held, at(monday, "12:00", tz)).due_at \
        == at(monday, "15:00", tz)


NIGHT = Calendar("Europe/Madrid", (((0, 360),),) * 7)          # 00:00-06:00 every day


def test_clock_in_a_night_shift_that_springs_forward():
    # Sunday 2024-03-31 00:00 CET (23:00 UTC) to 06:00 CEST (04:00 UTC) holds 5 h; 6 h are
    # due the next night at 01:00 CEST; 75% (4 h 30) at 03:30 UTC = 05:30 CEST
    filed = at("2024-03-31", "00:00")
    got = compute(resolution(6), NIGHT, filed_only(filed), at("2024-03-31", "12:00"))
    assert got == clock("resolution", "warning", filed, None, at("2024-04-01", "01:00"),
                        at("2024-03-31", "05:30"), 5 * H, H)


def test_clock_in_a_night_shift_that_falls_back():
    # Sunday 2024-10-27 00:00 CEST (22:00 UTC) to 06:00 CET (05:00 UTC) holds 7 h: 6 h are due
    # at 04:00 UTC = 05:00 CET; 4 h 30 at 02:30 UTC = 03:30 CET
    filed = at("2024-10-27", "00:00")
    got = compute(resolution(6), NIGHT, filed_only(filed), at("2024-10-27", "12:00"))
    assert got == clock("resolution", "breached", filed, None, at("2024-10-27", "05:00"),
                        at("2024-10-27", "03:30"), 7 * H, -H)
    assert got.due_at == datetime(2024, 10, 27, 4, 0, tzinfo=UTC)


def fold(hhmm: str, second: bool) -> datetime:
    """A wall time of 2024-10-27 in Madrid, in the hour that happens twice (02:00-03:00): the
    first time (CEST, fold 0) or the second (CET, fold 1)."""
    return at("2024-10-27", hhmm).replace(fold=int(second))


def utc(day: str, hhmm: str) -> datetime:
    return at(day, hhmm, UTC)


def test_clock_read_in_the_repeated_hour_with_local_times():
    # filed 02:30 CEST (00:30 UTC), read at 02:15 CET (01:15 UTC): 45 minutes later, not before.
    # 6 h: 4 h 30 until 06:00 CET (05:00 UTC), 1 h 30 from 00:00 CET on the 28th (23:00 UTC)
    got = compute(resolution(6), NIGHT, filed_only(fold("02:30", False)), fold("02:15", True))
    assert (got.state, got.elapsed, got.remaining) == ("running", 45 * M, 5 * H + 15 * M)
    assert got.started_at.astimezone(UTC) == utc("2024-10-27", "00:30")
    assert got.due_at.astimezone(UTC) == utc("2024-10-28", "00:30")
    assert got.warn_at.astimezone(UTC) == utc("2024-10-27", "05:00")


def test_a_hold_in_the_repeated_hour_with_local_times():
    # held from 02:30 CEST (00:30 UTC) to 02:30 CET (01:30 UTC): an hour, though the wall clock
    # reads the same; worked 23:00-00:30 and 01:30-02:30 UTC
    moments = [m(at("2024-10-27", "01:00"), "pending_authorization"),
               m(at("2024-10-27", "01:10"), "in_service", "in_progress"),
               m(fold("02:30", False), "in_service", "on_hold"),
               m(fold("02:30", True), "in_service", "in_progress")]
    got = compute(resolution(6), NIGHT, moments, at("2024-10-27", "03:30"))
    assert (got.state, got.elapsed, got.paused_since) == ("running", 150 * M, None)
    assert [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in got.pauses] == [
        (utc("2024-10-27", "00:30"), utc("2024-10-27", "01:30"))]


def test_timeline_in_the_repeated_hour_with_local_times():
    # 02:10 CET comes 20 minutes after 02:50 CEST: not a step back in time
    events = [event(fold("02:50", False), "filed", "pending_authorization"),
              event(fold("02:10", True), "returned", "returned")]
    assert [x.at.astimezone(UTC) for x in timeline(events)] == [
        utc("2024-10-27", "00:50"), utc("2024-10-27", "01:10")]


def test_naive_instants_are_refused():
    with pytest.raises(TypeError):
        compute(resolution(), OFFICE, filed_only(), datetime(2024, 6, 10, 12))
    with pytest.raises(TypeError):
        timeline([event(datetime(2024, 6, 10, 8), "filed", "pending_authorization")])


def test_clock_across_midnight_with_a_2400_end():
    # 00:00-02:00 and 20:00-24:00: filed Monday 23:00, 2 h due Tuesday 01:00, 1 h 30 at 00:30
    late = Calendar("Europe/Madrid", (((0, 120), (1200, 1440)),) * 7)
    got = compute(resolution(2), late, filed_only(mon("23:00")), tue("00:30"))
    assert got == clock("resolution", "warning", mon("23:00"), None, tue("01:00"), tue("00:30"),
                        90 * M, 30 * M)


def test_a_zero_length_hold_changes_nothing():
    moments = [m(mon("08:00"), "pending_authorization"), m(mon("09:00"), "in_service", "on_hold"),
               m(mon("09:00"), "in_service", "in_progress")]
    got = compute(resolution(), OFFICE, moments, mon("10:00"))
    assert (got.state, got.elapsed, got.due_at, got.paused_since) == \
        ("running", 2 * H, mon("12:00"), None)


def test_open_clocks():
    assert compute(resolution(), OFFICE, HELD, mon("10:00")).open             # paused
    assert compute(resolution(), OFFICE, HELD, mon("15:00")).open             # breached
    assert not compute(Target("start", H), OFFICE, STARTED, mon("12:00")).open  # stopped late
    assert not compute(resolution(), OFFICE, HELD, fri("12:00")).open         # not started


# -- the timeline from history events -----------------------------------------------------------
def event(when, action, to_status=None, changes=None):
    return SimpleNamespace(created_at=when, action=action, to_status=to_status, changes=changes)


def ticket(old, new):
    return {"ticket_status": [old, new]}


HISTORY = [
    event(mon("08:00"), "filed", "pending_authorization"),
    event(mon("09:00"), "authorized", "pending_evaluation"),
    event(mon("10:00"), "approved", "pending_assignment"),
    event(mon("10:00"), "assigned", "in_service"),                    # same instant
    event(mon("10:00"), "ticket_created"),
    event(mon("10:30"), "commented", None, {"body": "hola"}),        # changes no status
    event(mon("11:00"), "ticket_started", None, ticket("pending", "in_progress")),
    event(mon("10:50"), "ticket_held", None, ticket("in_progress", "on_hold")),  # clock skew
    event(mon("12:00"), "ticket_resumed", None, ticket("on_hold", "in_progress")),
    event(mon("13:00"), "ticket_finished", None, ticket("in_progress", "finished")),
    event(mon("13:00"), "ticket_created"),                            # a ticket already exists
    event(mon("14:00"), "completed", "completed"),
]


def test_timeline_from_history_events():
    assert timeline(HISTORY) == [
        m(mon("08:00"), "pending_authorization"),
        m(mon("09:00"), "pending_evaluation"),
        m(mon("10:00"), "pending_assignment"),
        m(mon("10:00"), "in_service"),
        m(mon("10:00"), "in_service", "pending"),
        m(mon("11:00"), "in_service", "in_progress"),
        m(mon("11:00"), "in_service", "on_hold"),          # never before the previous moment
        m(mon("12:00"), "in_service", "in_progress"),
        m(mon("13:00"), "in_service", "finished"),
        m(mon("14:00"), "completed", "finished"),
    ]


def test_three_clocks_from_one_history():
    moments = timeline(HISTORY)
    # resolution: 08:00-11:00 and 12:00-13:00 worked, held 11:00-12:00 -> exactly 4 h
    assert compute(resolution(), OFFICE, moments, mon("15:00")) == clock(
        "resolution", "met", mon("08:00"), mon("13:00"), mon("13:00"), mon("11:00"), 4 * H,
        ZERO, None, [(mon("11:00"), mon("12:00"))])
    # decision: 08:00 to the approval at 10:00, 1 h target
    assert compute(Target("decision", H), OFFICE, moments, mon("15:00")) == clock(
        "decision", "breached", mon("08:00"), mon("10:00"), mon("09:00"), mon("08:45"), 2 * H,
        -H)
    # start: approval at 10:00 to the ticket started at 11:00, 2 h target
    assert compute(Target("start", 2 * H), OFFICE, moments, mon("15:00")) == clock(
        "start", "met", mon("10:00"), mon("11:00"), None, None, H, H)


def test_timeline_never_runs_backwards():
    events = [event(mon("09:00"), "filed", "pending_authorization"),
              event(mon("08:00"), "returned", "returned"),                 # an hour "earlier"
              event(mon("07:00"), "resubmitted", "pending_authorization"),
              event(mon("10:00"), "approved", "pending_assignment")]
    moments = timeline(events)
    assert [x.at for x in moments] == [mon("09:00")] * 3 + [mon("10:00")]
    got = compute(Target("decision", 2 * H), OFFICE, moments, mon("12:00"))
    assert (got.state, got.elapsed, got.started_at, got.stopped_at) == \
        ("met", H, mon("09:00"), mon("10:00"))


def test_timeline_ignores_what_is_not_a_status_change():
    events = [event(mon("08:00"), "filed", "pending_authorization"),
              event(mon("08:10"), "noted", None, "not a dict"),
              event(mon("08:20"), "edited", None, {"ticket_status": ["pending", None]}),
              event(mon("08:30"), "edited", None, {"ticket_status": ["a", "b", "c"]}),
              event(mon("08:40"), "edited", None, {"ticket_status": "on_hold"}),
              event(mon("08:50"), "edited", "pending_authorization", {})]
    assert timeline(events) == [m(mon("08:00"), "pending_authorization")]
    assert timeline([]) == []


def test_timeline_status_and_ticket_in_one_event():
    events = [event(mon("08:00"), "filed", "pending_authorization"),
              event(mon("09:00"), "finished", "completed", ticket("in_progress", "finished"))]
    assert timeline(events) == [m(mon("08:00"), "pending_authorization"),
                                m(mon("09:00"), "completed", "finished")]


# -- targets ------------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [ZERO, -M, timedelta(hours=-4)])
def test_a_target_must_be_longer_than_zero(length):
    with pytest.raises(ValueError):
        Target("resolution", length)


@pytest.mark.parametrize(("kind", "warn"), [("eventually", 75), ("resolution", 0),
                                            ("resolution", 101)])
def test_target_kind_and_warning_are_checked(kind, warn):
    with pytest.raises(ValueError):
        Target(kind, H, warn_percent=warn)


def test_target_defaults():
    target = Target("decision", 4 * H, pauses=["returned"])
    assert target.pauses == frozenset({"returned"})
    assert Target("start", H).pauses == frozenset({"returned", "on_hold"})
    assert Target("start", 4 * H).warn_after == 3 * H


def test_a_target_beyond_decades_of_working_time_is_never_due():
    # One working minute a week: 60 days of minutes would take 1,600 years
    sparse = Calendar("UTC", (((600, 601),),) + ((),) * 6)
    target = Target("resolution", timedelta(days=60))
    filed = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    clock = compute(target, sparse, [Moment(filed, "pending_authorization")],
                    filed + timedelta(days=14))
    assert clock.state == "running" and clock.due_at is None and clock.warn_at is None
    assert clock.elapsed == timedelta(minutes=2)
