"""What the exports of an indicators view hold: its requests, its tickets and its figures, as
tables of typed values read in bounded batches (``exports_formats`` writes them as CSV or XLSX,
streamed).

Which rows:

- **requests**: the requests the view's filters select (``filters.request_clause``: the
  caller's scope and the unit, service unit, category, priority and worker filters) that were
  **filed in the period** (``created_at`` from ``Filters.start_at`` to before ``end_at``),
  one row each with its ticket (a request has at most one) and its SLA clocks;
- **tickets**: the tickets of requests ``request_clause`` selects that were **created, i.e.
  assigned, in the period** (whenever their request was filed), one row each with its request;
- **figures**: ``data.indicators(user, f)`` flattened into (section, key, value) rows, one
  section per part of the figures (volumes, rates, lead times...).

There is no row cap. Rows are read in keyset batches of ``BATCH`` in filing (assignment) order,
``(created_at, id) > (last row's)``, as plain column tuples (no ORM objects kept in the
session), each batch one query: a subquery picks the batch's ids on the one table (an index
range scan) and the query joins what its rows need (requester, ticket, worker and the three
clocks; a tickets batch reads its helpers in one more): the memory an export takes is a
batch's, however many rows it has.

The table is built inside the web request (headers and labels translated then, see
``exports_columns``); its rows are produced later, while the response streams, in a session of
their own and in the company's isolation scope (``app.tenancy.isolation``).
"""


from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.indicators import filters as flt
from app.indicators import stages
from app.indicators.exports_columns import (
    CENT,
    CLOCK_COLUMNS,
    DATETIME,
    HOURS,
    MONEY,
    VALUE,
    Column,
    Context,
    lead_time_columns,
    milestone_columns,
    request_columns,
    sla_columns,
    ticket_columns,
)
from app.models import ServiceRequest, Ticket, User, ticket_helpers
from app.request_fields import exports as request_field_exports
from app.sla.clock import KINDS
from app.sla.models import SlaClock
from app.tenancy import isolation

BATCH = 1000


@dataclass
class Table:
    """An export: a file stem (``requests-2026-01-01-2026-12-31``), a sheet title, the
    columns, and the batches of raw rows (read when iterated, in the company's scope)."""

    stem: str
    title: str
    columns: list[Column]
    batches: Callable[[], Iterator[Sequence]]
    tenant_id: int
    zone: ZoneInfo

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def rows(self) -> Iterator[list]:
        """Each row's values, typed; date-times in the company's zone (naive)."""
        plan = [(c.get, self.converter(c.kind)) for c in self.columns]
        with isolation.tenant(self.tenant_id):
            for batch in self.batches():
                for row in batch:
                    yield [value if convert is None or value is None else convert(value)
                           for get, convert in plan for value in (get(row),)]

    def converter(self, kind: str) -> Callable | None:
        """What a column's values need before writing (None: nothing)."""
        zone = self.zone

        def local(value: datetime) -> datetime:
            return value.astimezone(zone).replace(tzinfo=None)

        if kind == DATETIME:
            return local
        if kind in (MONEY, HOURS):
            return lambda value: Decimal(value).quantize(CENT)
        if kind == VALUE:
            return lambda value: local(value) if isinstance(value, datetime) else value
        return None


def _stem(name: str, f: flt.Filters) -> str:
    return f"{name}-{f.start.isoformat()}-{f.end.isoformat()}"


# --- reading in batches ----------------------------------------------------------------------

def keyset_batches(keys, created, key, rows_of, size: int | None = None) -> Iterator[list]:
    """The rows ``keys`` selects, in batches of ``size`` ordered by ``(created, key)``, each
    batch resumed after the last one's pair: one bounded query per batch, whatever the number
    of rows. ``keys`` selects ``created`` and ``key`` (the filtering, on one table); each
    batch's ids are its subquery ``batch`` (columns ``created`` and ``id``), and
    ``rows_of(batch)`` selects their rows with what they join. Picking the batch first keeps
    the plan an index range scan on PostgreSQL (row-level security hides how many rows the
    joins keep, and with them in one query the planner sorted the whole period per batch)."""
    size = size or BATCH
    last = None
    while True:
        page = keys
        if last is not None:
            page = page.where(created >= last[0], or_(created > last[0], key > last[1]))
        batch = page.order_by(created, key).limit(size).subquery("batch")
        rows = db.session.execute(rows_of(batch).add_columns(
            batch.c.created.label("k_created"), batch.c.id.label("k_id"))
            .order_by(batch.c.created, batch.c.id)).all()
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = (rows[-1].k_created, rows[-1].k_id)


def _clock_columns() -> tuple[list, list]:
    """The three clocks outer-joined on (request, kind) (unique): their columns labelled
    ``clock_<kind>_<column>`` and the join conditions."""
    columns, joins = [], []
    for kind in KINDS:
        clock = aliased(SlaClock, name=f"clock_{kind}")
        columns += [getattr(clock, name).label(f"clock_{kind}_{name}") for name in CLOCK_COLUMNS]
        joins.append((clock, and_(clock.request_id == ServiceRequest.id, clock.kind == kind)))
    return columns, joins


