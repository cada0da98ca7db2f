"""The columns of the requests and tickets exports: each one's header in the reader's
language, the kind of its values, and how a row of the export's query gives its value.

Values are typed for the writers: text, whole numbers, Decimals (money, hours), dates and
date-times in the company's zone (naive, local). Headers and coded values (statuses,
priorities, roles, clock states) are translated when the columns are built, inside the web
request. Names the rows point to that a company has few of (categories in the reader's
language, units, business calendars) are read once, when the rows start (``Lookups``).

SLA columns, for each kind (decision, start, resolution): the clock's state, its due time, the
target's length and the business minutes elapsed, from the clock rows' cache brought to the
time of the export with the clock's calendar, as lists and the API's lists show them
(``app.sla.display.cached_clock``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from types import SimpleNamespace

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.indicators import filters as flt
from app.indicators import stages
from app.indicators.labels import STAGE
from app.labels import KIND, PRIORITY, ROLE, SLA_TARGET, STATUS
from app.models import Category, Tenant, Unit
from app.models.base import utcnow
from app.sla import display
from app.sla.clock import KINDS
from app.sla.models import BusinessCalendar

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


def _translated(table: dict) -> dict[str, str]:
    return {code: str(text) for code, text in table.items()}


def reader_locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else ""


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


class Context:
    """What the columns of one export read: the lookups, the clocks and the labels of codes,
    all in the reader's language."""

    def __init__(self, f: flt.Filters):
        self.lookups = Lookups(f.tenant_id, reader_locale())
        tenant = db.session.get(Tenant, f.tenant_id)
        self.currency = tenant.setting("currency") if tenant is not None else ""
        self.clocks = Clocks(self.lookups, utcnow())
        self.status = _translated(STATUS)
        self.priority = _translated(PRIORITY)
        self.kind = _translated(KIND)

    def category(self, row) -> str:
        return self.lookups.categories.get(row.category_id, "")

    def unit(self, unit_id) -> str:
        return self.lookups.units.get(unit_id, "") if unit_id is not None else ""

    def money(self, header: str) -> str:
        """A money column's header with the company's currency: "Actual cost (COP)"."""
        return _("%(column)s (%(currency)s)", column=header, currency=self.currency) \
            if self.currency else header


def request_columns(ctx: Context, number_header: str) -> list[Column]:
    return [
        Column(number_header, TEXT, attrgetter("number")),
        Column(_("Title"), TEXT, attrgetter("title")),
        Column(_("Category"), TEXT, ctx.category),
        Column(_("Priority"), TEXT, lambda r: ctx.priority.get(r.priority, r.priority)),
        Column(_("Status"), TEXT, lambda r: ctx.status.get(r.status, r.status)),
        Column(_("Kind of work"), TEXT, lambda r: ctx.kind.get(r.kind, r.kind)),
        Column(_("Requester"), TEXT, attrgetter("requester_name")),
        Column(_("Unit"), TEXT, lambda r: ctx.unit(r.unit_id)),
        Column(_("Service unit"), TEXT, lambda r: ctx.unit(r.service_unit_id)),
        Column(_("Location"), TEXT, attrgetter("location")),
        Column(_("Filed at"), DATETIME, attrgetter("created_at")),
        Column(_("Closed at"), DATETIME, attrgetter("closed_at")),
        Column(ctx.money(_("Estimated cost")), MONEY, attrgetter("estimated_cost")),
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
        Column(_("Confirmed at"), DATETIME, attrgetter("confirmed_at")),
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
        Column(ctx.money(_("Hourly rate")), MONEY, attrgetter("hourly_rate")),
        Column(ctx.money(_("Materials cost")), MONEY, attrgetter("materials_cost")),
        Column(ctx.money(_("Actual cost")), MONEY, attrgetter("actual_cost")),
        Column(_("Resolution"), TEXT, attrgetter("resolution")),
        Column(_("Hold reason"), TEXT, attrgetter("hold_reason")),
    ]
    if helpers is not None:
        columns.insert(2, Column(_("Helpers"), TEXT,
                                 lambda r: "; ".join(helpers.get(r.ticket_id, ()))))
    return columns
