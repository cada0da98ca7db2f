"""Each request's milestones and stage lead times, folded from its history.

A request passes through stages: filing -> authorization (the head's decision) -> evaluation
(the director's decision, a second approval over budget included; returns for information
count inside it) -> assignment -> start -> work (start to finish) -> confirmation (finish
to the ticket's closing: the requester's confirmation, or the automatic close); and
*resolution*, filing to finish. When a stage ends, its length in business time (the company's
default business calendar, else wall-clock time) is stored on the request in whole minutes,
with the milestone's instant, so indicators read numbers instead of walking histories.

Right by construction: ``fold`` is the one rule. Each step folds the history entries it wrote,
in its own transaction (``settle``, called by every step path of ``app.services.workflow``;
a commit with entries left unfolded folds them first). ``rebuild`` replays a request's whole
history through the same ``fold`` (``flask indicators rebuild``), which is also how requests
filed before this existed get their figures.
"""

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
from app.models.base import utcnow

STAGES = ("authorization", "evaluation", "assignment", "start", "work", "confirmation",
          "resolution")
OPEN_TICKET = ("pending", "in_progress", "on_hold")
DONE_TICKET = ("finished", "closed")
_PENDING = "indicators.pending_events"
_CALENDARS = "indicators.calendars"


@dataclass
class Milestones:
    """What the fold keeps per request (the columns of the same names on ServiceRequest)."""

    created_at: datetime
    authorized_at: datetime | None = None
    approved_at: datetime | None = None
    assigned_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    confirmed_at: datetime | None = None  # the ticket closed: confirmed, or closed unconfirmed
    rejected_by: str | None = None       # unit_head or service_director
    returns: int = 0
    reopens: int = 0
    authorization_minutes: int | None = None
    evaluation_minutes: int | None = None
    assignment_minutes: int | None = None
    start_minutes: int | None = None
    work_minutes: int | None = None
    confirmation_minutes: int | None = None
    resolution_minutes: int | None = None


COLUMNS = tuple(f.name for f in fields(Milestones) if f.name != "created_at")