# --- requests -------------------------------------------------------------------------------

Requester, Worker = aliased(User, name="requester"), aliased(User, name="worker")


def _request_and_ticket_columns() -> list:
    r, t = ServiceRequest, Ticket
    return [
        r.id.label("request_id"), r.number, r.title, r.category_id, r.priority, r.kind,
        r.status,
        r.location, r.unit_id, r.service_unit_id, r.created_at, r.closed_at,
        r.fields.label(request_field_exports.ROW_ATTRIBUTE),
        r.estimated_cost, r.estimated_hours, r.committed_on, r.rating, r.rating_comment,
        r.authorized_at, r.approved_at, r.assigned_at, r.started_at, r.finished_at,
        r.confirmed_at,
        r.rejected_by, r.returns, r.reopens,
        *(getattr(r, f"{stage}_minutes") for stage in stages.STAGES),
        Requester.name.label("requester_name"),
        t.id.label("ticket_id"), t.number.label("ticket_number"),
        t.status.label("ticket_status"), t.planned_start, t.planned_end, t.actual_start,
        t.actual_end, t.hours_spent, t.materials_cost, t.hourly_rate, t.actual_cost,
        t.resolution, t.hold_reason, t.created_at.label("ticket_created_at"),
        t.closed_at.label("ticket_closed_at"), Worker.name.label("worker_name"),
    ]


def _joined(stmt, clock_joins):
    stmt = stmt.join(Requester, Requester.id == ServiceRequest.requester_id)
    stmt = stmt.outerjoin(Worker, Worker.id == Ticket.worker_id)
    for clock, on in clock_joins:
        stmt = stmt.outerjoin(clock, on)
    return stmt


def _rows_of(driving):
    """The columns every export reads, for the ids of ``batch`` (of ``driving``'s table):
    the request, its requester, its ticket and worker, its three clocks."""
    clock_columns, clock_joins = _clock_columns()

    def rows_of(batch):
        stmt = (select(*_request_and_ticket_columns(), *clock_columns).select_from(batch)
                .join(driving, driving.id == batch.c.id))
        if driving is Ticket:
            stmt = stmt.join(ServiceRequest, ServiceRequest.id == Ticket.request_id)
        else:
            stmt = stmt.outerjoin(Ticket, Ticket.request_id == ServiceRequest.id)
        return _joined(stmt, clock_joins)

    return rows_of


def requests_table(user: User, f: flt.Filters, size: int | None = None) -> Table:
    """The requests of the view filed in the period, one row each with its ticket and clocks
    (see the module's docstring)."""
    ctx = Context(f)
    created, key = ServiceRequest.created_at, ServiceRequest.id
    keys = select(created.label("created"), key.label("id")).where(
        flt.request_clause(user, f), created >= f.start_at, created < f.end_at)
    rows_of = _rows_of(ServiceRequest)

    def batches():
        ctx.lookups.load()
        yield from keyset_batches(keys, created, key, rows_of, size)

    columns = (request_columns(ctx, _("Number"))
               + request_field_exports.columns(f.tenant_id)  # the category's own fields
               + milestone_columns(ctx) + ticket_columns(ctx)
               + lead_time_columns() + sla_columns(ctx.clocks))
    return Table(_stem(_("requests"), f), _("Requests"), columns, batches, f.tenant_id, f.zone)


def _helper_names(ticket_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    stmt = (select(ticket_helpers.c.ticket_id, User.name)
            .join(User, User.id == ticket_helpers.c.user_id)
            .where(ticket_helpers.c.ticket_id.in_(ticket_ids))
            .order_by(ticket_helpers.c.ticket_id, User.name))
    for ticket_id, name in db.session.execute(stmt):
        found.setdefault(ticket_id, []).append(name)
    return found


def tickets_table(user: User, f: flt.Filters, size: int | None = None) -> Table:
    """The tickets of the view's requests assigned in the period, one row each with its
    request and clocks (see the module's docstring)."""
    ctx = Context(f)
    helpers: dict[int, list[str]] = {}
    created, key = Ticket.created_at, Ticket.id
    keys = (select(created.label("created"), key.label("id"))
            .join(ServiceRequest, ServiceRequest.id == Ticket.request_id)
            .where(Ticket.tenant_id == f.tenant_id, flt.request_clause(user, f),
                   created >= f.start_at, created < f.end_at))
    rows_of = _rows_of(Ticket)

    def batches():
        ctx.lookups.load()
        for batch in keyset_batches(keys, created, key, rows_of, size):
            helpers.clear()
            helpers.update(_helper_names([row.ticket_id for row in batch]))
            yield batch

    request = request_columns(ctx, _("Request"))
    ticket = ticket_columns(ctx, helpers)
    # The ticket first, then what it is for: its request's number, title, category...
    columns = (ticket[:1] + request + request_field_exports.columns(f.tenant_id) + ticket[1:]
               + sla_columns(ctx.clocks))
    return Table(_stem(_("tickets"), f), _("Tickets"), columns, batches, f.tenant_id, f.zone)
