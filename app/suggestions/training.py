"""Training a company's model from its own settled requests, and deciding when.

**Only the company's own text.** ``history`` reads ``service_requests`` inside
``isolation.tenant(tenant_id)`` and with ``tenant_id = :tenant`` in the statement: on
PostgreSQL row-level security admits that tenant's rows only, on SQLite the session adds the
same criterion; the model built from them is stored on the company's own row.

**Settled** requests are those the service unit accepted (pending assignment, in service or
completed): their category and priority stood through evaluation. Pending, returned, rejected
(perhaps for being in the wrong category) and cancelled requests do not teach.

**When.** A company is due when the suggestion is enabled, it has at least ``min_history``
settled requests, and it has no model yet, or ``retrain_after`` more settled requests than when
it was last trained, or a tenant admin asked ("train now"). Runners look for due companies
every SUGGESTIONS_SWEEP_SECONDS (one grouped count), and for "train now" at every pass (an
indexed look-up). A company is trained by one runner at a time: a conditional UPDATE takes a
lease on its row; the others skip it.

**Bounded.** A training reads the newest SUGGESTIONS_MAX_ROWS settled requests, the first
characters of each (app.suggestions.features), keeps at most SUGGESTIONS_MAX_FEATURES stems,
and fits each target in a bounded number of iterations; the README gives the time and memory
measured for 20,000 requests.
"""

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import ServiceRequest, Tenant
from app.models.base import utcnow
from app.sqlite import writing
from app.suggestions import features, learning, settings
from app.suggestions.models import SuggestionModel
from app.tenancy import isolation

log = logging.getLogger(__name__)
SETTLED_STATUSES = ("pending_assignment", "in_service", "completed")
LEASE = timedelta(minutes=15)  # longer than any bounded training
TENANTS_PER_PASS = 2           # a pass trains at most this many companies
_last_sweep = {"at": float("-inf")}  # monotonic time of this process's last full look


def settled_count(tenant_id: int) -> int:
    return db.session.scalar(select(func.count(ServiceRequest.id)).where(
        ServiceRequest.tenant_id == tenant_id,
        ServiceRequest.status.in_(SETTLED_STATUSES))) or 0


def state(tenant_id: int) -> SuggestionModel | None:
    return db.session.scalar(select(SuggestionModel).where(
        SuggestionModel.tenant_id == tenant_id))


def ensure_state(tenant_id: int) -> SuggestionModel:
    """The company's row, created if missing (two runners at once: one insert, no error)."""
    found = state(tenant_id)
    if found is not None:
        return found
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(SuggestionModel).values(
        tenant_id=tenant_id, status="pending", history_count=0, training_rows=0, features=0,
        duration_ms=0, scores={}, version=0).on_conflict_do_nothing(
        index_elements=["tenant_id"]))
    return state(tenant_id)


def request_training(tenant_id: int, now: datetime | None = None) -> SuggestionModel:
    """A tenant admin's "train now": the next pass of a runner trains it (the caller checks
    the history is enough, and commits)."""
    row = ensure_state(tenant_id)
    row.requested_at = now or utcnow()
    db.session.flush()
    return row


def history(tenant_id: int, limit: int) -> list[tuple[str, str, str]]:
    """The company's newest ``limit`` settled requests, oldest first: (text, category id,
    priority)."""
    rows = db.session.execute(
        select(ServiceRequest.title,
               func.substr(ServiceRequest.description, 1, features.MAX_DESCRIPTION_CHARS),
               ServiceRequest.category_id, ServiceRequest.priority)
        .where(ServiceRequest.tenant_id == tenant_id,
               ServiceRequest.status.in_(SETTLED_STATUSES))
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .limit(limit)).all()
    rows.reverse()
    return [(features.document(title, description), str(category_id), priority or "normal")
            for title, description, category_id, priority in rows]


