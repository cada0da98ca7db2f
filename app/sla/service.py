"""SLA clocks kept with the requests: opened at filing, refreshed in the transaction of every
step, recomputed on demand. Only flushes; the caller commits.

A clock row carries the terms it runs under (copied from the matching target at filing, or
when an admin applies a target's edit to open requests) and a cache of what
``app.sla.clock.compute`` gives from the request's history. The request itself caches its most
pressing open clock (``sla_state``, ``sla_due_at``, ``sla_warn_at``) for lists to sort and
filter by with one indexed query.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
from app.models.base import utcnow
from app.models.request import OPEN_REQUEST_STATUSES
from app.services import history
from app.sla import calendar as cal
from app.sla import clock as clk
from app.sla.models import BusinessCalendar, SlaClock, SlaTarget
from app.tenancy.access import not_suspended

log = logging.getLogger(__name__)
# The order lists show a request's clocks in, and which open one is the most pressing when
# two are due at once.
KIND_ORDER = {kind: i for i, kind in enumerate(clk.KINDS)}
OPEN_STATES = ("running", "warning", "paused", "breached")
BATCH = 500


# -- rows -> pure values ---------------------------------------------------------------
def calendar_of(row: BusinessCalendar) -> cal.Calendar:
    """The pure calendar of a row, kept per row version (its id and when it was last
    written): its day sums then serve every request. Raises CalendarError for a row that is
    not a valid calendar."""
    key = (row.id, _stamp(row.updated_at), row.time_zone)
    found = _CALENDARS.get(key) if row.id is not None else None
    if found is None:
        found = cal.Calendar(row.time_zone, _frozen_week(row.week),
                             *_frozen_holidays(row.holidays))
        if row.id is not None and row.updated_at is not None:
            if len(_CALENDARS) >= 256:
                _CALENDARS.clear()
            _CALENDARS[key] = found
    return found


_CALENDARS: dict[tuple, cal.Calendar] = {}


def _stamp(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _frozen_week(week: dict | None) -> tuple:
    week = week or {}
    return tuple(tuple((cal.parse_hhmm(a), cal.parse_hhmm(b)) for a, b in week.get(day) or ())
                 for day in cal.WEEKDAYS)


def _frozen_holidays(holidays: list | None) -> tuple:
    days, yearly = set(), set()
    for item in holidays or ():
        day = date.fromisoformat(item["date"])
        (yearly.add((day.month, day.day)) if item.get("yearly") else days.add(day))
    return frozenset(days), frozenset(yearly)


def default_calendar(tenant_id: int) -> BusinessCalendar | None:
    """The tenant's default business calendar (None until the admin makes one): one query."""
    return db.session.scalar(
        select(BusinessCalendar).where(BusinessCalendar.tenant_id == tenant_id)
        .order_by(BusinessCalendar.is_default.desc(), BusinessCalendar.id).limit(1))


def target_of(row: SlaClock | SlaTarget, kind: str | None = None) -> clk.Target:
    return clk.Target(kind or row.kind, timedelta(minutes=row.minutes), row.warn_percent,
                      frozenset(row.pause_statuses or ()))


# -- which targets a request runs under ------------------------------------------------
def _specificity(target: SlaTarget) -> int:
    return (2 if target.category_id is not None else 0) + (1 if target.priority else 0)


def matching_targets(req: ServiceRequest, targets: list[SlaTarget] | None = None
                     ) -> dict[str, SlaTarget]:
    """Per kind, the most specific of the tenant's targets for the request's category and
    priority (category and priority > category > priority > any). One query, none when the
    tenant's ``targets`` are given."""
    if targets is None:
        targets = db.session.scalars(
            select(SlaTarget)
            .join(SlaTarget.calendar)
            .where(SlaTarget.tenant_id == req.tenant_id,
                   or_(SlaTarget.category_id.is_(None),
                       SlaTarget.category_id == req.category_id),
                   or_(SlaTarget.priority.is_(None), SlaTarget.priority == req.priority))
            .options(contains_eager(SlaTarget.calendar))
            # Their calendars held until the filing commits (PostgreSQL): deleting one waits,
            # then finds it in use by the new clocks (refused) instead of the filing failing.
            .with_for_update(read=True, key_share=True, of=BusinessCalendar))
    best: dict[str, SlaTarget] = {}
    for row in targets:
        if row.tenant_id != req.tenant_id \
                or row.category_id not in (None, req.category_id) \
                or row.priority not in (None, req.priority):
            continue
        if row.kind not in best or _specificity(row) > _specificity(best[row.kind]):
            best[row.kind] = row
    return best


