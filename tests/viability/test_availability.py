"""Staff availability (app.viability.availability): booked and free hours per day, earliest
windows, the staff picture and its rule. Expected values are worked out by hand in comments."""

import random
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from app.viability.availability import (
    WEEKDAYS_8H,
    Booking,
    Calendar,
    Window,
    Worker,
    booked_hours,
    earliest_overall,
    earliest_window,
    even_share,
    free_hours,
    staff_available,
    staff_picture,
)

TODAY = date(2025, 3, 3)  # a Monday


def day(n: int) -> date:
    """March 2025, day n (3 = Monday, 5 = Wednesday, 8-9 = the weekend)."""
    return date(2025, 3, n)


# Ana: 8 h Monday-Friday, Wednesday 5 March is a holiday.
#   10 h over 26 Feb - 7 Mar: from today the working days are 3, 4, 6, 7 -> 2.5 each
#   3 h on Thursday 6 -> 6 March has 5.5 booked
ANA = Worker(1, "Ana", Calendar(WEEKDAYS_8H.hours_by_weekday, frozenset({day(5)})), (
    Booking(date(2025, 2, 26), day(7), D("10")),
    Booking(day(6), day(6), D("3")),
))
# Bea: part time, 4 h Monday-Wednesday.
#   10 h over 3-9 March: working days 3, 4, 5 -> 3.34, 3.33, 3.33 (the extra cent first)
BEA = Worker(2, "Bea", Calendar((D(4), D(4), D(4), D(0), D(0), D(0), D(0))), (
    Booking(day(3), day(9), D("10")),
))
# Carlos: 8 h Monday-Friday, overbooked.
#   20 h late (24-28 Feb) + 2 h on a weekend (no working day: late too) = 22 h of late work,
#   filling 3 -> 8, 4 -> 8, 5 -> 6; plus 6 h over 3-4 March -> 3 each on top
#   booked: 3 -> 11, 4 -> 11, 5 -> 6 ; free: 0, 0, 2, then 8 a working day
CARLOS = Worker(3, "Carlos", WEEKDAYS_8H, (
    Booking(date(2025, 2, 24), date(2025, 2, 28), D("20")),
    Booking(day(8), day(9), D("2")),
    Booking(day(3), day(4), D("6")),
))
STAFF = [CARLOS, BEA, ANA]


def names(pictures):
    return [p.name for p in pictures]


# --- calendar and bookings -------------------------------------------------------------------


def test_calendar_capacity_weekdays_weekends_and_holidays():
    assert WEEKDAYS_8H.capacity(day(3)) == D(8)
    assert WEEKDAYS_8H.capacity(day(8)) == D(0)  # Saturday
    assert ANA.calendar.capacity(day(5)) == D(0)  # holiday
    assert ANA.calendar.capacity(day(12)) == D(8)  # an ordinary Wednesday
    assert BEA.calendar.capacity(day(6)) == D(0)  # Thursday: not her day


def test_working_days_between_counts_weeks_weekdays_and_holidays():
    assert ANA.calendar.working_days_between(day(3), day(9)) == 4  # Mon-Fri less Wednesday
    assert ANA.calendar.working_days_between(day(3), day(31)) == 20  # 21 weekdays less 1
    assert BEA.calendar.working_days_between(day(6), day(9)) == 0
    assert BEA.calendar.working_days_between(day(9), day(3)) == 0  # reversed: empty
    # ten years in one go: 3652 days = 521 weeks (2605) + Wed-Sun (3)
    assert WEEKDAYS_8H.working_days_between(date(2025, 1, 1), date(2034, 12, 31)) == 2608


def test_booked_hours_even_split_from_today_skipping_holidays():
    assert booked_hours(ANA, TODAY) == {
        day(3): D("2.5"), day(4): D("2.5"), day(6): D("5.5"), day(7): D("2.5"),
    }


def test_booked_hours_rounding_gives_remainder_cents_to_first_days():
    booked = booked_hours(BEA, TODAY)
    assert booked == {day(3): D("3.34"), day(4): D("3.33"), day(5): D("3.33")}
    assert sum(booked.values()) == D(10)


