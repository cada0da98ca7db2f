"""SLA clocks as pure functions of a request's history, a business calendar and a target.

No database access: ``timeline`` turns history events (anything with ``created_at``,
``action``, ``to_status`` and ``changes``) into the moments the request's or its ticket's
status changed; ``compute`` walks those moments for one target. A changed calendar or target
therefore recomputes exactly, and the same inputs always give the same clock.

Three kinds of target:

- ``decision``: from filing until the request leaves authorization and evaluation (approved,
  rejected, or sent on by a custom diagram);
- ``start``: from approval (the request first waits on assignment or is in service) until the
  ticket is first started, held or finished;
- ``resolution``: from filing until the ticket is finished (or the request completed); work
  reopened at the confirmation ("not solved") resumes it, the time between the finish and the
  reopening a pause, and it stops again at the next finish.

A request cancelled (or, for start and resolution, rejected) before its clock stops leaves the
clock ``cancelled``. While the clock runs, time spent in one of the target's pause statuses
(request statuses such as ``returned``, ticket statuses such as ``on_hold``) does not count,
and neither does time outside the calendar's working intervals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.sla.calendar import ZERO, Calendar, CalendarError, as_utc

KINDS = ("decision", "start", "resolution")
STATES = ("not_started", "running", "warning", "paused", "breached", "met", "cancelled")
# Statuses a target may pause on: the request's while it waits on someone else than the desk,
# the ticket's while it is parked.
PAUSABLE_REQUEST_STATUSES = ("returned", "pending_authorization", "pending_assignment")
PAUSABLE_TICKET_STATUSES = ("on_hold", "pending")
PAUSABLE_STATUSES = PAUSABLE_REQUEST_STATUSES + PAUSABLE_TICKET_STATUSES
DEFAULT_PAUSES = ("returned", "on_hold")
DEFAULT_WARN_PERCENT = 75

_DECIDING = frozenset({"pending_authorization", "pending_evaluation", "returned"})
_APPROVED = frozenset({"pending_assignment", "in_service", "completed"})
_TICKET_STARTED = frozenset({"in_progress", "on_hold", "finished", "closed"})
_TICKET_DONE = frozenset({"finished", "closed"})
_ENDED = frozenset({"cancelled", "rejected"})


@dataclass(frozen=True)
class Moment:
    """The request's (and its ticket's) status from ``at`` on."""

    at: datetime
    request_status: str
    ticket_status: str | None = None


@dataclass(frozen=True)
class Target:
    kind: str
    length: timedelta
    warn_percent: int = DEFAULT_WARN_PERCENT
    pauses: frozenset[str] = frozenset(DEFAULT_PAUSES)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown target kind '{self.kind}'")
        if self.length <= ZERO:
            raise ValueError("a target must be longer than zero")
        if not 1 <= self.warn_percent <= 100:
            raise ValueError("the warning threshold is a percentage from 1 to 100")
        object.__setattr__(self, "pauses", frozenset(self.pauses))

    @property
    def warn_after(self) -> timedelta:
        return self.length * self.warn_percent / 100


@dataclass(frozen=True)
class Clock:
    """One target's clock as of ``now``. ``remaining`` is negative once overdue. ``due_at`` is
    when the target is (or was) reached while running: None before the clock starts, while it
    is paused short of it, and once it stopped short of it (met). ``pauses`` are (from, to)
    spans, ``to`` None while it lasts."""

    kind: str
    state: str
    started_at: datetime | None
    stopped_at: datetime | None
    due_at: datetime | None
    warn_at: datetime | None
    elapsed: timedelta
    remaining: timedelta
    paused_since: datetime | None
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()

    @property
    def open(self) -> bool:
        return self.state in ("running", "warning", "paused", "breached") \
            and self.stopped_at is None


# -- the timeline -----------------------------------------------------------------------
def timeline(events: Iterable) -> list[Moment]:
    """The status moments of a request from its history events, oldest first. The first
    event is its filing; later ones change the request's status (``to_status``), the
    ticket's (``changes['ticket_status'] = [from, to]``), or create the ticket."""
    moments: list[Moment] = []
    request_status, ticket_status = "pending_authorization", None
    for event in events:
        changes = event.changes or {}
        new_request = event.to_status or request_status
        new_ticket = ticket_status
        if event.action == "ticket_created" and ticket_status is None:
            new_ticket = "pending"
        pair = changes.get("ticket_status") if isinstance(changes, dict) else None
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[1]:
            new_ticket = pair[1]
        if moments and (new_request, new_ticket) == (request_status, ticket_status):
            continue
        request_status, ticket_status = new_request, new_ticket
        at = as_utc(event.created_at)
        if moments and at < moments[-1].at:  # clocks of two servers: never backwards
            at = moments[-1].at
        moments.append(Moment(at, request_status, ticket_status))
    return moments


