"""The rows of an indicators view, read in a few bounded queries, turned into figures.

Every query is the caller's company and scope (``filters.request_clause``). The main one
reads one row per request alive during the period (filed before it ends, not closed before
it starts), with its ticket: each milestone in the period belongs to one of them. The others
are small: return instants in the period, the open backlog, SLA clocks grouped by kind and
state, and open tickets per worker.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Float, Integer, and_, cast, func, or_, select

from app.extensions import db
from app.indicators import figures, stages
from app.indicators.filters import Filters, alive_clause, request_clause
from app.models import OPEN_REQUEST_STATUSES, Category, ServiceRequest, Ticket, Unit, User
from app.models.base import utcnow
from app.models.ticket import OPEN_TICKET_STATUSES
from app.services.inbox import sla_filter
from app.sla.models import SlaClock
from app.tenancy import clock

INSTANTS = ("created_at", "closed_at", "authorized_at", "approved_at", "assigned_at",
            "started_at", "finished_at", "confirmed_at")
FACT_COLUMNS = (
    ServiceRequest.id, ServiceRequest.number, ServiceRequest.status,
    *(getattr(ServiceRequest, name) for name in INSTANTS),
    ServiceRequest.category_id, ServiceRequest.unit_id, ServiceRequest.estimated_cost,
    ServiceRequest.estimated_hours, ServiceRequest.rating, ServiceRequest.rating_comment,
    ServiceRequest.rejected_by, ServiceRequest.reopens,
    *(getattr(ServiceRequest, f"{stage}_minutes") for stage in stages.STAGES),
    Ticket.worker_id, Ticket.planned_end, Ticket.hours_spent, Ticket.materials_cost,
    Ticket.actual_cost,
)


assert tuple(c.key for c in FACT_COLUMNS) == figures.FACT_FIELDS  # read by position


def epoch(column):
    """``column`` (a UTC instant) as epoch seconds, computed by the database: thousands of
    floats convert far faster than thousands of datetimes, and the figures compare numbers."""
    if db.engine.dialect.name == "postgresql":
        seconds = cast(func.extract("epoch", column), Float)
    else:  # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: whole seconds exactly, and
        # the milliseconds (truncated, so never past a boundary of whole seconds)
        seconds = (cast(func.strftime("%s", column), Integer)
                   + cast(func.strftime("%f", column), Float)
                   - cast(func.strftime("%S", column), Integer))
    return seconds.label(column.key)


def _selected(column):
    return epoch(column) if column.key in INSTANTS and column.class_ is ServiceRequest \
        else column


def period_of(f: Filters) -> figures.Period:
    return figures.Period(f.start, f.end, f.start_at, f.end_at, f.zone, f.bucket)


def facts(user: User, f: Filters) -> list:
    """One row per request alive during the period, with its ticket's columns."""
    return db.session.execute(
        select(*(_selected(c) for c in FACT_COLUMNS))
        .outerjoin(Ticket, and_(Ticket.request_id == ServiceRequest.id,
                                Ticket.tenant_id == ServiceRequest.tenant_id))
        .where(request_clause(user, f), alive_clause(f))
    ).all()


def returns_in(user: User, f: Filters) -> dict[int, list[datetime]]:
    """When each request was returned for information within the period."""
    from app.models import HistoryEvent

    rows = db.session.execute(
        select(HistoryEvent.request_id, HistoryEvent.created_at)
        .join(ServiceRequest, ServiceRequest.id == HistoryEvent.request_id)
        .where(HistoryEvent.tenant_id == f.tenant_id, HistoryEvent.to_status == "returned",
               HistoryEvent.from_status != "returned",
               HistoryEvent.created_at >= f.start_at, HistoryEvent.created_at < f.end_at,
               request_clause(user, f)))
    found: dict[int, list[datetime]] = {}
    for request_id, at in rows:
        found.setdefault(request_id, []).append(at)
    return found


def open_backlog(user: User, f: Filters) -> list:
    return db.session.execute(
        select(ServiceRequest.status, ServiceRequest.created_at)
        .where(request_clause(user, f), ServiceRequest.status.in_(OPEN_REQUEST_STATUSES))
    ).all()