def test_booked_hours_late_work_fills_from_today_and_overlaps_add_up():
    assert booked_hours(CARLOS, TODAY) == {day(3): D(11), day(4): D(11), day(5): D(6)}


def test_free_hours_is_never_negative_on_an_overbooked_day():
    booked = booked_hours(CARLOS, TODAY)
    assert free_hours(CARLOS, day(3), booked) == D(0)  # 8 - 11, not -3
    assert free_hours(CARLOS, day(5), booked) == D(2)
    assert free_hours(CARLOS, day(8), booked) == D(0)  # weekend
    assert free_hours(ANA, day(6), booked_hours(ANA, TODAY)) == D("2.5")
    assert free_hours(BEA, day(4), booked_hours(BEA, TODAY)) == D("0.67")


def test_late_work_beyond_the_walk_is_kept_on_its_last_working_day():
    late = Worker(9, "Late", WEEKDAYS_8H, (Booking(date(2025, 1, 6), date(2025, 1, 10), D(100)),))
    # a 7-day walk holds Monday-Friday: 5 x 8 = 40, the other 60 land on Friday
    assert booked_hours(late, TODAY, walk_days=7) == {
        day(3): D(8), day(4): D(8), day(5): D(8), day(6): D(8), day(7): D(68),
    }


def test_even_share_sums_exactly():
    assert [even_share(D(10), 3, i) for i in range(3)] == [D("3.34"), D("3.33"), D("3.33")]
    # a fraction of a cent goes on the first share: 1.005 / 2 -> 0.505 + 0.50
    assert [even_share(D("1.005"), 2, i) for i in range(2)] == [D("0.505"), D("0.50")]
    assert [even_share(D("0.02"), 5, i) for i in range(5)] == [D("0.01")] * 2 + [D(0)] * 3
    for hours, parts in [(D(10), 3), (D("7.77"), 7), (D("0.01"), 4), (D("100"), 6)]:
        assert sum(even_share(hours, parts, i) for i in range(parts)) == hours
    with pytest.raises(ValueError):
        even_share(D(1), 3, 3)


# --- earliest window -------------------------------------------------------------------------


def test_earliest_window_zero_hours_is_the_first_working_day():
    assert earliest_window(CARLOS, D(0), TODAY, TODAY) == Window(3, day(3), day(3), D(0))
    # starting on a weekend: the next Monday; for Bea, starting Thursday: the next Monday too
    assert earliest_window(ANA, D(0), day(8), TODAY) == Window(1, day(10), day(10), D(0))
    assert earliest_window(BEA, D(0), day(6), TODAY) == Window(2, day(10), day(10), D(0))


def test_earliest_window_small_estimates():
    assert earliest_window(ANA, D(2), TODAY, TODAY) == Window(1, day(3), day(3), D(2))
    # Bea: 0.66 + 0.67 + 0.67 reaches exactly 2 on Wednesday
    assert earliest_window(BEA, D(2), TODAY, TODAY) == Window(2, day(3), day(5), D(2))
    # Carlos has no free time until Wednesday (2 h)
    assert earliest_window(CARLOS, D(2), TODAY, TODAY) == Window(3, day(5), day(5), D(2))


def test_earliest_window_spanning_days():
    # Ana: 5.5 + 5.5 + 0 (holiday) + 2.5 = 13.5 >= 12 on Thursday
    assert earliest_window(ANA, D(12), TODAY, TODAY) == Window(1, day(3), day(6), D(12))
    # Bea: 2 this week, then 4 h on 10, 11, 12 March -> 14 >= 12 on the 12th
    assert earliest_window(BEA, D(12), TODAY, TODAY) == Window(2, day(3), day(12), D(12))
    # Carlos: 2 + 8 + 8 = 18 >= 12 on Friday
    assert earliest_window(CARLOS, D(12), TODAY, TODAY) == Window(3, day(5), day(7), D(12))
    # Bea for 40: 2 + 12 a week (10-12, 17-19, 24-26 March -> 38) + 4 on 31 March = 42
    assert earliest_window(BEA, D(40), TODAY, TODAY) == Window(2, day(3), day(31), D(40))


