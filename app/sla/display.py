"""What people see of SLA clocks: business durations in words, a list's time left, the
request page's clocks and the API's ``sla`` object.

Two sources, one shape (``app.sla.clock.Clock``):

- the request page and the API's single request compute each clock from the request's
  history (``app.sla.service.clocks_of``): exact, pauses included;
- lists read the cache kept on the clock rows and bring it to ``now`` with the clock's
  calendar (``cached_clock``): a running clock's remaining time is the business time from now
  to its due time, so a list is right between the runner's passes without reading history.
  Between two steps of a request only time passes, so this is what ``compute`` would give
  (the spans of pauses are left out: a list does not show them).

No queries here: the callers load the rows (one query per page, calendars joined).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.labels import SLA_TARGET
from app.sla import calendars, service
from app.sla import clock as clk
from app.sla.calendar import ZERO

KIND_LABELS = SLA_TARGET  # one wording of the three kinds (app.labels)
# What a list's filter offers: the code in the address and its label
FILTERS = {"overdue": _l("Overdue"), "at_risk": _l("At risk")}
# The orders lists offer (app.services.inbox: REQUEST_SORTS, TASK_SORTS, TICKET_SORTS)
SORT_LABELS = {
    "sla": _l("SLA: most urgent first"),
    "newest": _l("Newest first"),
    "priority": _l("Priority first"),
    "resolution": _l("Resolution due first"),
    "planned_end": _l("Planned end first"),
}
STATE_LABELS = {
    "not_started": _l("not started"),
    "running": _l("running"),
    "warning": _l("at risk"),
    "paused": _l("paused"),
    "breached": _l("overdue"),
    "met": _l("met"),
    "cancelled": _l("cancelled"),
}
# The badge colours of the request statuses that mean the same (app/static/app.css)
STATE_BADGES = {
    "not_started": "", "running": "st-in_progress", "warning": "st-on_hold",
    "paused": "st-pending", "breached": "st-rejected", "met": "st-completed",
    "cancelled": "st-cancelled",
}


# -- words ------------------------------------------------------------------------------
def duration_text(amount: timedelta) -> str:
    """A business duration in hours and minutes to the nearest minute ("2 h 30 min",
    "45 min", "40 h"), its sign dropped; under half a minute (not zero) "less than 1 min".
    Business days are not used: how long one is depends on the calendar."""
    seconds = abs(amount.total_seconds())
    if 0 < seconds < 30:  # (a fraction of a second overdue is not "0 min")
        return _("less than 1 min")
    return calendars.duration_text((int(seconds) + 30) // 60)


def left_text(clock: clk.Clock) -> str:
    """Time left or overdue: "2 h 30 min left", "overdue by 1 h 5 min", "paused, 3 h left"."""
    if clock.remaining < ZERO:
        text = _("overdue by %(time)s", time=duration_text(clock.remaining))
    else:
        text = _("%(time)s left", time=duration_text(clock.remaining))
    if clock.paused_since is not None:
        return _("paused, %(left)s", left=text)
    return text


def state_label(state: str | None) -> str:
    return str(STATE_LABELS.get(state, state or ""))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


# -- the cache brought to now -----------------------------------------------------------
def cached_clock(row, now: datetime) -> clk.Clock:
    """The clock of a clock row as of ``now`` from its cached columns (lists). A calendar
    that no longer reads (a zone the machine dropped) leaves it as last computed."""
    length = timedelta(minutes=row.minutes)
    elapsed = timedelta(seconds=row.elapsed_seconds or 0)
    state, due_at = row.state, row.due_at
    running = (row.stopped_at is None and row.paused_since is None and due_at is not None
               and state in ("running", "warning", "breached"))
    calendar = service.usable_calendar(row.calendar) if running else None
    if running and calendar is None:
        return service.stored_clock(row)
    if running:
        remaining = (calendar.business_time(now, due_at) if now < due_at
                     else -calendar.business_time(due_at, now))
        elapsed = length - remaining
        target = service.target_of(row)
        state = ("breached" if elapsed > length
                 else "warning" if elapsed >= target.warn_after else "running")
    elif state == "not_started":
        elapsed = ZERO
    return clk.Clock(row.kind, state, row.started_at, row.stopped_at, due_at, row.warn_at,
                     elapsed, length - elapsed, row.paused_since)


def cached_clocks(rows: Iterable, now: datetime) -> list[clk.Clock]:
    return [cached_clock(row, now)
            for row in sorted(rows, key=lambda r: service.KIND_ORDER.get(r.kind, 9))]


@dataclass(frozen=True)
class Left:
    """A request's most pressing clock as a list row shows it."""

    kind: str
    state: str
    text: str
    due_at: datetime | None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def state_label(self) -> str:
        return state_label(self.state)

    @property
    def badge(self) -> str:
        return STATE_BADGES.get(self.state, "")


def time_left(rows: Iterable, now: datetime) -> Left | None:
    """What a list shows of a request with these clock rows: its most pressing open clock
    (the one the request's cached ``sla_due_at`` comes from), or None when none is open."""
    top = service.pressing(cached_clocks(rows, now))
    if top is None:
        return None
    return Left(top.kind, top.state, left_text(top), top.due_at)


# -- the request page -------------------------------------------------------------------
@dataclass(frozen=True)
class ClockView:
    """One clock on the request page."""

    kind: str
    state: str
    length: timedelta
    started_at: datetime | None
    stopped_at: datetime | None
    due_at: datetime | None
    elapsed: timedelta
    remaining: timedelta
    paused_since: datetime | None
    pauses: tuple[tuple[datetime, datetime | None], ...]

    kind_label = property(lambda self: kind_label(self.kind))
    state_label = property(lambda self: state_label(self.state))
    badge = property(lambda self: STATE_BADGES.get(self.state, ""))
    length_text = property(lambda self: duration_text(self.length))
    elapsed_text = property(lambda self: duration_text(self.elapsed))

    @property
    def remaining_text(self) -> str:
        if self.remaining < ZERO:
            return _("overdue by %(time)s", time=duration_text(self.remaining))
        return duration_text(self.remaining)

    @property
    def open(self) -> bool:
        return self.stopped_at is None and self.state not in ("not_started", "cancelled")


def page_clocks(computed: Iterable[tuple[object, clk.Clock]]) -> list[ClockView]:
    """The request page's clocks from ``service.clocks_of``'s (row, clock) pairs."""
    return [ClockView(c.kind, c.state, timedelta(minutes=row.minutes), c.started_at,
                      c.stopped_at, c.due_at, c.elapsed, c.remaining, c.paused_since, c.pauses)
            for row, c in computed]


# -- the API ----------------------------------------------------------------------------
def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def api_clock(row, c: clk.Clock) -> dict:
    """One clock for the API (times in UTC; the response schema writes them ISO 8601)."""
    return {
        "due_at": _utc(c.due_at),
        "elapsed_business_seconds": int(c.elapsed.total_seconds()),
        "remaining_business_seconds": int(c.remaining.total_seconds()),
        "state": c.state,
        "paused_since": _utc(c.paused_since),
        "target_minutes": row.minutes,
    }


def api_object(pairs: Iterable[tuple[object, clk.Clock]]) -> dict:
    """The ``sla`` object of a request: one entry per kind of clock it has."""
    return {c.kind: api_clock(row, c) for row, c in pairs}


def api_object_cached(rows: Iterable, now: datetime) -> dict:
    """The ``sla`` object of a request in a list, from its clock rows' cache at ``now``."""
    rows = sorted(rows, key=lambda r: service.KIND_ORDER.get(r.kind, 9))
    return api_object((row, cached_clock(row, now)) for row in rows)