def targets_of(tenant_ids: Iterable[int]) -> list[SlaTarget]:
    """Every target of these tenants, with its calendar: one query."""
    return list(db.session.scalars(
        select(SlaTarget).where(SlaTarget.tenant_id.in_(set(tenant_ids)))
        .options(joinedload(SlaTarget.calendar))))


def _take_terms(clock: SlaClock, target: SlaTarget) -> None:
    clock.target_id = target.id
    clock.calendar_id = target.calendar_id
    clock.calendar = target.calendar
    clock.minutes = target.minutes
    clock.warn_percent = target.warn_percent
    clock.pause_statuses = list(target.pause_statuses or [])


def open_clocks(req: ServiceRequest, now: datetime | None = None) -> list[SlaClock]:
    """At filing: a clock for each target the request matches, computed before it is
    written (one INSERT for all of them)."""
    targets = matching_targets(req)
    set_committed_value(req, "sla_clocks", [])  # a new request has none: no query
    if not targets:
        return []
    events = _events(req)
    for kind, target in sorted(targets.items(), key=lambda kv: KIND_ORDER[kv[0]]):
        clock = SlaClock(tenant_id=req.tenant_id, kind=kind, warning_sent_at=None,
                         breach_sent_at=None)
        _take_terms(clock, target)
        req.sla_clocks.append(clock)
    refresh(req, now, events)
    return list(req.sla_clocks)


def rematch(req: ServiceRequest, now: datetime | None = None,
            targets: list[SlaTarget] | None = None, events: list | None = None) -> None:
    """Apply to an open request the kinds of target the admin applied to open requests
    (``sla_rematch``): its clock of each such kind that has not stopped takes the terms of the
    target that matches it best now (a new clock if it had none), recorded in its history.
    Other kinds keep the terms it was filed with."""
    kinds = set((req.sla_rematch or "").split())
    matches = matching_targets(req, targets)
    have = {c.kind: c for c in req.sla_clocks}
    for kind, target in sorted(matches.items(), key=lambda kv: KIND_ORDER[kv[0]]):
        clock = have.get(kind)
        if kind not in kinds or (clock is not None and clock.stopped_at is not None):
            continue
        before = (clock.minutes, clock.calendar_id, clock.warn_percent) if clock else None
        if clock is None:
            clock = SlaClock(tenant_id=req.tenant_id, request=req, kind=kind)
            db.session.add(clock)
        _take_terms(clock, target)
        if before != (clock.minutes, clock.calendar_id, clock.warn_percent):
            history.record(req, "sla_terms_changed", None, changes={
                "target": kind, "minutes": [before[0] if before else None, clock.minutes]})
    req.sla_rematch = None
    refresh(req, now, events)


def follow_priority(req: ServiceRequest, now: datetime | None = None) -> None:
    """A step changed the request's priority (a service operation decided it): its clocks
    that have not stopped take the terms of the targets that match it now, in the step's
    transaction, as an admin's target applied to open requests gives them (``rematch``: a
    kind with no target for the new priority keeps its terms, a kind it had no clock of gets
    one, counted from filing; a history entry per change). Nothing to do while the request is
    being filed: its clocks then open under the priority the steps left (``open_clocks``)."""
    if req.filing:
        return
    req.sla_rematch = " ".join(clk.KINDS)
    rematch(req, now)


# -- computing --------------------------------------------------------------------------
def usable_calendar(row: BusinessCalendar) -> cal.Calendar | None:
    """The row's calendar, or None (logged) when it no longer reads: a zone the machine's
    zone database dropped. Its clocks then keep what was last computed until the admin
    repairs the calendar (which recomputes them); no step, page or list fails over it."""
    try:
        return calendar_of(row)
    except (ValueError, KeyError, TypeError) as exc:  # CalendarError is a ValueError
        log.error("business calendar %s of tenant %s cannot be used: %s", row.id,
                  row.tenant_id, exc)
        return None


def stored_clock(row: SlaClock) -> clk.Clock:
    """A clock row as last computed (its cache), without bringing it to now."""
    elapsed = timedelta(seconds=row.elapsed_seconds or 0)
    return clk.Clock(row.kind, row.state or "not_started", row.started_at, row.stopped_at,
                     row.due_at, row.warn_at, elapsed,
                     timedelta(minutes=row.minutes) - elapsed, row.paused_since)


def clocks_of(req: ServiceRequest, events: Iterable[HistoryEvent], now: datetime
              ) -> list[tuple[SlaClock, clk.Clock]]:
    """Each clock row of the request with its computed clock at ``now`` (pure after the
    rows are loaded)."""
    moments = clk.timeline(events)
    out = []
    for row in sorted(req.sla_clocks, key=lambda c: KIND_ORDER.get(c.kind, 9)):
        calendar = usable_calendar(row.calendar)
        out.append((row, stored_clock(row) if calendar is None
                    else clk.compute(target_of(row), calendar, moments, now)))
    return out