def test_earliest_window_from_a_later_start_or_an_earlier_one():
    # from Thursday 6: 2.5 + 5.5 = 8 on Friday
    assert earliest_window(ANA, D(8), day(6), TODAY) == Window(1, day(6), day(7), D(8))
    # a start in the past counts from today
    assert earliest_window(ANA, D(2), date(2025, 2, 1), TODAY) == Window(1, day(3), day(3), D(2))


def test_earliest_window_limit_is_calendar_days_and_exact():
    # Ana for 40: 27 by Monday 10, 35 on Tuesday 11, 43 on Wednesday 12
    assert earliest_window(ANA, D(40), TODAY, TODAY, limit_days=10) == Window(
        1, day(3), day(12), D(40))
    assert earliest_window(ANA, D(40), TODAY, TODAY, limit_days=9) is None
    # more than a year of work does not fit in the default search
    assert earliest_window(ANA, D(5000), TODAY, TODAY) is None


def test_earliest_window_refuses_bad_input():
    with pytest.raises(ValueError):
        earliest_window(ANA, D(-1), TODAY, TODAY)
    with pytest.raises(ValueError):
        earliest_window(ANA, D("NaN"), TODAY, TODAY)
    with pytest.raises(TypeError):
        earliest_window(ANA, 1.5, TODAY, TODAY)
    with pytest.raises(ValueError):
        earliest_window(ANA, D(1), TODAY, TODAY, limit_days=-1)
    with pytest.raises(ValueError):  # bounded work whatever the start date
        earliest_window(ANA, D(1), date(9999, 12, 1), TODAY)


def test_values_refuse_bad_input():
    with pytest.raises(ValueError):
        Booking(day(3), day(4), D(-1))
    with pytest.raises(ValueError):
        Booking(day(4), day(3), D(1))
    with pytest.raises(ValueError):
        Calendar((D(8),) * 6)
    with pytest.raises(ValueError):
        Calendar((D(-1),) + (D(8),) * 6)
    with pytest.raises(ValueError):
        Calendar((D(25),) + (D(8),) * 6)
    with pytest.raises(ValueError):
        staff_picture(STAFF, D(-1), TODAY, TODAY)


def test_a_calendar_without_working_hours_terminates_with_nothing():
    idle = Worker(7, "Idle", Calendar((D(0),) * 7), (
        Booking(date(2025, 2, 1), date(2025, 2, 2), D(5)),
        Booking(day(3), day(20), D(5)),
    ))
    all_holidays = Worker(8, "Away", Calendar(
        WEEKDAYS_8H.hours_by_weekday,
        frozenset(TODAY + timedelta(days=i) for i in range(400))))
    for worker in (idle, all_holidays):
        assert booked_hours(worker, TODAY) == {}
        assert earliest_window(worker, D(0), TODAY, TODAY) is None
        assert earliest_window(worker, D(1), TODAY, TODAY) is None
        [picture] = staff_picture([worker], D(1), TODAY, TODAY)
        assert picture.days == ()
        assert picture.free_total == D(0)
        assert picture.earliest is None
        assert not staff_available([picture], D(1))
        assert not staff_available(staff_picture([worker], None, TODAY, TODAY), None)


# --- the staff picture -----------------------------------------------------------------------


def test_staff_picture_days_totals_and_bookings():
    by_name = {p.name: p for p in staff_picture(STAFF, D(12), TODAY, TODAY, horizon_days=5)}
    ana, bea, carlos = by_name["Ana"], by_name["Bea"], by_name["Carlos"]
    assert ana.days == (  # the holiday is skipped, Monday 10 closes the five working days
        (day(3), D(8), D("5.5")), (day(4), D(8), D("5.5")), (day(6), D(8), D("2.5")),
        (day(7), D(8), D("5.5")), (day(10), D(8), D(8)),
    )
    assert bea.days == (
        (day(3), D(4), D("0.66")), (day(4), D(4), D("0.67")), (day(5), D(4), D("0.67")),
        (day(10), D(4), D(4)), (day(11), D(4), D(4)),
    )
    assert [free for _, _, free in carlos.days] == [D(0), D(0), D(2), D(8), D(8)]
    assert (ana.free_total, bea.free_total, carlos.free_total) == (D(27), D(10), D(18))
    assert (ana.open_bookings, bea.open_bookings, carlos.open_bookings) == (2, 1, 3)
    assert (ana.worker_id, bea.worker_id, carlos.worker_id) == (1, 2, 3)


