"""Filing the due occurrences of recurring schedules, each exactly once, whatever the number
of runners (the embedded runner's thread, Celery beat's ``mesa.recurring``, ``flask
recurring run``) and nodes.

Per due schedule, one transaction in its company's scope:

1. the schedule is claimed: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (another
   runner holding it is skipped, not waited for), the SQLite writing lock (BEGIN IMMEDIATE,
   ``app.sqlite.writing``) there; the claim re-reads ``next_at``, so a runner that comes
   after another's commit finds nothing due;
2. each due occurrence gets its row (unique on schedule and instant) before its request is
   filed through the filing service (``app.services.requests.file_request``: workflow, SLA,
   search, notifications as any filing) in a savepoint;
3. the schedule moves on to its next occurrence, and all of it commits together. Were two
   runners ever to get past the claim, the unique row makes the second one's transaction
   fail and roll back: nothing is filed twice.

After a downtime the occurrences missed are filed one by one (``catch_up = "all"``, the
default; at most ``PER_PASS`` per transaction, the rest in the next ones), or only the
latest is, the others counted as skipped on its row (``"latest"``). An occurrence that cannot
be filed (requester gone, category inactive, the plan's quota, fields no longer valid) is
recorded as failed with its reason, on the schedule too, its owner is told, and the schedule
moves on: it is never retried. After ``MAX_FAILURES`` failures in a row the schedule pauses.
"""

import logging
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import policy
from app.engine.runner import EngineError
from app.extensions import db
from app.models import Category, Tenant, User
from app.models.base import utcnow
from app.notifications import notices
from app.recurring.models import RecurringOccurrence, RecurringSchedule
from app.recurring.schedules import recurrence_of
from app.services import requests
from app.services.workflow import WorkflowError
from app.sqlite import writing
from app.tenancy import isolation
from app.tenancy.quotas import QuotaExceeded

log = logging.getLogger(__name__)
PER_PASS = 50           # occurrences filed per schedule and transaction
MAX_FAILURES = 3        # failures in a row that pause a schedule
MAX_SKIPPED = 100_000   # occurrences looked through to find the latest ("latest")
EVENT = "recurring.failed"


def due(now: datetime, limit: int) -> list[tuple[int, int]]:
    """(schedule id, tenant id) of up to ``limit`` due schedules, the longest waiting first:
    every company's, on purpose (as due timers are found)."""
    db.session.rollback()
    with isolation.platform():
        rows = db.session.execute(
            select(RecurringSchedule.id, RecurringSchedule.tenant_id)
            .where(RecurringSchedule.next_at <= now, RecurringSchedule.paused.is_(False),
                   RecurringSchedule.deleted_at.is_(None))
            .order_by(RecurringSchedule.next_at).limit(limit)).all()
        db.session.rollback()
    return [(row.id, row.tenant_id) for row in rows]


def run_due(now: datetime | None = None, limit: int = 100) -> int:
    """File what is due at ``now`` (default: the clock's now); returns how many requests were
    filed."""
    now = now or utcnow()
    return sum(run_schedule(schedule_id, tenant_id, now)
               for schedule_id, tenant_id in due(now, limit))


def run_schedule(schedule_id: int, tenant_id: int, now: datetime) -> int:
    """Claim one schedule and file its due occurrences in one transaction; returns how many
    were filed (0 when another runner has it or filed them first)."""
    db.session.rollback()
    try:
        with isolation.tenant(tenant_id), writing():
            row = _claim(schedule_id, tenant_id, now)
            if row is None:
                db.session.rollback()
                return 0
            filed = _file_due(row, now)
            db.session.commit()
            return filed
    except IntegrityError:  # another runner filed this occurrence first: nothing of ours stays
        db.session.rollback()
        log.info("recurring schedule %s: occurrence already filed by another runner",
                 schedule_id)
        return 0
    except Exception:
        db.session.rollback()
        log.exception("recurring schedule %s failed", schedule_id)
        _record_crash(schedule_id, tenant_id)
        return 0


def _claim(schedule_id: int, tenant_id: int, now: datetime) -> RecurringSchedule | None:
    stmt = (select(RecurringSchedule)
            .where(RecurringSchedule.id == schedule_id,
                   RecurringSchedule.tenant_id == tenant_id,
                   RecurringSchedule.next_at <= now, RecurringSchedule.paused.is_(False),
                   RecurringSchedule.deleted_at.is_(None))
            .execution_options(populate_existing=True))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return db.session.scalar(stmt)


