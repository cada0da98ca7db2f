"""The figures of an indicators view as tables: ``data.indicators(user, f)`` flattened into
rows of (key, figure, value), one table per section (an XLSX sheet each) and all of them in one
table with the section first (the CSV).

- *key*: the figure's path in the API's JSON (``GET /api/v1/indicators``), dotted, with list
  items by their code or id: ``volumes.series.filed.2026-11-02``, ``rates.approval.value``,
  ``lead_times.work.median_minutes``, ``workload.12.hours_spent``,
  ``cost.by_category.3.actual_cost``; what a program reads;
- *figure*: the same in the reader's language ("Filed · 2026-11-02", "Approval · Rate",
  "Tomás Herrera · Hours spent"); what a person reads;
- *value*: a number (money and hours exact to the cent, rates 0 to 1, lengths in business
  minutes), a date, a date-time in the company's zone, or text.

The first section, *view*, says what the figures are of: the period, the zone and the filters
by name. The figures are a bounded dict (one entry per bucket, status, worker, category...):
they are computed whole, before the response starts, as the page computes them.
"""

from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.indicators import data, exports_columns
from app.indicators import filters as flt
from app.indicators.exports import Table
from app.indicators.exports_columns import TEXT, VALUE, Column
from app.indicators.labels import BAND, BUCKET, RATE, STAGE, VOLUME
from app.labels import KIND, PRIORITY, SLA_TARGET, STATUS
from app.models import User

SECTIONS = {
    "filters": _l("View"), "volumes": _l("Volumes"), "rates": _l("Rates"),
    "lead_times": _l("Lead times"), "backlog": _l("Backlog"), "overdue": _l("Overdue"),
    "on_time": _l("On time"), "sla": _l("Service levels"), "workload": _l("Workload"),
    "cost": _l("Cost"), "satisfaction": _l("Satisfaction"),
}
# The names of the figures' keys that are not codes of a vocabulary
PARTS = {
    "from": _l("First day"), "to": _l("Last day"), "preset": _l("Period"),
    "zone": _l("Time zone"), "bucket": _l("Trends grouped by"), "unit_id": _l("Unit"),
    "service_unit_id": _l("Service unit"), "category_id": _l("Category"),
    "priority": _l("Priority"), "worker_id": _l("Worker"), "kind": _l("Kind of work"),
    "totals": _l("Total"), "total": _l("Total"),
    "value": _l("Rate"), "numerator": _l("Counted"), "denominator": _l("Out of"),
    "count": _l("Stages ended"), "median_minutes": _l("Median (business minutes)"),
    "p90_minutes": _l("90th percentile (business minutes)"),
    "by_status": _l("By status"), "by_band": _l("By age"), "matrix": _l("By status and age"),
    "tickets": _l("Open tickets past their planned end"),
    "sla_breached": _l("Open requests past an SLA due time"),
    "finished": _l("Tickets finished"), "on_time": _l("Finished by the planned end"),
    "met": _l("Met"), "breached": _l("Breached"), "compliance": _l("Compliance"),
    "mean_overrun_minutes": _l("Mean overrun (business minutes)"),
    "open_breached": _l("Open and overdue now"),
    "open_tickets": _l("Open tickets"), "hours_planned": _l("Hours planned"),
    "hours_spent": _l("Hours spent"), "available_hours": _l("Available hours"),
    "utilization": _l("Utilization"), "requests": _l("Requests"),
    "estimated_cost": _l("Estimated cost"), "actual_cost": _l("Actual cost"),
    "materials_cost": _l("Materials cost"), "estimated_hours": _l("Estimated hours"),
    "by_category": _l("By category"), "by_unit": _l("By unit"),
    "completed": _l("Completed"), "rated": _l("Rated"), "response_rate": _l("Response rate"),
    "mean": _l("Mean rating"), "distribution": _l("Ratings"), "comments": _l("Comments"),
    "number": _l("Request"), "rating": _l("Rating"), "comment": _l("Comment"),
    "at": _l("Closed at"),
}
# Per section, the vocabulary its codes come from
CODES = {
    "volumes": VOLUME, "rates": RATE, "lead_times": STAGE, "backlog": {**STATUS, **BAND},
    "sla": SLA_TARGET,
}
DECIMALS = {"hours_planned", "hours_spent", "available_hours", "estimated_cost",
            "actual_cost", "materials_cost", "estimated_hours"}
IDENTS = ("stage", "kind", "worker_id", "id", "request_id")
# Keys that name no figure: the volumes' series (their names follow), the list of age bands
HIDDEN = {"series"}
LEFT_OUT = {"backlog.bands"}