def test_staff_picture_sorted_by_window_end_then_free_total_then_name():
    # 12 h ends: Ana 6, Carlos 7, Bea 12
    assert names(staff_picture(STAFF, D(12), TODAY, TODAY, horizon_days=5)) == [
        "Ana", "Carlos", "Bea"]
    # 2 h ends: Ana 3; Bea and Carlos both 5 -> Carlos has more free time (18 > 10)
    assert names(staff_picture(STAFF, D(2), TODAY, TODAY, horizon_days=5)) == [
        "Ana", "Carlos", "Bea"]
    # 0 h: everyone on Monday 3 -> by free total 27, 18, 10
    zero = staff_picture(STAFF, D(0), TODAY, TODAY, horizon_days=5)
    assert names(zero) == ["Ana", "Carlos", "Bea"]
    assert {p.earliest for p in zero} == {Window(i, day(3), day(3), D(0)) for i in (1, 2, 3)}
    # no estimate: no windows, by free total
    no_estimate = staff_picture(STAFF, None, TODAY, TODAY, horizon_days=5)
    assert names(no_estimate) == ["Ana", "Carlos", "Bea"]
    assert all(p.earliest is None for p in no_estimate)
    # equal everything: by name
    twins = [Worker(4, "Zoe", WEEKDAYS_8H), Worker(5, "Eva", WEEKDAYS_8H)]  # not by id
    assert names(staff_picture(twins, D(1), TODAY, TODAY)) == ["Eva", "Zoe"]
    # no window sorts last, whatever its free time and name: in a 2-day search for 10 h,
    # Aaron (9 h on Mondays only) has 9 free on his one day shown but no window, Zack has
    # 8 + 8 over Monday-Tuesday
    aaron = Worker(6, "Aaron", Calendar((D(9),) + (D(0),) * 6))
    fits_not = staff_picture([aaron, Worker(7, "Zack", WEEKDAYS_8H)], D(10), TODAY, TODAY,
                             horizon_days=1, limit_days=2)
    assert names(fits_not) == ["Zack", "Aaron"]
    assert [(p.free_total, p.earliest) for p in fits_not] == [
        (D(8), Window(7, day(3), day(4), D(10))), (D(9), None)]


def test_earliest_overall():
    # 40 h: Ana 3-12, Carlos 5-12, Bea 3-31 -> Ana and Carlos end together; Ana starts first
    forty = staff_picture(STAFF, D(40), TODAY, TODAY, horizon_days=5)
    assert names(forty) == ["Ana", "Carlos", "Bea"]
    assert earliest_overall(forty) == Window(1, day(3), day(12), D(40))
    # 2 h without Ana: Bea (3-5) and Carlos (5-5) end together; Bea starts first, although
    # Carlos is listed first and (here) has the lower id
    bea = Worker(9, "Bea", BEA.calendar, BEA.bookings)
    two = staff_picture([bea, CARLOS], D(2), TODAY, TODAY, horizon_days=5)
    assert names(two) == ["Carlos", "Bea"]
    assert earliest_overall(two) == Window(9, day(3), day(5), D(2))
    # same start and end: the lowest worker id
    twins = staff_picture([Worker(5, "Ava", WEEKDAYS_8H), Worker(4, "Zed", WEEKDAYS_8H)],
                          D(1), TODAY, TODAY)
    assert earliest_overall(twins) == Window(4, day(3), day(3), D(1))
    assert earliest_overall(staff_picture(STAFF, None, TODAY, TODAY)) is None
    assert earliest_overall([]) is None