def _file_due(row: RecurringSchedule, now: datetime) -> int:
    recurrence = recurrence_of(row)
    due_now, following, seen = [], None, 0
    for occurrence in recurrence.iterate(row.next_at, row.next_local):
        if occurrence.at > now:
            following = occurrence
            break
        seen += 1
        if row.catch_up == "latest":
            due_now = [occurrence]
            if seen >= MAX_SKIPPED:  # the rest of the downtime is skipped uncounted
                following = recurrence.next(now + timedelta(microseconds=1), occurrence.local)
                break
        else:
            if len(due_now) == PER_PASS:
                following = occurrence  # still due: the next pass goes on from it
                break
            due_now.append(occurrence)
    tenant = db.session.get(Tenant, row.tenant_id)
    filed, failure = 0, None
    with force_locale(tenant.locale or "es"):
        for occurrence in due_now:
            skipped = seen - 1 if row.catch_up == "latest" else 0
            record = RecurringOccurrence(tenant_id=row.tenant_id, schedule_id=row.id,
                                         occurrence_at=occurrence.at, status="filing",
                                         skipped=skipped)
            db.session.add(record)
            db.session.flush()  # the occurrence's claim: a second one fails here
            req, error = _file_one(row)
            if req is not None:
                record.status, record.request_id = "filed", req.id
                row.failures, row.last_error = 0, None
                filed += 1
            else:
                record.status, record.error = "failed", error
                row.failures += 1
                row.last_error = error
                failure = failure or (occurrence, error)
            row.last_at = occurrence.at
        row.next_at = following.at if following is not None else None
        row.next_local = following.local if following is not None else None
        if failure is not None:
            if row.failures >= MAX_FAILURES:
                row.paused = True
            _tell_owner(row, *failure)
    db.session.flush()
    return filed


def _file_one(row: RecurringSchedule):
    """(the request filed, None) or (None, why not), nothing of a failed filing kept."""
    requester = db.session.get(User, row.requester_id)
    if requester is None or not requester.active or not policy.can_file_request(requester):
        return None, str(_l("The requester can no longer file requests (inactive, or in no "
                            "unit). Choose another requester."))
    category = db.session.get(Category, row.category_id)
    if category is None or not category.active:
        return None, str(_l("The category is no longer active. Choose another category."))
    form = {"title": row.title, "description": row.description,
            "category_id": row.category_id, "location": row.location or "",
            "fields": dict(row.fields or {})}
    if row.priority:
        form["priority"] = row.priority
    session = db.session()
    queued = len(session.info.get(notices._PENDING, []))
    try:
        with session.begin_nested():
            req = requests.file_request(requester, form)
            req.recurring_schedule_id = row.id
            session.flush()
        return req, None
    except ValidationError as exc:
        error = str(_l("The request is no longer valid: %(problems)s",
                       problems=_messages(exc.messages)))
    except QuotaExceeded as exc:
        error = exc.message
    except (WorkflowError, EngineError):
        log.exception("recurring schedule %s: the process could not start", row.id)
        error = str(_l("The process of the category could not start."))
    del session.info.setdefault(notices._PENDING, [])[queued:]  # the failed filing's notices
    return None, error


def _messages(messages, limit: int = 5) -> str:
    flat = []

    def walk(value, name=""):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, key if key != "_schema" else name)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner, name)
        else:
            flat.append(f"{name}: {value}" if name else str(value))

    walk(messages)
    return "; ".join(flat[:limit])[:1000]


def _tell_owner(row: RecurringSchedule, occurrence, error: str) -> None:
    paused = row.paused and row.failures >= MAX_FAILURES
    notices.announce(notices.Notice(
        EVENT, None, [row.owner_id], tenant_id=row.tenant_id,
        key=f"{EVENT}:s{row.id}:{occurrence.at:%Y%m%d%H%M}",
        values={"schedule_title": row.title, "failure": error,
                "paused": "yes" if paused else "",
                "path": f"/recurring/{row.id}"}))


def _record_crash(schedule_id: int, tenant_id: int) -> None:
    """An unexpected error: said on the schedule and counted as a failure (so it pauses after
    ``MAX_FAILURES`` passes rather than failing every pass for ever)."""
    try:
        with isolation.tenant(tenant_id), writing():
            row = db.session.scalar(select(RecurringSchedule).where(
                RecurringSchedule.id == schedule_id, RecurringSchedule.tenant_id == tenant_id)
                .execution_options(populate_existing=True))
            if row is not None:
                row.failures += 1
                row.last_error = str(_l("An unexpected error; the operators were told."))
                if row.failures >= MAX_FAILURES:
                    row.paused = True
            db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("recurring schedule %s: recording its failure failed", schedule_id)
