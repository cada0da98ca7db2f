"""Business calendars as plain values: working shifts per weekday in a time zone, holidays on
single dates and yearly ones. No database access (the rows in app.sla.models become these).

Shifts are local wall-clock times. Each is turned into an instant with the zone's rules of that
day, so a shift on a daylight-saving day lasts what the clock on the wall says it lasts (a
02:00-06:00 shift the night clocks go forward holds 3 real hours). All arithmetic is exact
(``timedelta``): no rounding, and a long range costs one cached sum per day, not per shift.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_MINUTES = 24 * 60
ZERO = timedelta(0)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Adding business time walks day by day; a calendar always has working time within a week, so
# this bounds only what no real target reaches (about 30 years of searching).
MAX_DAYS_WALKED = 11_000
SUM_CHUNK_DAYS = 366  # how far the running totals of whole days are extended at a time

Shift = tuple[int, int]  # minutes from local midnight: start < end <= 1440


class CalendarError(ValueError):
    """A calendar that cannot be used, with the field it is about."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_hhmm(text: str) -> int:
    """'08:30' -> 510; '24:00' is the end of the day. Raises ValueError."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 \
            or len(hours) > 2:
        raise ValueError(text)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > DAY_MINUTES:
        raise ValueError(text)
    return value


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Names the zone database has that are not places: the server's own setting and a
# placeholder zone.
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


def known_zone(name: str) -> ZoneInfo:
    """The zone named ``name``; CalendarError when this machine does not know it (or it is
    not a place: ``localtime`` would follow the server's own setting)."""
    try:
        if not name or name != name.strip() or len(name) > 64 or name in NOT_PLACES:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarError("time_zone", f"unknown time zone '{name}'") from None


def check_day(shifts: list[Shift], day_name: str = "") -> tuple[Shift, ...]:
    """The day's shifts in order; CalendarError on an empty, reversed or overlapping one."""
    ordered = sorted(shifts)
    for start, end in ordered:
        if not (0 <= start < end <= DAY_MINUTES):
            raise CalendarError(day_name, f"a shift must end after it starts "
                                          f"({format_hhmm(start)}-{format_hhmm(end)})")
    for (_s1, end1), (start2, _e2) in zip(ordered, ordered[1:], strict=False):
        if start2 < end1:
            raise CalendarError(day_name, "shifts of one day overlap")
    return tuple(ordered)


@dataclass(frozen=True, eq=False)
class Calendar:
    """Working shifts per weekday (Monday first) in ``zone``; ``holidays`` are dates off,
    ``yearly`` (month, day) pairs off every year."""

    zone: str
    week: tuple[tuple[Shift, ...], ...]
    holidays: frozenset[date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()
    _tz: ZoneInfo = field(init=False, repr=False)
    _days: dict = field(init=False, repr=False)
    _sums: tuple = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", known_zone(self.zone))
        if len(self.week) != 7:
            raise CalendarError("week", "a calendar has seven weekdays")
        week = tuple(check_day(list(day), WEEKDAYS[i]) for i, day in enumerate(self.week))
        if not any(week):
            raise CalendarError("week", "a calendar needs some working time in the week")
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "yearly", frozenset(self.yearly))
        object.__setattr__(self, "_days", {})
        object.__setattr__(self, "_sums", (None, [ZERO]))
        object.__setattr__(self, "_lock", threading.Lock())

    # -- one day -------------------------------------------------------------------------
    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working intervals as UTC instants (empty on a holiday), cached."""
        cached = self._days.get(day)
        if cached is None:
            cached = () if self.is_holiday(day) else tuple(
                (a, b) for a, b in (self._span(day, s, e) for s, e in self.week[day.weekday()])
                if b > a)
            self._days[day] = cached
        return cached

    def _span(self, day: date, start: int, end: int) -> tuple[datetime, datetime]:
        return self._instant(day, start), self._instant(day, end)

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes == DAY_MINUTES:
            day, minutes = day + timedelta(days=1), 0
        at = time(minutes // 60, minutes % 60)
        instant = wall_instant(day, at, self._tz)
        # A wall time skipped by a clock change (02:30 the night clocks go forward) is the
        # instant the change happened.
        return instant if instant is not None else _gap_end(datetime.combine(day, at, self._tz),
                                                             self._tz)

    def day_total(self, day: date) -> timedelta:
        return sum((b - a for a, b in self.intervals_on(day)), ZERO)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self._tz).date()

    # -- ranges --------------------------------------------------------------------------
    # Whole days are summed from running totals per day (kept per calendar, extended a year
    # at a time), so a range of years costs a subtraction, and finding when a target is
    # reached a binary search; only the days at either end are walked shift by shift.
    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero when ``end <= start``)."""
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            return ZERO
        first, last = self.local_date(start) - timedelta(days=1), self.local_date(end)
        if (last - first).days <= 3:
            return self._clipped(first, last, start, end)
        # Days from first + 2 to last - 1 lie wholly between the two instants
        return (self._clipped(first, first + timedelta(days=1), start, end)
                + self._whole_days(first + timedelta(days=2), last - timedelta(days=1))
                + self._clipped(last, last, start, end))

    def _clipped(self, first: date, last: date, start: datetime, end: datetime) -> timedelta:
        total = ZERO
        day = first
        while day <= last:
            for a, b in self.intervals_on(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when ``amount`` of working time has passed since ``start``. Zero (or
        less) is ``start`` itself; otherwise the result always lies within a working interval's
        end (a target of 4 h met at a shift's last minute is due then, not at the next
        shift's start)."""
        if amount <= ZERO:
            return start
        start = as_utc(start)
        left = amount
        first = self.local_date(start) - timedelta(days=1)
        for day in (first, first + timedelta(days=1)):
            for a, b in self.intervals_on(day):
                lo = max(a, start)
                if b <= lo:
                    continue
                if b - lo >= left:
                    return lo + left
                left -= b - lo
        # From here on every day starts after ``start``: find the day it is reached on.
        after = first + timedelta(days=2)
        horizon = after + timedelta(days=MAX_DAYS_WALKED)
        covered = after + timedelta(days=SUM_CHUNK_DAYS)
        while True:
            origin, sums = self._sums_through(after, covered)
            base = (after - origin).days
            wanted = sums[base] + left
            if sums[-1] >= wanted:
                break
            if covered >= horizon:
                raise CalendarError("week", "the calendar has no working time left to reach "
                                            "the target")
            covered += timedelta(days=SUM_CHUNK_DAYS)
        index = bisect_left(sums, wanted, lo=base + 1)
        day = origin + timedelta(days=index - 1)
        left = wanted - sums[index - 1]
        for a, b in self.intervals_on(day):
            if b - a >= left:
                return a + left
            left -= b - a
        raise AssertionError("the running totals and the day's shifts disagree")

    def _whole_days(self, first: date, last: date) -> timedelta:
        """Working time of the days ``first``..``last``, both included."""
        if last < first:
            return ZERO
        origin, sums = self._sums_through(first, last)
        return sums[(last - origin).days + 1] - sums[(first - origin).days]

    def _sums_through(self, first: date, last: date) -> tuple[date, list[timedelta]]:
        """Running totals covering ``first``..``last``: ``sums[i]`` is the working time of the
        days from ``origin`` up to (not including) ``origin + i``. Extended in place, or
        rebuilt from an earlier origin, and always read as one (origin, sums) pair."""
        with self._lock:  # one calendar serves the threads of a process
            origin, sums = self._sums
            if origin is None or first < origin:
                old_last = (origin + timedelta(days=len(sums) - 2) if origin is not None
                            else last)
                origin, sums = first - timedelta(days=SUM_CHUNK_DAYS), [ZERO]
                last = max(last, old_last)
                object.__setattr__(self, "_sums", (origin, sums))
            day = origin + timedelta(days=len(sums) - 1)
            while day <= last:
                sums.append(sums[-1] + self.day_total(day))
                day += timedelta(days=1)
            return origin, sums

    def working_hours(self, day: date) -> float:
        """Hours of work on ``day`` (for staff availability)."""
        return self.day_total(day).total_seconds() / 3600


def as_utc(instant: datetime) -> datetime:
    """``instant`` in UTC. Arithmetic and comparisons between two datetimes of one zone are
    wall-clock ones (00:30 + 3 h on the night clocks go forward would be 03:30, two real hours
    later), so ranges are measured in UTC. A naive datetime is refused: it has no instant."""
    if instant.utcoffset() is None:
        raise TypeError("business time needs time-zone-aware datetimes")
    return instant.astimezone(UTC)


def wall_instant(day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """The instant (UTC) the wall clock in ``tz`` reads ``at`` on ``day``; None when the
    clocks skip that time there that day (they go forward). A repeated time (they go back) is
    its first occurrence."""
    local = datetime.combine(day, at, tz)  # fold=0: the first of a repeated time
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def _gap_end(local: datetime, tz: ZoneInfo) -> datetime:
    """The instant a forward clock change happened, for a wall time inside its gap: between
    the wall time read with the offset after the change (earlier) and with the one before
    (later), the first second that carries the new offset."""
    lo = local.replace(fold=1).astimezone(UTC)
    hi = local.replace(fold=0).astimezone(UTC)
    lo, hi = min(lo, hi), max(lo, hi)
    after = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0) if hi.microsecond else hi


def weekdays(start: str = "08:00", end: str = "18:00") -> tuple[tuple[Shift, ...], ...]:
    """Monday to Friday from ``start`` to ``end``, weekends off."""
    shift = ((parse_hhmm(start), parse_hhmm(end)),)
    return (shift,) * 5 + ((), ())