def overdue(user: User, f: Filters, now: datetime) -> dict:
    today = clock.today(user.tenant, now)
    tickets = db.session.scalar(
        select(func.count(Ticket.id))
        .join(ServiceRequest, ServiceRequest.id == Ticket.request_id)
        .where(request_clause(user, f), Ticket.tenant_id == f.tenant_id,
               Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.planned_end < today))
    breached = db.session.scalar(
        select(func.count(ServiceRequest.id))
        .where(request_clause(user, f), sla_filter("overdue", now)))
    return {"tickets": tickets or 0, "sla_breached": breached or 0}


def clocks(user: User, f: Filters, now: datetime) -> list[dict]:
    stopped = db.session.execute(
        select(SlaClock.kind, SlaClock.state, SlaClock.minutes, SlaClock.elapsed_seconds)
        .join(ServiceRequest, ServiceRequest.id == SlaClock.request_id)
        .where(request_clause(user, f), SlaClock.tenant_id == f.tenant_id,
               SlaClock.state.in_(("met", "breached")),
               SlaClock.stopped_at >= f.start_at, SlaClock.stopped_at < f.end_at)
    ).all()
    open_breached = dict(db.session.execute(
        select(SlaClock.kind, func.count(SlaClock.id))
        .join(ServiceRequest, ServiceRequest.id == SlaClock.request_id)
        .where(request_clause(user, f), SlaClock.tenant_id == f.tenant_id,
               SlaClock.stopped_at.is_(None),
               # a breached clock paused since has no due time: its cached state says it
               or_(SlaClock.due_at <= now, SlaClock.state == "breached"))
        .group_by(SlaClock.kind)).all())
    return figures.sla([tuple(c) for c in stopped], open_breached)


def open_tickets(user: User, f: Filters) -> list:
    return db.session.execute(
        select(Ticket.worker_id, ServiceRequest.estimated_hours)
        .join(ServiceRequest, ServiceRequest.id == Ticket.request_id)
        .where(request_clause(user, f), Ticket.tenant_id == f.tenant_id,
               Ticket.status.in_(OPEN_TICKET_STATUSES))
    ).all()


def _names(model, tenant_id: int, ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    return dict(db.session.execute(
        select(model.id, model.name).where(model.tenant_id == tenant_id, model.id.in_(ids))
    ).all())


def _category_names(tenant_id: int, ids, locale: str | None) -> dict[int, str]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    return {c.id: c.label(locale) for c in db.session.scalars(
        select(Category).where(Category.tenant_id == tenant_id, Category.id.in_(ids)))}


def available_hours(tenant_id: int, f: Filters) -> Decimal:
    """Working hours in the period: the company's default business calendar, else 8 hours
    each weekday."""
    calendar = stages.company_calendar(tenant_id)
    if calendar is not None:
        span = calendar.business_time(f.start_at, f.end_at)
        return Decimal(int(span.total_seconds() // 60)) / 60
    day, hours = f.start, 0
    while day <= f.end:
        hours += 8 if day.weekday() < 5 else 0
        day += timedelta(days=1)
    return Decimal(hours)


def indicators(user: User, f: Filters, now: datetime | None = None,
               locale: str | None = None) -> dict:
    """Every figure of the view, JSON-ready (``figures`` defines each)."""
    now = now or utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    period = period_of(f)
    rows = figures.prepare(facts(user, f))
    returns = returns_in(user, f)
    tickets_open = open_tickets(user, f)
    workers = {r.worker_id for r in rows} | {w for w, _ in tickets_open}
    events = figures.counted(rows, returns, period)
    return {
        "filters": f.as_json(),
        "volumes": figures.volumes(rows, returns, period, events),
        "rates": figures.rates(rows, returns, period, events),
        "lead_times": figures.lead_times(rows, period),
        "backlog": figures.backlog(open_backlog(user, f), now),
        "overdue": overdue(user, f, now),
        "on_time": figures.on_time(rows, period),
        "sla": clocks(user, f, now),
        "workload": figures.workload(rows, tickets_open, _names(User, f.tenant_id, workers),
                                     available_hours(f.tenant_id, f), period),
        "cost": figures.cost(rows, period,
                             _category_names(f.tenant_id, (r.category_id for r in rows),
                                             locale or user.locale),
                             _names(Unit, f.tenant_id, (r.unit_id for r in rows))),
        "satisfaction": figures.satisfaction(rows, period),
    }