def _minutes(calendar, start: datetime | None, end: datetime) -> int | None:
    if start is None:
        return None
    if end <= start:
        return 0
    span = calendar.business_time(start, end) if calendar is not None else end - start
    return int(span.total_seconds() // 60)


def fold(m: Milestones, from_status: str | None, to_status: str | None,
         ticket_change, at: datetime, calendar) -> None:
    """Apply one history entry: the request's status change ``from_status`` ->
    ``to_status`` (None: none), the ticket's ``ticket_change`` ([from, to] or None), at
    ``at``. ``calendar``: an ``app.sla.calendar.Calendar`` or None (wall-clock time)."""
    if to_status and to_status != from_status:
        _request_change(m, from_status, to_status, at, calendar)
    if ticket_change and len(ticket_change) == 2 and ticket_change[0] != ticket_change[1]:
        _ticket_change(m, ticket_change[0], ticket_change[1], at, calendar)


def _request_change(m: Milestones, before: str | None, after: str, at, calendar) -> None:
    if before == "pending_authorization" and after in ("pending_evaluation", "rejected",
                                                       "pending_assignment"):
        m.authorized_at = at
        m.authorization_minutes = _minutes(calendar, m.created_at, at)
        if after == "rejected":
            m.rejected_by = "unit_head"
            return
    if before in ("pending_evaluation", "returned", "pending_authorization"):
        evaluated_from = m.authorized_at or m.created_at
        if after == "pending_assignment":
            m.approved_at = at
            m.evaluation_minutes = _minutes(calendar, evaluated_from, at)
        elif after == "rejected" and m.rejected_by is None:
            m.rejected_by = "service_director"
            m.evaluation_minutes = _minutes(calendar, evaluated_from, at)
    if after == "returned" and before != "returned":
        m.returns += 1
    if before == "pending_assignment" and after == "in_service":
        m.assigned_at = at
        m.assignment_minutes = _minutes(calendar, m.approved_at, at)


def _ticket_change(m: Milestones, before: str | None, after: str, at, calendar) -> None:
    if before in DONE_TICKET and after in OPEN_TICKET:
        m.reopens += 1
        return
    if after in ("in_progress", "on_hold", "finished") and m.started_at is None:
        m.started_at = at
        m.start_minutes = _minutes(calendar, m.assigned_at, at)
    if after == "closed" and before == "finished":
        m.confirmed_at = at
        m.confirmation_minutes = _minutes(calendar, m.finished_at, at)
        return
    if after == "finished":
        m.finished_at = at
        m.work_minutes = _minutes(calendar, m.started_at, at)
        m.resolution_minutes = _minutes(calendar, m.created_at, at)


def replay(created_at: datetime, events, calendar) -> Milestones:
    """The milestones of a history: ``events`` are (from_status, to_status, changes, at),
    oldest first."""
    m = Milestones(created_at=created_at)
    for from_status, to_status, changes, at in events:
        fold(m, from_status, to_status, (changes or {}).get("ticket_status"), at, calendar)
    return m


# --- on a request row ------------------------------------------------------------------------

def milestones_of(req: ServiceRequest) -> Milestones:
    m = Milestones(created_at=req.created_at)
    for name in COLUMNS:
        value = getattr(req, name)
        if value is not None:
            setattr(m, name, value)
    return m


def _store(req: ServiceRequest, m: Milestones) -> None:
    for name in COLUMNS:
        if getattr(req, name) != getattr(m, name):
            setattr(req, name, getattr(m, name))


def company_calendar(tenant_id: int):
    """The company's default business calendar, parsed (cached by its last change), or None:
    lead times are then wall-clock time."""
    from app.sla import service as sla

    cache = db.session.info.setdefault(_CALENDARS, {})
    if tenant_id not in cache:
        with db.session.no_autoflush:
            row = sla.default_calendar(tenant_id)
        cache[tenant_id] = sla.usable_calendar(row) if row is not None else None
    return cache[tenant_id]


class _StepCalendar:
    """The company calendar a step measures by, read only if a stage ends: from the
    request's clocks when one runs on the default calendar (already loaded), else asked for."""

    def __init__(self, req: ServiceRequest):
        self.req = req
        self.calendar = None
        self.known = False

    def business_time(self, start: datetime, end: datetime):
        if not self.known:
            self.calendar, self.known = self._find(), True
        if self.calendar is None:
            return end - start
        return self.calendar.business_time(start, end)

    def _find(self):
        from app.sla import service as sla

        clocks = self.req.__dict__.get("sla_clocks") or ()
        for clock in clocks:
            row = clock.__dict__.get("calendar")
            if row is not None and row.__dict__.get("is_default"):
                return sla.usable_calendar(row)
        return company_calendar(self.req.tenant_id)


def noted(event_row: HistoryEvent) -> None:
    """Remember a history entry written in this transaction, to fold at the step's end."""
    db.session.info.setdefault(_PENDING, []).append(event_row)


def _changes_status(e: HistoryEvent) -> bool:
    change = (e.changes or {}).get("ticket_status")
    return bool((e.to_status and e.to_status != e.from_status) or change)


def settle(req: ServiceRequest | None = None) -> None:
    """Fold the history entries this transaction wrote (of ``req`` only, if given) onto their
    requests, in the order they were written. Only flushes nothing: the step's own flush
    writes the columns with the rest of the request's changes."""
    pending = db.session.info.get(_PENDING)
    if not pending:
        return
    mine = [e for e in pending if req is None or e.request_id == req.id]
    if not mine:
        return
    db.session.info[_PENDING] = [e for e in pending if e not in mine]
    now = utcnow()
    by_request: dict[int, list[HistoryEvent]] = {}
    for e in mine:
        by_request.setdefault(e.request_id, []).append(e)
    for request_id, entries in by_request.items():
        if not any(_changes_status(e) for e in entries):
            continue
        target = req if req is not None and req.id == request_id else \
            db.session.get(ServiceRequest, request_id)
        if target is None:
            continue
        calendar = _StepCalendar(target)
        m = milestones_of(target)
        for e in entries:
            if e.created_at is None:  # not written yet: the entry and the milestone share it
                e.created_at = now
            fold(m, e.from_status, e.to_status, (e.changes or {}).get("ticket_status"),
                 e.created_at, calendar)
        _store(target, m)


def forget() -> None:
    """Drop what a rolled-back transaction left (its entries were never written)."""
    db.session.info.pop(_PENDING, None)
    db.session.info.pop(_CALENDARS, None)


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session):
    """A path that wrote history without settling it (a command, an admin fix) is folded here:
    nothing is committed unfolded. Not when a savepoint is released (a ticket's number taken
    mid-step): the step has not given its entries their outcome yet."""
    if session.in_nested_transaction():
        return
    if session.info.get(_PENDING):
        settle()
        session.flush()
    session.info.pop(_CALENDARS, None)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    """A rolled-back transaction's entries were never written: forget them. A savepoint's
    rollback forgets only the entries it took with it; the step's others still fold."""
    if previous_transaction.parent is not None:  # a savepoint (or a flush inside one)
        pending = session.info.get(_PENDING)
        if pending:
            session.info[_PENDING] = [e for e in pending if e in session]
        return
    session.info.pop(_PENDING, None)
    session.info.pop(_CALENDARS, None)


# --- rebuilt from history --------------------------------------------------------------------

def rebuild(request_ids: list[int]) -> int:
    """Replay the whole history of each request through ``fold`` and store what it gives.
    Returns how many requests changed. Only flushes: the caller commits."""
    if not request_ids:
        return 0
    requests = {r.id: r for r in db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.id.in_(request_ids)))}
    histories: dict[int, list] = {i: [] for i in requests}
    rows = db.session.execute(
        select(HistoryEvent.request_id, HistoryEvent.from_status, HistoryEvent.to_status,
               HistoryEvent.changes, HistoryEvent.created_at)
        .where(HistoryEvent.request_id.in_(list(requests)))
        .order_by(HistoryEvent.request_id, HistoryEvent.id))
    for row in rows:
        histories[row.request_id].append((row.from_status, row.to_status, row.changes,
                                          row.created_at))
    changed = 0
    for request_id, req in requests.items():
        m = replay(req.created_at, histories[request_id], company_calendar(req.tenant_id))
        before = milestones_of(req)
        if before != m:
            # the fold starts from nothing: columns it leaves empty are emptied
            for name in COLUMNS:
                setattr(req, name, getattr(m, name))
            changed += 1
    db.session.flush()
    return changed
