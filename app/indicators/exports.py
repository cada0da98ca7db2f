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
batch's, however many rows it has. Names the rows point to that a company has few of
(categories in the reader's language, units, business calendars) are read once, up front.

Values are typed for the writers: text, whole numbers, Decimals (money, hours), dates and
date-times in the company's zone (naive, local). Headers and coded values (statuses,
priorities, clock states) are in the reader's language, translated when the table is built,
inside the web request: the rows are produced later, while the response streams, in a session
of their own and in the company's isolation scope (``app.tenancy.isolation``).

SLA columns, for each kind (decision, start, resolution): the clock's state, its due time, the
target's length and the business minutes elapsed, from the clock rows' cache brought to the
time of the export with the clock's calendar, as lists and the API's lists show them
(``app.sla.display.cached_clock``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.indicators import filters as flt
from app.indicators import stages
from app.indicators.labels import STAGE
from app.labels import PRIORITY, ROLE, SLA_TARGET, STATUS
from app.models import Category, ServiceRequest, Ticket, Unit, User, ticket_helpers
from app.models.base import utcnow
from app.sla import display
from app.sla.clock import KINDS
from app.sla.models import BusinessCalendar, SlaClock
from app.tenancy import isolation

BATCH = 1000
TEXT, INT, MONEY, HOURS, DATE, DATETIME = "text", "int", "money", "hours", "date", "datetime"
VALUE = "value"  # any of the above, told by its type (the figures' value column)
CENT = Decimal("0.01")
CLOCK_COLUMNS = ("state", "due_at", "minutes", "elapsed_seconds", "started_at", "stopped_at",
                 "warn_at", "paused_since", "warn_percent", "pause_statuses", "calendar_id")


@dataclass(frozen=True)
class Column:
    """One column: its header (in the reader's language), the kind of its values, and how a
    row gives its value."""

    header: str
    kind: str
    get: Callable


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


def _translated(table: dict) -> dict[str, str]:
    return {code: str(text) for code, text in table.items()}


def reader_locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else ""


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


class Lookups:
    """What rows point to that a company has few of, read once: category names in the
    reader's language, unit names, business calendars (for the clocks)."""

    def __init__(self, tenant_id: int, locale: str):
        self.tenant_id, self.locale = tenant_id, locale
        self.categories: dict[int, str] = {}
        self.units: dict[int, str] = {}
        self.calendars: dict[int, BusinessCalendar] = {}

    def load(self) -> None:
        tid = self.tenant_id
        for row in db.session.scalars(select(Category).where(Category.tenant_id == tid)):
            self.categories[row.id] = row.label(self.locale)
        self.units = {unit_id: name for unit_id, name in db.session.execute(
            select(Unit.id, Unit.name).where(Unit.tenant_id == tid))}
        self.calendars = {row.id: row for row in db.session.scalars(
            select(BusinessCalendar).where(BusinessCalendar.tenant_id == tid))}


# --- the SLA columns ------------------------------------------------------------------------

class Clocks:
    """A row's three clocks as of the export's ``now``, computed once per row and kind."""

    def __init__(self, lookups: Lookups, now: datetime):
        self.lookups, self.now = lookups, now
        self._row, self._found = None, {}
        self._labels = {kind: {name: f"clock_{kind}_{name}" for name in CLOCK_COLUMNS}
                        for kind in KINDS}

    def of(self, row, kind: str):
        if row is not self._row:
            self._row, self._found = row, {}
        if kind not in self._found:
            self._found[kind] = self._compute(row, kind)
        return self._found[kind]

    def _compute(self, row, kind: str):
        labels = self._labels[kind]
        if getattr(row, labels["state"]) is None:
            return None  # no target of this kind applies
        values = {name: getattr(row, label) for name, label in labels.items()}
        stored = SimpleNamespace(kind=kind, **values,
                                 calendar=self.lookups.calendars.get(values["calendar_id"]))
        if stored.calendar is None:  # (a calendar is never deleted while a clock uses it)
            from app.sla import service

            return service.stored_clock(stored)
        return display.cached_clock(stored, self.now)


def sla_columns(clocks: Clocks) -> list[Column]:
    states = _translated(display.STATE_LABELS)
    out = []
    for kind in KINDS:
        name = str(SLA_TARGET[kind])

        def get(row, attribute, kind=kind):
            clock = clocks.of(row, kind)
            return attribute(clock) if clock is not None else None

        out += [
            Column(_("%(target)s: state", target=name), TEXT,
                   lambda r, g=get: g(r, lambda c: states.get(c.state, c.state))),
            Column(_("%(target)s: due", target=name), DATETIME,
                   lambda r, g=get: g(r, lambda c: c.due_at)),
            Column(_("%(target)s: target (business minutes)", target=name), INT,
                   attrgetter(f"clock_{kind}_minutes")),
            Column(_("%(target)s: elapsed (business minutes)", target=name), INT,
                   lambda r, g=get: g(r, lambda c: int(c.elapsed.total_seconds()) // 60)),
        ]
    return out


# --- requests -------------------------------------------------------------------------------

Requester, Worker = aliased(User, name="requester"), aliased(User, name="worker")


def _request_and_ticket_columns() -> list:
    r, t = ServiceRequest, Ticket
    return [
        r.id.label("request_id"), r.number, r.title, r.category_id, r.priority, r.status,
        r.location, r.unit_id, r.service_unit_id, r.created_at, r.closed_at,
        r.estimated_cost, r.estimated_hours, r.committed_on, r.rating, r.rating_comment,
        r.authorized_at, r.approved_at, r.assigned_at, r.started_at, r.finished_at,
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


class Context:
    """What the columns of one export read: the lookups, the clocks and the labels of codes,
    all in the reader's language."""

    def __init__(self, f: flt.Filters):
        self.lookups = Lookups(f.tenant_id, reader_locale())
        self.clocks = Clocks(self.lookups, utcnow())
        self.status = _translated(STATUS)
        self.priority = _translated(PRIORITY)

    def category(self, row) -> str:
        return self.lookups.categories.get(row.category_id, "")

    def unit(self, unit_id) -> str:
        return self.lookups.units.get(unit_id, "") if unit_id is not None else ""


def request_columns(ctx: Context, number_header: str) -> list[Column]:
    return [
        Column(number_header, TEXT, attrgetter("number")),
        Column(_("Title"), TEXT, attrgetter("title")),
        Column(_("Category"), TEXT, ctx.category),
        Column(_("Priority"), TEXT, lambda r: ctx.priority.get(r.priority, r.priority)),
        Column(_("Status"), TEXT, lambda r: ctx.status.get(r.status, r.status)),
        Column(_("Requester"), TEXT, attrgetter("requester_name")),
        Column(_("Unit"), TEXT, lambda r: ctx.unit(r.unit_id)),
        Column(_("Service unit"), TEXT, lambda r: ctx.unit(r.service_unit_id)),
        Column(_("Location"), TEXT, attrgetter("location")),
        Column(_("Filed at"), DATETIME, attrgetter("created_at")),
        Column(_("Closed at"), DATETIME, attrgetter("closed_at")),
        Column(_("Estimated cost"), MONEY, attrgetter("estimated_cost")),
        Column(_("Estimated hours"), HOURS, attrgetter("estimated_hours")),
        Column(_("Budget date"), DATE, attrgetter("committed_on")),
        Column(_("Rating"), INT, attrgetter("rating")),
        Column(_("Rating comment"), TEXT, attrgetter("rating_comment")),
    ]


def milestone_columns(ctx: Context) -> list[Column]:
    """When the request passed each milestone (``app.indicators.stages``), how often it was
    returned for information or its work reopened, and who rejected it."""
    roles = _translated(ROLE)
    return [
        Column(_("Authorized at"), DATETIME, attrgetter("authorized_at")),
        Column(_("Approved at"), DATETIME, attrgetter("approved_at")),
        Column(_("Worker assigned at"), DATETIME, attrgetter("assigned_at")),
        Column(_("Work started at"), DATETIME, attrgetter("started_at")),
        Column(_("Work finished at"), DATETIME, attrgetter("finished_at")),
        Column(_("Rejected by"), TEXT, lambda r: roles.get(r.rejected_by, r.rejected_by)),
        Column(_("Times returned for information"), INT, attrgetter("returns")),
        Column(_("Times the work was reopened"), INT, attrgetter("reopens")),
    ]


def lead_time_columns() -> list[Column]:
    """Each stage's length in business minutes, once the stage ended."""
    return [Column(_("Lead time: %(stage)s (business minutes)", stage=STAGE[stage]), INT,
                   attrgetter(f"{stage}_minutes"))
            for stage in stages.STAGES]


def ticket_columns(ctx: Context, helpers: dict | None = None) -> list[Column]:
    status = ctx.status
    columns = [
        Column(_("Ticket"), TEXT, attrgetter("ticket_number")),
        Column(_("Worker"), TEXT, attrgetter("worker_name")),
        Column(_("Ticket status"), TEXT,
               lambda r: status.get(r.ticket_status, r.ticket_status)),
        Column(_("Assigned at"), DATETIME, attrgetter("ticket_created_at")),
        Column(_("Planned start"), DATE, attrgetter("planned_start")),
        Column(_("Planned end"), DATE, attrgetter("planned_end")),
        Column(_("Actual start"), DATETIME, attrgetter("actual_start")),
        Column(_("Actual end"), DATETIME, attrgetter("actual_end")),
        Column(_("Ticket closed at"), DATETIME, attrgetter("ticket_closed_at")),
        Column(_("Hours spent"), HOURS, attrgetter("hours_spent")),
        Column(_("Hourly rate"), MONEY, attrgetter("hourly_rate")),
        Column(_("Materials cost"), MONEY, attrgetter("materials_cost")),
        Column(_("Actual cost"), MONEY, attrgetter("actual_cost")),
        Column(_("Resolution"), TEXT, attrgetter("resolution")),
        Column(_("Hold reason"), TEXT, attrgetter("hold_reason")),
    ]
    if helpers is not None:
        columns.insert(2, Column(_("Helpers"), TEXT,
                                 lambda r: "; ".join(helpers.get(r.ticket_id, ()))))
    return columns


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

    columns = (request_columns(ctx, _("Number")) + milestone_columns(ctx) + ticket_columns(ctx)
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
    columns = ticket[:1] + request + ticket[1:] + sla_columns(ctx.clocks)
    return Table(_stem(_("tickets"), f), _("Tickets"), columns, batches, f.tenant_id, f.zone)