# What a clock reads of the history: plain rows, not entities (a recompute reads many).
EVENT_COLUMNS = (HistoryEvent.request_id, HistoryEvent.created_at, HistoryEvent.action,
                 HistoryEvent.to_status, HistoryEvent.changes)


def _events(req: ServiceRequest) -> list:
    return list(db.session.execute(
        select(*EVENT_COLUMNS)
        .where(HistoryEvent.tenant_id == req.tenant_id, HistoryEvent.request_id == req.id)
        .order_by(HistoryEvent.id)))


def refresh(req: ServiceRequest, now: datetime | None = None,
            events: list | None = None) -> list[tuple[SlaClock, clk.Clock]]:
    """Recompute the request's clocks from its history and store the cache on each clock row
    and on the request. Nothing to do (and no query) for a request without clocks."""
    if not req.sla_clocks:
        return []
    events = events if events is not None else _events(req)  # flushes this step's entry
    _hold_calendars(req)
    now = now or utcnow()  # read after: the entry's time is set when it is written
    computed = clocks_of(req, events, now)
    for row, result in computed:
        _store(row, result, now)
    _store_pressing(req, [result for _row, result in computed])
    return computed


def _hold_calendars(req: ServiceRequest) -> None:
    """On PostgreSQL, read the clocks' calendars again under a share lock held until this
    transaction ends: an admin's edit of one either committed before (and is computed with)
    or waits for this step, and then flags the clocks it computed for recomputing. (SQLite
    runs one writer at a time: nothing can change them meanwhile.)"""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted({c.calendar_id for c in req.sla_clocks})
    db.session.scalars(
        select(BusinessCalendar).where(BusinessCalendar.id.in_(ids))
        .with_for_update(read=True).execution_options(populate_existing=True)).all()


def _store(row: SlaClock, result: clk.Clock, now: datetime) -> None:
    values = {
        "state": result.state, "started_at": result.started_at,
        "stopped_at": result.stopped_at, "due_at": result.due_at, "warn_at": result.warn_at,
        "paused_since": result.paused_since,
        "elapsed_seconds": int(result.elapsed.total_seconds()),
    }
    # Written only when more than the elapsed time changed: a running clock's elapsed time
    # grows with every step, but its due and warning times (what lists and the runner read)
    # do not; the cache keeps elapsed time as of ``computed_at``. A changed clock writes
    # every cached column, so the clocks a step changes share one UPDATE (executemany).
    if row.id is None or row.computed_at is None or any(
            getattr(row, name) != value for name, value in values.items()
            if name != "elapsed_seconds"):
        for name, value in values.items():
            setattr(row, name, value)
            flag_modified(row, name)
        row.computed_at = now


def pressing(results: Iterable[clk.Clock]) -> clk.Clock | None:
    """The open clock that needs attention first: the earliest due among those running (a
    breached one is due in the past), else a paused one; None when none is open."""
    open_ = [r for r in results if r.open]
    if not open_:
        return None
    running = [r for r in open_ if r.due_at is not None]
    if running:
        return min(running, key=lambda r: (r.due_at, KIND_ORDER[r.kind]))
    return min(open_, key=lambda r: (r.remaining, KIND_ORDER[r.kind]))


def _store_pressing(req: ServiceRequest, results: list[clk.Clock]) -> None:
    top = pressing(results)
    if top is not None:
        state, due, warn = top.state, top.due_at, top.warn_at
    else:  # all stopped: how they ended, breached first
        ended = {r.state for r in results}
        state = next((s for s in ("breached", "met", "cancelled") if s in ended), None)
        due = warn = None
    for name, value in (("sla_state", state), ("sla_due_at", due), ("sla_warn_at", warn)):
        if getattr(req, name) != value:
            setattr(req, name, value)


# -- after an admin's edit --------------------------------------------------------------
def mark_target_applied(target: SlaTarget) -> int:
    """Flag the open requests ``target`` could match for its kind: the background runner (or
    ``flask sla recompute``) gives their clocks of that kind the terms of the target that
    matches them now (``rematch``). One UPDATE; returns how many were flagged."""
    conditions = [ServiceRequest.tenant_id == target.tenant_id,
                  ServiceRequest.status.in_(OPEN_REQUEST_STATUSES)]
    if target.category_id is not None:
        conditions.append(ServiceRequest.category_id == target.category_id)
    if target.priority:
        conditions.append(ServiceRequest.priority == target.priority)
    flags = ServiceRequest.sla_rematch
    kind = target.kind
    result = db.session.execute(update(ServiceRequest).where(*conditions)
                                .values(sla_rematch=case(
                                    (flags.is_(None), kind),
                                    (flags.like(f"%{kind}%"), flags),
                                    else_=flags + " " + kind))
                                .execution_options(synchronize_session=False))
    return result.rowcount


