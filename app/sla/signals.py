"""Warnings and breaches of SLA clocks, each sent exactly once, by the background runner.

A pass (``run``: the embedded runner's ``background-sla`` thread, the Celery beat task
``mesa.sla_signals``, ``flask sla signals``) does two things, in short transactions:

1. **Recompute what an admin's edit flagged** (a target applied to open requests, a calendar
   changed): ``service.stale_request_ids`` in batches, each recomputed in a transaction of its
   own in its tenant's scope. So what follows decides on clocks as the edit left them.
2. **Signal the due clocks.** Each clock ``service.due_clock_ids`` lists (not stopped, its
   warning or due time past, that notice not sent) gets a transaction of its own, in its
   tenant's scope (on PostgreSQL the runner then sees that tenant's rows only). The request's
   process instance row is locked (the lock every step of the request takes), the request and
   its clocks are read afresh and refreshed from the history as it is now, and then:

   - a clock that stopped (met, cancelled) sends nothing, even if it went over;
   - a clock past its due time (``due_at < now``) sends the **breach**: to the directors of
     the request's service unit and, for a ``decision`` target, to the heads of the unit above
     the one whose head authorizes the request (the unit head's head), when units nest;
   - else a clock past its warning time (``warn_at <= now``) sends the **warning**: to
     whoever the request waits on: the people its open tasks are meant for, the requester
     while it is ``returned``, the worker while the ticket waits on them.

   A clock first seen already breached sends only the breach: its warning is marked sent too,
   without a notice (the breach says more). A paused clock does not move towards its warning,
   so one paused short of it never warns while paused; one that crossed it while running and
   was paused before a runner came still warns (the crossing happened).

**Exactly once.** The notice is claimed with a conditional UPDATE (``... WHERE id = :id AND
warning_sent_at IS NULL``): one runner's UPDATE matches the row, any other's matches none (on
PostgreSQL a second UPDATE waits for the first's transaction, then finds the column set; on
SQLite transactions that write start with BEGIN IMMEDIATE and take turns). The claim, the
history event (``sla_warning`` / ``sla_breached``), the notices (in-app, and an outbox message
per channel the person chose, keyed ``sla.warning:<clock id>:u<person>``) and the webhook
deliveries (``sla.warning`` / ``sla.breached``, one per subscribed endpoint, with an ``sla``
object naming the target) are written in the same transaction: all or none. A runner that
dies before committing leaves the clock unclaimed for the next pass. With nobody to tell,
the history event and the webhooks are still written.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    HumanTask,
    Membership,
    ProcessInstance,
    ServiceRequest,
    SlaClock,
    Unit,
    User,
)
from app.models.base import utcnow
from app.notifications import notices
from app.policy import task_candidate_ids
from app.services import events, history, org
from app.sla import clock as clk
from app.sla import service
from app.sqlite import writing
from app.tenancy import isolation

log = logging.getLogger(__name__)

WARNING, BREACH = "warning", "breach"
EVENT = {WARNING: "sla.warning", BREACH: "sla.breached"}          # notices and webhooks
ACTION = {WARNING: "sla_warning", BREACH: "sla_breached"}          # the history's
STALE_BATCHES_PER_PASS = 20     # at most 10,000 flagged requests recomputed in one pass
RETRY_SECONDS = 600  # a clock whose signal failed is looked at again after this long
MAX_REMEMBERED_FAILURES = 10_000
_failed: dict[int, datetime] = {}  # clock id -> when this process tries it again
_failed_lock = threading.Lock()
# Ticket statuses in which the request waits on its worker
WORKER_STATUSES = ("pending", "in_progress", "on_hold")


def run(now: datetime | None = None, limit: int = service.BATCH) -> int:
    """One pass: recompute the requests admins' edits flagged, then send the warnings and
    breaches that are due (at most ``limit`` clocks looked at). Returns how many were sent."""
    now = now or utcnow()
    recompute_stale(now)
    return sum(signal_clock(clock_id, tenant_id, now) is not None
               for clock_id, tenant_id in due_clocks(now, limit))


# -- 1. what admins' edits flagged -----------------------------------------------------
def recompute_stale(now: datetime, batch: int = service.BATCH) -> int:
    """Recompute flagged requests batch by batch, each batch per tenant in a transaction of
    its own. A batch that fails is tried again request by request; a request that fails
    alone is logged and left flagged for the next pass. Returns how many were recomputed."""
    done, failed = 0, set()
    for _ in range(STALE_BATCHES_PER_PASS):
        ids = [i for i in _stale_ids(batch + len(failed)) if i not in failed][:batch]
        if not ids:
            break
        for tenant_id, of_tenant in _by_tenant(ids).items():
            if _recompute(tenant_id, of_tenant, now):
                done += len(of_tenant)
                continue
            for request_id in of_tenant:
                if _recompute(tenant_id, [request_id], now):
                    done += 1
                else:
                    failed.add(request_id)
    return done


def _stale_ids(limit: int) -> list[int]:
    with isolation.platform():  # finding flagged requests is about every tenant on purpose
        try:
            return service.stale_request_ids(limit)
        finally:
            db.session.rollback()


def _by_tenant(ids: list[int]) -> dict[int, list[int]]:
    with isolation.platform():
        try:
            rows = db.session.execute(select(ServiceRequest.id, ServiceRequest.tenant_id)
                                      .where(ServiceRequest.id.in_(ids))
                                      .order_by(ServiceRequest.id)).all()
        finally:
            db.session.rollback()
    out: dict[int, list[int]] = {}
    for request_id, tenant_id in rows:
        out.setdefault(tenant_id, []).append(request_id)
    return out


def _recompute(tenant_id: int, ids: list[int], now: datetime) -> bool:
    try:
        with isolation.tenant(tenant_id), writing():
            service.recompute_requests(ids, now)
            db.session.commit()
        return True
    except Exception:
        db.session.rollback()
        log.exception("SLA recompute of requests %s (tenant %s) failed", ids, tenant_id)
        return False


# -- 2. the due clocks -----------------------------------------------------------------
def due_clocks(now: datetime, limit: int = service.BATCH) -> list[tuple[int, int]]:
    """(clock id, tenant id) of the clocks whose warning or breach may be due, leaving out
    those that failed in this process within RETRY_SECONDS (so a few that fail every time
    cannot fill every pass and hold back the others)."""
    with isolation.platform():  # finding due clocks is about every tenant on purpose
        try:
            ids = service.due_clock_ids(now, limit, skip=_failing(now))
            if not ids:
                return []
            return [tuple(row) for row in db.session.execute(
                select(SlaClock.id, SlaClock.tenant_id).where(SlaClock.id.in_(ids))
                .order_by(SlaClock.id))]
        finally:
            db.session.rollback()


def forget_failures() -> None:
    """Try every failed clock again at the next pass."""
    with _failed_lock:
        _failed.clear()


def _failing(now: datetime) -> list[int]:
    """The clocks that failed in this process and wait for their retry."""
    with _failed_lock:
        for clock_id in [c for c, retry_at in _failed.items() if retry_at <= now]:
            del _failed[clock_id]
        return sorted(_failed)


def signal_clock(clock_id: int, tenant_id: int, now: datetime | None = None) -> str | None:
    """Look at one clock in a transaction of its own, in its tenant's scope; send what is
    due. Returns ``"warning"`` or ``"breach"`` when this call sent it, else None (nothing
    due, another runner sent it, or it failed: logged, and left for the next pass)."""
    now = now or utcnow()
    try:
        with isolation.tenant(tenant_id), writing():
            db.session.rollback()  # a transaction of its own, begun in the tenant's scope
            sent = _signal(clock_id, tenant_id, now)
            db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("SLA signal of clock %s (tenant %s) failed; retrying in %s s", clock_id,
                      tenant_id, RETRY_SECONDS)
        with _failed_lock:
            if len(_failed) >= MAX_REMEMBERED_FAILURES:
                _failed.clear()
            _failed[clock_id] = now + timedelta(seconds=RETRY_SECONDS)
        return None
    if sent:
        log.info("SLA %s sent for clock %s (tenant %s)", sent, clock_id, tenant_id)
    return sent


def _signal(clock_id: int, tenant_id: int, now: datetime) -> str | None:
    request_id = db.session.scalar(select(SlaClock.request_id).where(
        SlaClock.id == clock_id, SlaClock.tenant_id == tenant_id))
    if request_id is None:
        return None  # gone with its request, or its target's kind was dropped
    _lock_request(request_id, tenant_id)
    req = db.session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.id == request_id, ServiceRequest.tenant_id == tenant_id)
        .options(selectinload(ServiceRequest.sla_clocks).joinedload(SlaClock.calendar))
        .execution_options(populate_existing=True)).one()
    found = [(row, result) for row, result in service.refresh(req, now) if row.id == clock_id]
    if not found:
        return None
    row, result = found[0]
    kind = due_signal(row, result, now)
    if kind is None or not claim(row, kind, now):
        return None
    _send(req, row, result, kind)
    return kind


def _lock_request(request_id: int, tenant_id: int) -> None:
    """Take the lock each step of the request takes (its process instance's row), so its
    history stands still while the clock is decided and claimed; a request without an
    instance: its own row."""
    locked = db.session.scalars(
        select(ProcessInstance.id)
        .where(ProcessInstance.request_id == request_id, ProcessInstance.tenant_id == tenant_id)
        .with_for_update()).all()
    if not locked:
        db.session.scalars(select(ServiceRequest.id).where(
            ServiceRequest.id == request_id, ServiceRequest.tenant_id == tenant_id)
            .with_for_update()).all()


def due_signal(row: SlaClock, result: clk.Clock, now: datetime) -> str | None:
    """What the clock is due to send now: the breach, the warning, or nothing."""
    if row.stopped_at is not None or not result.open:
        return None
    if row.breach_sent_at is None and result.due_at is not None and result.due_at < now:
        return BREACH
    if row.warning_sent_at is None and result.warn_at is not None and result.warn_at <= now:
        return WARNING
    return None


def claim(row: SlaClock, kind: str, now: datetime) -> bool:
    """Mark the notice sent, if nobody did: True for the one runner whose UPDATE matched.
    A breach marks the warning sent too (when it was not), so none follows it."""
    db.session.flush()  # the refreshed cache first: the UPDATE below is the claim only
    if kind == BREACH:
        unsent = SlaClock.breach_sent_at.is_(None)
        values = {"breach_sent_at": now,
                  "warning_sent_at": func.coalesce(SlaClock.warning_sent_at, now)}
    else:
        unsent = SlaClock.warning_sent_at.is_(None)
        values = {"warning_sent_at": now}
    won = db.session.execute(
        update(SlaClock)
        .where(SlaClock.id == row.id, SlaClock.tenant_id == row.tenant_id, unsent)
        .values(**values)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.expire(row, ["warning_sent_at", "breach_sent_at"])
    return won


# -- what is sent ----------------------------------------------------------------------
def _send(req: ServiceRequest, row: SlaClock, result: clk.Clock, kind: str) -> None:
    """The history event, the notices and the webhook deliveries of a claimed signal."""
    if kind == WARNING:
        to = waiting_on(req)
    else:
        to = {None: escalation_to(req, row.kind)}
    people = sorted({person for ids in to.values() for person in ids})
    details = {"target": row.kind, "due_at": result.due_at,
               "elapsed_seconds": int(result.elapsed.total_seconds())}
    history.record(req, ACTION[kind], None, changes={**details, "recipients": len(people)})
    values = {"sla_target": row.kind, "sla_due": _local(result.due_at, row.calendar.time_zone)}
    key = f"{EVENT[kind]}:{row.id}"
    # Those a task waits on last: of one person's notices, the one linking to their task stays
    for task, ids in sorted(to.items(), key=lambda item: item[0] is not None):
        if ids:
            notices.announce(notices.Notice(EVENT[kind], req, list(ids), task=task, key=key,
                                            values=values))
    events.emit(req, EVENT[kind], None, extra={"sla": {
        "target": row.kind, "state": result.state,
        "due_at": result.due_at.isoformat() if result.due_at else None,
        "elapsed_seconds": details["elapsed_seconds"], "target_seconds": row.minutes * 60,
        "recipients": len(people)}})


def _local(instant: datetime | None, zone: str) -> str:
    """A due time as its calendar's zone reads it, in a form every language reads."""
    if instant is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):  # a zone the machine dropped: say it in UTC
        tz, zone = ZoneInfo("UTC"), "UTC"
    return f"{instant.astimezone(tz):%Y-%m-%d %H:%M} ({zone})"