def _name(part: str, codes: dict) -> str:
    found = codes.get(part) or PARTS.get(part)
    return str(found) if found is not None else part


def _typed(part: str, value):
    if isinstance(value, str) and part in DECIMALS:
        return Decimal(value)
    if isinstance(value, str) and part == "at":
        return datetime.fromisoformat(value)
    return value


def flatten(value, key: list, label: list, codes: dict):
    """(dotted key, label, value) of every leaf of ``value``; a list of records is keyed by
    each record's code or id and named by its name (a worker's, a category's) or code."""
    if ".".join(key) in LEFT_OUT:
        return
    if isinstance(value, dict):
        for part, inner in value.items():
            named = [] if part in HIDDEN else [_name(str(part), codes)]
            yield from flatten(inner, [*key, str(part)], [*label, *named], codes)
    elif isinstance(value, list):
        for i, item in enumerate(value, 1):
            if not isinstance(item, dict):
                yield from flatten(item, [*key, str(i)], [*label, str(i)], codes)
                continue
            ident = next((str(item[k]) for k in IDENTS if k in item), str(i))
            name = item.get("name") or item.get("number") or _name(ident, codes)
            rest = {k: v for k, v in item.items() if k not in IDENTS and k != "name"}
            yield from flatten(rest, [*key, ident], [*label, name], codes)
    else:
        yield ".".join(key), " · ".join(label), _typed(key[-1] if key else "", value)


def _volumes(volumes: dict) -> dict:
    """The series by bucket (each series is a list in the order of ``buckets``)."""
    buckets = volumes["buckets"]
    return {"series": {name: dict(zip(buckets, counts, strict=True))
                       for name, counts in volumes["series"].items()},
            "totals": volumes["totals"]}


def _view(user: User, f: flt.Filters) -> list[tuple]:
    """The view's rows: the period, the zone, the filters by name."""
    lookups = exports_columns.Lookups(f.tenant_id, exports_columns.reader_locale())
    lookups.load()
    worker = db.session.scalar(select(User.name).where(
        User.tenant_id == f.tenant_id, User.id == f.worker_id)) if f.worker_id else None
    named = {"unit_id": lookups.units.get(f.unit_id),
             "service_unit_id": lookups.units.get(f.service_unit_id),
             "category_id": lookups.categories.get(f.category_id), "worker_id": worker,
             "priority": str(PRIORITY.get(f.priority, f.priority or "")) or None,
             "kind": str(KIND.get(f.kind, f.kind or "")) or None}
    rows = [("from", f.start), ("to", f.end),
            ("preset", str(flt.PRESETS[f.preset]) if f.preset in flt.PRESETS else None),
            ("zone", f.zone.key), ("bucket", str(BUCKET.get(f.bucket, f.bucket)))]
    rows += [(name, named[name]) for name in (*flt.ID_FILTERS, "priority", "kind")]
    return [(f"filters.{name}", _name(name, {}), value) for name, value in rows]


def sections(user: User, f: flt.Filters, figures: dict) -> list[tuple[str, str, list]]:
    """(section code, section title, rows of (key, label, value)) of every section."""
    found = [("filters", str(SECTIONS["filters"]), _view(user, f))]
    for section, title in SECTIONS.items():
        if section == "filters" or section not in figures:
            continue
        value = _volumes(figures[section]) if section == "volumes" else figures[section]
        rows = list(flatten(value, [section], [], CODES.get(section, {})))
        found.append((section, str(title), rows))
    return found


def _columns(with_section: bool) -> list[Column]:
    columns = [Column(_("Key"), TEXT, lambda r: r[-3]), Column(_("Figure"), TEXT,
                                                               lambda r: r[-2]),
               Column(_("Value"), VALUE, lambda r: r[-1])]
    if with_section:
        columns.insert(0, Column(_("Section"), TEXT, lambda r: r[0]))
    return columns


def figures_tables(user: User, f: flt.Filters, figures: dict | None = None
                   ) -> tuple[list[Table], Table]:
    """(a table per section, all sections in one table): the figures of the view."""
    if figures is None:
        figures = data.indicators(user, f, locale=exports_columns.reader_locale())
    found = sections(user, f, figures)
    name = _("indicators")  # outside the f-string, where the extraction finds it
    stem = f"{name}-{f.start.isoformat()}-{f.end.isoformat()}"
    per_section = [Table(stem, title, _columns(False), lambda rows=rows: iter([rows]),
                         f.tenant_id, f.zone) for _code, title, rows in found]
    everything = [(title, *row) for _code, title, rows in found for row in rows]
    whole = Table(stem, _("Indicators"), _columns(True), lambda: iter([everything]),
                  f.tenant_id, f.zone)
    return per_section, whole