def test_staff_available_with_an_estimate():
    # 12 h: Ana's window ends Thursday 6, inside her five working days (to Monday 10)
    assert staff_available(staff_picture(STAFF, D(12), TODAY, TODAY, horizon_days=5), D(12))
    # 40 h: the first windows end on the 12th; the five-day horizons end on 10, 11 and 7 March
    five = staff_picture(STAFF, D(40), TODAY, TODAY, horizon_days=5)
    assert not staff_available(five, D(40))
    # ten working days: Ana's horizon runs to 17 March, her window ends on the 12th
    assert staff_available(staff_picture(STAFF, D(40), TODAY, TODAY, horizon_days=10), D(40))
    # narrowing the horizon shown: 12 h within 3 working days (Ana: 3, 4, 6) fits, within 2 not
    twelve = staff_picture(STAFF, D(12), TODAY, TODAY, horizon_days=5)
    assert staff_available(twelve, D(12), within_days=3)
    assert not staff_available(twelve, D(12), within_days=2)
    # an estimate that fits nowhere
    assert not staff_available(staff_picture(STAFF, D(5000), TODAY, TODAY), D(5000))
    assert not staff_available([], D(1))


def test_staff_available_without_an_estimate():
    # Carlos alone is fully booked on his first two working days, with 2 h free on the third
    assert not staff_available(staff_picture([CARLOS], None, TODAY, TODAY, horizon_days=2), None)
    assert staff_available(staff_picture([CARLOS], None, TODAY, TODAY, horizon_days=3), None)
    assert staff_available(staff_picture(STAFF, None, TODAY, TODAY, horizon_days=2), None)


def test_staff_available_refuses_pictures_of_another_estimate():
    with pytest.raises(ValueError):
        staff_available(staff_picture(STAFF, D(12), TODAY, TODAY), D(2))
    with pytest.raises(ValueError):
        staff_available(staff_picture(STAFF, D(12), TODAY, TODAY), D(12), within_days=-1)


# --- properties over random bookings ---------------------------------------------------------


def _has_working_day(calendar: Calendar, first: date, last: date) -> bool:
    """Written without the module's week arithmetic: a plain walk."""
    current = first
    while current <= last:
        if current not in calendar.holidays and calendar.hours_by_weekday[current.weekday()] > 0:
            return True
        current += timedelta(days=1)
    return False


def test_random_bookings_keep_every_hour_and_free_is_never_negative():
    rng = random.Random(20250303)
    walk = 370
    walk_last = TODAY + timedelta(days=walk - 1)
    choices = [D(0), D(0), D(4), D("7.5"), D(8), D(24)]
    for _ in range(150):
        holidays = rng.randint(0, 15)
        calendar = Calendar(
            tuple(rng.choice(choices) for _ in range(7)),
            frozenset(TODAY + timedelta(days=rng.randint(-20, 200)) for _ in range(holidays)),
        )
        bookings = []
        for _ in range(rng.randint(0, 12)):
            start = TODAY + timedelta(days=rng.randint(-60, 300))
            end = min(start + timedelta(days=rng.randint(0, 40)), walk_last)
            bookings.append(Booking(start, end, D(rng.randint(0, 8000)) / 100))
        worker = Worker(1, "W", calendar, tuple(bookings))
        booked = booked_hours(worker, TODAY, walk_days=walk)

        any_working_day = _has_working_day(calendar, TODAY, walk_last)
        expected = sum(
            (b.hours for b in bookings
             if _has_working_day(calendar, max(b.start, TODAY), b.end) or any_working_day),
            D(0))
        assert sum(booked.values(), D(0)) == expected
        assert all(TODAY <= d <= walk_last and h > 0 for d, h in booked.items())
        for i in range(walk):
            current = TODAY + timedelta(days=i)
            free = free_hours(worker, current, booked)
            assert D(0) <= free <= calendar.capacity(current)
        # the earliest window for a random estimate really is covered, and not a day sooner
        hours = D(rng.randint(0, 20000)) / 100
        window = earliest_window(worker, hours, TODAY, TODAY, limit_days=walk)
        if window is not None and hours > 0:
            def free_between(first, last, worker=worker, booked=booked):
                return sum((free_hours(worker, first + timedelta(days=i), booked)
                            for i in range((last - first).days + 1)), D(0))
            assert free_between(window.start, window.end) >= hours
            assert free_between(TODAY, window.end - timedelta(days=1)) < hours
            assert free_between(TODAY, window.start - timedelta(days=1)) == 0