def waiting_on(req: ServiceRequest) -> dict[HumanTask | None, list[int]]:
    """Whom the request waits on, active people only: by each open task, those it is meant
    for (the inboxes' rule); under None, the requester while it is returned and the worker
    while the ticket waits on them."""
    tasks = list(db.session.scalars(
        select(HumanTask).where(HumanTask.tenant_id == req.tenant_id,
                                HumanTask.request_id == req.id, HumanTask.status == "open")
        .order_by(HumanTask.id)))
    candidates = task_candidate_ids(tasks)
    out: dict[HumanTask | None, list[int]] = {task: candidates[task.id] for task in tasks}
    others = []
    if req.status == "returned":
        others.append(req.requester_id)
    ticket = req.ticket
    if ticket is not None and ticket.status in WORKER_STATUSES:
        others.append(ticket.worker_id)
    out[None] = sorted(_active(req.tenant_id, others))
    return out


def escalation_to(req: ServiceRequest, kind: str) -> list[int]:
    """Whom a breach reaches: the directors of the request's service unit; for a decision,
    also the heads of the nearest unit with heads above the authorizing unit (the request's
    unit, or the nearest unit above it with a head): the unit head's head, when units nest."""
    people = _holders(req.tenant_id, "service_director", req.service_unit_id)
    if kind == "decision":
        people += heads_above_authorizer(req)
    return list(dict.fromkeys(people))


def heads_above_authorizer(req: ServiceRequest) -> list[int]:
    authorizing = org.authorizing_unit_id(req)
    if authorizing is None:
        return []
    seen = {authorizing}
    unit = db.session.get(Unit, authorizing).parent
    while unit is not None and unit.id not in seen:
        seen.add(unit.id)
        heads = org.heads_of(req.tenant_id, unit.id)
        if heads:
            return heads
        unit = unit.parent
    return []


def _holders(tenant_id: int, role: str, unit_id: int) -> list[int]:
    return list(db.session.scalars(
        select(Membership.user_id).join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == tenant_id, Membership.unit_id == unit_id,
               Membership.role == role, User.active.is_(True))
        .order_by(Membership.user_id)))


def _active(tenant_id: int, ids: list[int]) -> set[int]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return set()
    return set(db.session.scalars(select(User.id).where(
        User.tenant_id == tenant_id, User.id.in_(ids), User.active.is_(True))))