def train(tenant_id: int, now: datetime | None = None) -> SuggestionModel:
    """Train the company's model now from its own history and store it (flush only; the
    caller commits). Call inside ``isolation.tenant(tenant_id)``."""
    config = current_app.config
    started = time.perf_counter()
    count = settled_count(tenant_id)
    rows = history(tenant_id, config["SUGGESTIONS_MAX_ROWS"])
    trained = learning.fit([text for text, _c, _p in rows],
                           {"category": [c for _t, c, _p in rows],
                            "priority": [p for _t, _c, p in rows]},
                           max_features=config["SUGGESTIONS_MAX_FEATURES"]) if rows else None
    row = ensure_state(tenant_id)
    row.history_count = count
    row.training_rows = len(rows)
    row.trained_at = now or utcnow()
    row.requested_at = None
    row.lease_until = None
    row.duration_ms = int((time.perf_counter() - started) * 1000)
    row.version = (row.version or 0) + 1
    row.error = None
    if trained is None:
        row.status, row.model, row.scores, row.features = "failed", None, {}, 0
        row.error = "no word appears in two requests: nothing to learn from"
    else:
        row.status = "trained"
        row.model = learning.dump(trained.model)
        row.features = len(trained.model.vectorizer.vocabulary)
        row.scores = {name: score.to_json() for name, score in trained.scores.items()}
    db.session.flush()
    return row


def due_tenants(now: datetime, sweep: bool = True) -> list[int]:
    """Companies due a training, asked ones first. Platform work on purpose: it looks at
    every company's counts (never at their text)."""
    with isolation.platform():
        asked = list(db.session.scalars(select(SuggestionModel.tenant_id).where(
            SuggestionModel.requested_at.is_not(None),
            or_(SuggestionModel.lease_until.is_(None), SuggestionModel.lease_until < now))
            .order_by(SuggestionModel.requested_at)))
        if not sweep:
            return asked
        counts = dict(db.session.execute(
            select(ServiceRequest.tenant_id, func.count(ServiceRequest.id))
            .where(ServiceRequest.status.in_(SETTLED_STATUSES))
            .group_by(ServiceRequest.tenant_id)).all())
        if not counts:
            return asked
        tenants = db.session.scalars(select(Tenant).where(
            Tenant.id.in_(list(counts)), Tenant.status == "active")).all()
        states = {row.tenant_id: row for row in db.session.scalars(
            select(SuggestionModel).where(SuggestionModel.tenant_id.in_(list(counts))))}
        due = []
        for tenant in sorted(tenants, key=lambda t: t.id):
            chosen = settings.of(tenant)
            row = states.get(tenant.id)
            count = counts[tenant.id]
            if not chosen.enabled or count < chosen.min_history or tenant.id in asked:
                continue
            if row is not None and row.lease_until is not None and row.lease_until >= now:
                continue
            if row is None or row.trained_at is None or \
                    count - row.history_count >= chosen.retrain_after:
                due.append(tenant.id)
        return asked + due


def claim(tenant_id: int, now: datetime) -> bool:
    """Take the company's lease: True for the one runner whose UPDATE matched."""
    ensure_state(tenant_id)
    result = db.session.execute(
        update(SuggestionModel)
        .where(SuggestionModel.tenant_id == tenant_id,
               or_(SuggestionModel.lease_until.is_(None), SuggestionModel.lease_until < now))
        .values(lease_until=now + LEASE)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _fail(tenant_id: int, exc: Exception) -> None:
    with isolation.tenant(tenant_id), writing():
        row = ensure_state(tenant_id)
        row.status, row.lease_until, row.requested_at = "failed", None, None
        row.error = f"{type(exc).__name__}: {exc}"[:300]
        db.session.commit()


def train_claimed(tenant_id: int, now: datetime) -> bool:
    """Claim, train and store one company, each in transactions of its own; True if this
    runner trained it."""
    with isolation.tenant(tenant_id), writing():
        ours = claim(tenant_id, now)
        db.session.commit()
    if not ours:
        return False
    try:
        with isolation.tenant(tenant_id), writing():
            train(tenant_id, now)
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("training the suggestion model of tenant %s failed", tenant_id)
        _fail(tenant_id, exc)
        return False
    return True


def run(now: datetime | None = None, sweep: bool | None = None,
        limit: int = TENANTS_PER_PASS) -> int:
    """A runner's pass: train the companies due (at most ``limit``); returns how many were
    trained. ``sweep`` None: look at every company's counts only when SUGGESTIONS_SWEEP_SECONDS
    have passed since this process last did ("train now" is looked for every pass)."""
    now = now or utcnow()
    db.session.rollback()  # a runner's pass starts from a fresh snapshot
    if sweep is None:
        sweep = time.monotonic() - _last_sweep["at"] >= \
            current_app.config["SUGGESTIONS_SWEEP_SECONDS"]
    if sweep:
        _last_sweep["at"] = time.monotonic()
    due = due_tenants(now, sweep)
    db.session.rollback()
    trained = 0
    for tenant_id in due[:limit]:
        trained += train_claimed(tenant_id, now)
    return trained