def _starts(kind: str, m: Moment) -> bool:
    if kind == "start":
        return m.request_status in _APPROVED
    return True


def _stops(kind: str, m: Moment) -> str | None:
    """Why the clock stops at ``m`` ('done' or 'cancelled'), or None if it goes on."""
    if m.request_status == "cancelled":
        return "cancelled"
    if kind == "decision":
        return "done" if m.request_status not in _DECIDING else None
    if m.request_status == "rejected":
        return "cancelled"
    if kind == "start":
        return "done" if (m.ticket_status in _TICKET_STARTED
                          or m.request_status == "completed") else None
    return "done" if (m.ticket_status in _TICKET_DONE or m.request_status == "completed") \
        else None


def _paused(target: Target, m: Moment) -> bool:
    return m.request_status in target.pauses or (m.ticket_status or "") in target.pauses


# -- the clock --------------------------------------------------------------------------
def compute(target: Target, calendar: Calendar, moments: list[Moment],
            now: datetime) -> Clock:
    """The clock of ``target`` at ``now`` over ``moments`` (from ``timeline``). Moments after
    ``now`` are ignored. Instants may be in any zone (naive ones are refused); the clock's
    are in UTC."""
    # In UTC: two datetimes of one zone compare by wall time, so in the hour a clock change
    # repeats 02:30 CET would come "before" 02:30 CEST, and equal to it.
    now = as_utc(now)
    moments = [m if m.at.tzinfo is UTC else replace(m, at=as_utc(m.at)) for m in moments]
    moments = [m for m in moments if m.at <= now]
    kind = target.kind
    started_at = stopped_at = None
    stop_reason = None
    runs: list[tuple[datetime, datetime | None]] = []      # running spans
    pauses: list[tuple[datetime, datetime | None]] = []
    for i, m in enumerate(moments):
        if started_at is None:
            if not _starts(kind, m) or (kind == "start" and _stops(kind, m) == "cancelled"):
                continue
            started_at = m.at
        reason = _stops(kind, m)
        end = moments[i + 1].at if i + 1 < len(moments) else None
        if reason is not None:
            if stopped_at is None:
                stopped_at, stop_reason = m.at, reason
            if reason == "done" and kind == "resolution":
                continue  # work reopened later resumes the clock (below)
            break
        if stopped_at is not None:  # the work was reopened: the clock runs again from here,
            pauses.append((stopped_at, m.at))  # the wait since the finish a pause
            stopped_at = stop_reason = None
        span = runs if not _paused(target, m) else pauses
        if span and span[-1][1] == m.at:   # the same span goes on (a status it ignores)
            span[-1] = (span[-1][0], end)
        else:
            span.append((m.at, end))
    if started_at is None:
        return Clock(kind, "not_started", None, None, None, None, ZERO, target.length, None)

    elapsed = ZERO
    due_at = warn_at = None
    for start, end in runs:
        stop = end if end is not None else now
        part = calendar.business_time(start, stop)
        for threshold in (target.warn_after, target.length):
            if elapsed < threshold <= elapsed + part or (end is None and elapsed < threshold):
                try:
                    crossing = calendar.add(start, threshold - elapsed)
                except CalendarError:  # beyond decades of this calendar's working time
                    crossing = None
                if threshold is target.length:
                    due_at = crossing
                else:
                    warn_at = crossing
        elapsed += part
    paused_since = pauses[-1][0] if (stopped_at is None and pauses
                                     and pauses[-1][1] is None) else None
    remaining = target.length - elapsed
    state = _state(stop_reason, stopped_at, paused_since, elapsed, target)
    return Clock(kind, state, started_at, stopped_at, due_at, warn_at, elapsed, remaining,
                 paused_since, tuple(pauses))


def _state(stop_reason, stopped_at, paused_since, elapsed: timedelta, target: Target) -> str:
    if stop_reason == "cancelled":
        return "cancelled"
    if elapsed > target.length:
        return "breached"
    if stopped_at is not None:
        return "met"
    if paused_since is not None:
        return "paused"
    if elapsed >= target.warn_after:
        return "warning"
    return "running"