def mark_calendar_changed(calendar: BusinessCalendar) -> int:
    """Flag the clocks that run on ``calendar`` and have not stopped for recomputing. One
    UPDATE; returns how many."""
    result = db.session.execute(
        update(SlaClock)
        .where(SlaClock.tenant_id == calendar.tenant_id, SlaClock.calendar_id == calendar.id,
               SlaClock.stopped_at.is_(None))
        .values(computed_at=None)
        .execution_options(synchronize_session=False))
    return result.rowcount


# -- in batches (the runner and `flask sla recompute`) ----------------------------------
def stale_request_ids(limit: int = BATCH, tenant_id: int | None = None) -> list[int]:
    """Requests flagged by an applied target, or with a clock a calendar change left to
    recompute."""
    flagged = select(ServiceRequest.id).where(ServiceRequest.sla_rematch.is_not(None),
                                              not_suspended(ServiceRequest.tenant_id))
    uncomputed = (select(SlaClock.request_id).where(SlaClock.computed_at.is_(None),
                                                    not_suspended(SlaClock.tenant_id))
                  .distinct())
    if tenant_id is not None:
        flagged = flagged.where(ServiceRequest.tenant_id == tenant_id)
        uncomputed = uncomputed.where(SlaClock.tenant_id == tenant_id)
    ids = list(db.session.scalars(flagged.order_by(ServiceRequest.id).limit(limit)))
    if len(ids) < limit:
        ids += [i for i in db.session.scalars(uncomputed.limit(limit - len(ids)))
                if i not in ids]
    return ids


def recompute_requests(ids: list[int], now: datetime | None = None) -> int:
    """Recompute (and, when flagged, re-match) the given requests: three queries for the
    batch, then one UPDATE per changed row. Returns how many requests were recomputed."""
    if not ids:
        return 0
    now = now or utcnow()
    requests = list(db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.id.in_(ids))
        .options(selectinload(ServiceRequest.sla_clocks).joinedload(SlaClock.calendar))))
    by_request: dict[int, list[HistoryEvent]] = {r.id: [] for r in requests}
    for event in db.session.execute(
            select(*EVENT_COLUMNS).where(HistoryEvent.request_id.in_(list(by_request)))
            .order_by(HistoryEvent.request_id, HistoryEvent.id)):
        by_request[event.request_id].append(event)
    stale = [r for r in requests if r.sla_rematch]
    targets = targets_of(r.tenant_id for r in stale) if stale else []
    for req in requests:
        updated_at = req.updated_at
        if req.sla_rematch:
            rematch(req, now, targets, by_request[req.id])
        else:
            refresh(req, now, by_request[req.id])
        # a recompute is not an update of the request: its "last updated" stays
        req.updated_at = updated_at
        flag_modified(req, "updated_at")
    db.session.flush()
    return len(requests)


def open_request_ids(tenant_id: int | None = None, include_closed: bool = False,
                     after_id: int = 0, limit: int = BATCH) -> list[int]:
    """The next ``limit`` requests with clocks (open ones unless ``include_closed``), by id."""
    query = (select(ServiceRequest.id)
             .where(ServiceRequest.id > after_id,
                    or_(ServiceRequest.sla_rematch.is_not(None),
                        exists().where(SlaClock.request_id == ServiceRequest.id)))
             .order_by(ServiceRequest.id).limit(limit))
    if not include_closed:
        query = query.where(ServiceRequest.status.in_(OPEN_REQUEST_STATUSES))
    if tenant_id is not None:
        query = query.where(ServiceRequest.tenant_id == tenant_id)
    return list(db.session.scalars(query))


def due_clock_ids(now: datetime, limit: int = BATCH, skip: Iterable[int] = ()) -> list[int]:
    """Open clocks whose warning or breach has come and was not sent yet (but ``skip``)."""
    query = (select(SlaClock.id).where(
        SlaClock.stopped_at.is_(None),
        not_suspended(SlaClock.tenant_id),  # a suspended company's notices wait
        or_(and_(SlaClock.warning_sent_at.is_(None), SlaClock.warn_at <= now),
            and_(SlaClock.breach_sent_at.is_(None), SlaClock.due_at < now)))
        .order_by(SlaClock.id).limit(limit))
    skip = list(skip)
    if skip:
        query = query.where(SlaClock.id.not_in(skip))
    return list(db.session.scalars(query))
