"""Staff availability: who in a service unit is free when, and the earliest window in which a
new piece of work of a given estimate could be done.

A pure computation (no database): the viability pages and API turn people and their open
tickets into ``Worker`` values and call ``staff_picture``. Hours are exact Decimals, and every
walk over days is bounded (a calendar with no working hours ends the walk, it never loops).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

ZERO = Decimal(0)
DAY_HOURS = Decimal(24)
SEARCH_LIMIT_DAYS = 370  # how far (calendar days) the earliest window is looked for
HORIZON_DAYS = 10  # working days shown per worker
MAX_WALK_DAYS = 4 * 366  # the farthest from today any walk may reach


# --- values ----------------------------------------------------------------------------------


def _as_hours(value: Decimal | int, what: str) -> Decimal:
    """A finite, non-negative Decimal; floats are refused (they are not exact)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal or an int, not {type(value).__name__}")
    hours = Decimal(value)
    if not hours.is_finite() or hours < 0:
        raise ValueError(f"{what} must be a finite number of hours >= 0, got {value}")
    return hours


@dataclass(frozen=True)
class Calendar:
    """Working hours per weekday (0=Monday .. 6=Sunday) as Decimal hours, and non-working dates."""

    hours_by_weekday: tuple[Decimal, ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        hours = tuple(_as_hours(h, "working hours") for h in self.hours_by_weekday)
        if len(hours) != 7:
            raise ValueError(f"a calendar needs 7 weekdays of hours, got {len(hours)}")
        if any(h > DAY_HOURS for h in hours):
            raise ValueError("a day has at most 24 working hours")
        object.__setattr__(self, "hours_by_weekday", hours)
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    def capacity(self, day: date) -> Decimal:
        """Working hours on ``day``: 0 on holidays."""
        if day in self.holidays:
            return ZERO
        return self.hours_by_weekday[day.weekday()]

    def working_days_between(self, first: date, last: date) -> int:
        """How many days of ``first``..``last`` (both included) have capacity; 0 when
        ``last < first``. Counted by whole weeks, so a long range costs nothing."""
        if last < first:
            return 0
        weeks, rest = divmod((last - first).days + 1, 7)
        working = [h > 0 for h in self.hours_by_weekday]
        count = weeks * sum(working)
        count += sum(working[(first.weekday() + i) % 7] for i in range(rest))
        count -= sum(1 for h in self.holidays if first <= h <= last and working[h.weekday()])
        return count


WEEKDAYS_8H = Calendar((Decimal(8),) * 5 + (ZERO,) * 2)


@dataclass(frozen=True)
class Booking:
    """An open ticket's planned work: ``hours`` still to do between ``start`` and ``end``
    (both included)."""

    start: date
    end: date
    hours: Decimal

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a booking ends ({self.end}) before it starts ({self.start})")
        object.__setattr__(self, "hours", _as_hours(self.hours, "booked hours"))


@dataclass(frozen=True)
class Worker:
    id: int
    name: str
    calendar: Calendar
    bookings: tuple[Booking, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "bookings", tuple(self.bookings))


@dataclass(frozen=True)
class Window:
    """Where an estimate fits: free time used from ``start`` until ``end`` covers ``hours``."""

    worker_id: int
    start: date
    end: date
    hours: Decimal


@dataclass(frozen=True)
class WorkerPicture:
    worker_id: int
    name: str
    days: tuple[tuple[date, Decimal, Decimal], ...]  # (day, capacity, free), working days only
    free_total: Decimal  # free hours over ``days``
    open_bookings: int
    earliest: Window | None  # None: no estimate, or it does not fit within the search limit


# --- booked and free hours -------------------------------------------------------------------


def _walk(first: date, days: int) -> Iterator[date]:
    """``days`` consecutive days from ``first`` (fewer if the calendar's end comes first)."""
    day = first
    for _ in range(days):
        yield day
        if day == date.max:
            return
        day += timedelta(days=1)


def _check_walk(days: int) -> None:
    if days < 0:
        raise ValueError(f"a number of days cannot be negative, got {days}")
    if days > MAX_WALK_DAYS:
        raise ValueError(f"the search would reach {days} days ahead; at most {MAX_WALK_DAYS}")


def even_share(hours: Decimal, parts: int, index: int) -> Decimal:
    """The ``index``-th of ``parts`` even shares of ``hours``: whole cents each, the remainder
    cents one each on the first shares, and any fraction of a cent on the first share, so the
    shares always sum to exactly ``hours``."""
    if parts <= 0 or not 0 <= index < parts:
        raise ValueError(f"share {index} of {parts} does not exist")
    cents = int(hours.scaleb(2).to_integral_value(rounding=ROUND_DOWN))
    base, extra = divmod(cents, parts)
    share = Decimal(base + (1 if index < extra else 0)).scaleb(-2)
    if index == 0:
        share += hours - Decimal(cents).scaleb(-2)
    return share


def _spread(booking: Booking, first: date, parts: int, days: list[date],
            calendar: Calendar, booked: dict[date, Decimal]) -> None:
    """Add a booking's even shares to its working days from ``first`` that lie in ``days``."""
    index = 0
    for day in days:
        if day > booking.end:
            return
        if day >= first and calendar.capacity(day) > 0:
            booked[day] = booked.get(day, ZERO) + even_share(booking.hours, parts, index)
            index += 1


def _pour_late(hours: Decimal, days: list[date], calendar: Calendar,
               booked: dict[date, Decimal]) -> None:
    """Late work comes first: fill each working day up to its capacity, in order. What is left
    when the walk ends goes on its last working day (overbooked, but not lost); with no working
    day at all there is nowhere to put it."""
    last_working = None
    for day in days:
        if hours <= 0:
            return
        capacity = calendar.capacity(day)
        if capacity <= 0:
            continue
        taken = min(hours, capacity)
        booked[day] = booked.get(day, ZERO) + taken
        hours -= taken
        last_working = day
    if hours > 0 and last_working is not None:
        booked[last_working] += hours


def booked_hours(worker: Worker, today: date,
                 walk_days: int = SEARCH_LIMIT_DAYS) -> dict[date, Decimal]:
    """Hours booked per day over the ``walk_days`` days from ``today`` (days with none left out).

    Each booking's hours are spread evenly (``even_share``) over the working days (capacity > 0)
    of max(start, today)..end; the shares of days past the walk are not listed. A booking whose
    window is already past (end < today), or that has no working day left in it, is late: its
    hours go on the working days from today on, filling each day up to capacity in order (late
    work comes first). Overlapping bookings add up; a day may end up overbooked."""
    _check_walk(walk_days)
    calendar = worker.calendar
    days = list(_walk(today, walk_days))
    booked: dict[date, Decimal] = {}
    late = ZERO
    for booking in worker.bookings:
        first = max(booking.start, today)
        parts = calendar.working_days_between(first, booking.end)
        if parts == 0:
            late += booking.hours
        else:
            _spread(booking, first, parts, days, calendar, booked)
    _pour_late(late, days, calendar, booked)
    return {day: hours for day, hours in sorted(booked.items()) if hours > 0}


def free_hours(worker: Worker, day: date, booked: dict[date, Decimal]) -> Decimal:
    """Capacity left on ``day``: never negative (an overbooked day has 0 free)."""
    return max(ZERO, worker.calendar.capacity(day) - booked.get(day, ZERO))


# --- earliest window -------------------------------------------------------------------------


def _reach(today: date, first: date, limit_days: int) -> int:
    """Days from today that a walk of ``limit_days`` starting on ``first`` covers."""
    _check_walk(limit_days)
    return (first - today).days + limit_days


def _earliest(worker: Worker, booked: dict[date, Decimal], hours: Decimal, first: date,
              limit_days: int) -> Window | None:
    window_start = None
    found = ZERO
    for day in _walk(first, limit_days):
        if hours == 0:
            if worker.calendar.capacity(day) > 0:
                return Window(worker.id, day, day, hours)
            continue
        free = free_hours(worker, day, booked)
        if free <= 0:
            continue
        window_start = window_start or day
        found += free
        if found >= hours:
            return Window(worker.id, window_start, day, hours)
    return None


def earliest_window(worker: Worker, hours: Decimal, start: date, today: date,
                    limit_days: int = SEARCH_LIMIT_DAYS) -> Window | None:
    """The first window in which ``worker``'s free hours cover ``hours``.

    Days are walked from max(start, today); the window starts on the first day with free time
    and ends on the day the free hours summed so far reach ``hours``. ``hours`` = 0 gives a
    one-day window on the first working day (capacity > 0, free or not). None when the walk of
    ``limit_days`` calendar days ends first. Negative hours raise ValueError."""
    hours = _as_hours(hours, "estimate")
    first = max(start, today)
    booked = booked_hours(worker, today, _reach(today, first, limit_days))
    return _earliest(worker, booked, hours, first, limit_days)


# --- the staff picture -----------------------------------------------------------------------


def _horizon(worker: Worker, booked: dict[date, Decimal], first: date, horizon_days: int,
             limit_days: int) -> Iterator[tuple[date, Decimal, Decimal]]:
    """(day, capacity, free) for the next ``horizon_days`` working days from ``first``, looked
    for within ``limit_days`` calendar days."""
    shown = 0
    for day in _walk(first, limit_days):
        if shown >= horizon_days:
            return
        capacity = worker.calendar.capacity(day)
        if capacity > 0:
            yield day, capacity, free_hours(worker, day, booked)
            shown += 1


def _picture(worker: Worker, hours: Decimal | None, first: date, today: date,
             horizon_days: int, limit_days: int) -> WorkerPicture:
    booked = booked_hours(worker, today, _reach(today, first, limit_days))
    days = tuple(_horizon(worker, booked, first, horizon_days, limit_days))
    earliest = None if hours is None else _earliest(worker, booked, hours, first, limit_days)
    return WorkerPicture(
        worker_id=worker.id,
        name=worker.name,
        days=days,
        free_total=sum((free for _, _, free in days), ZERO),
        open_bookings=len(worker.bookings),
        earliest=earliest,
    )


def _picture_order(picture: WorkerPicture) -> tuple:
    earliest = picture.earliest
    return (earliest is None, earliest.end if earliest else date.min, -picture.free_total,
            picture.name, picture.worker_id)


def staff_picture(workers: Iterable[Worker], hours: Decimal | None, start: date, today: date,
                  horizon_days: int = HORIZON_DAYS,
                  limit_days: int = SEARCH_LIMIT_DAYS) -> list[WorkerPicture]:
    """Per worker, from max(start, today): the next ``horizon_days`` working days of that
    worker's calendar with capacity and free hours, their free total, the number of open
    bookings, and the earliest window for ``hours`` (None hours: no window).

    Sorted by earliest window end (no window last), then free total (most first), then name."""
    if hours is not None:
        hours = _as_hours(hours, "estimate")
    if horizon_days < 0:
        raise ValueError(f"the horizon cannot be negative, got {horizon_days}")
    first = max(start, today)
    pictures = [_picture(w, hours, first, today, horizon_days, limit_days) for w in workers]
    return sorted(pictures, key=_picture_order)


def earliest_overall(pictures: Iterable[WorkerPicture]) -> Window | None:
    """The window that ends first (ties: the one that starts first, then the lowest worker id);
    None when nobody has one."""
    windows = [p.earliest for p in pictures if p.earliest is not None]
    if not windows:
        return None
    return min(windows, key=lambda w: (w.end, w.start, w.worker_id))


def staff_available(pictures: Sequence[WorkerPicture], hours: Decimal | None,
                    within_days: int | None = None) -> bool:
    """Whether the unit can take the work soon enough.

    The horizon is each worker's working days shown in their picture (``horizon_days`` of
    ``staff_picture``), or only the first ``within_days`` of them when given.
    With an estimate: staff is available when at least one worker's earliest window ENDS on or
    before the last day of that worker's horizon, i.e. the work fits in the next horizon
    working days counting from the start date.
    Without one (``hours`` None): staff is available when any worker has any free hour in the
    horizon.
    The pictures must have been computed for the same ``hours`` (ValueError otherwise)."""
    if within_days is not None and within_days < 0:
        raise ValueError(f"the horizon cannot be negative, got {within_days}")
    if hours is not None:
        hours = _as_hours(hours, "estimate")
    for picture in pictures:
        earliest = picture.earliest
        if hours is not None and earliest is not None and earliest.hours != hours:
            raise ValueError("the pictures were computed for another estimate")
        days = picture.days if within_days is None else picture.days[:within_days]
        if not days:
            continue
        if hours is None:
            if any(free > 0 for _, _, free in days):
                return True
        elif earliest is not None and earliest.end <= days[-1][0]:
            return True
    return False
