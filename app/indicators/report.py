"""Scheduled reports of a company's indicators (``flask indicators report``): whose figures,
of which period, written as XLSX, CSV or JSON.

- **Whose**: a company's, as one of its people sees them: by default its first active tenant
  admin (the whole company), or the person named (``--as``), whose scope then applies (a
  director's service units, a head's units). The figures are the page's and the API's
  (``data.indicators``), read with the same filters (``filters.parse``).
- **Which period**: a month (``2026-11``), a quarter (``2026-Q3``), a year (``2026``), one of
  the page's presets (``last_month``...) as the company's calendar reads today, or first and
  last days. The same limits as the page's (at most three years, between 2000 and 2100).
- **Written**: the figures' export of the page (``exports_figures.figures_tables``: a sheet
  per section in XLSX, every section's rows in one CSV, written by ``exports_formats``), or
  the API's JSON as is. Names are in the company's language.

Nothing here writes to the database.
"""

import calendar
import json
import re
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from sqlalchemy import func, select

from app.extensions import db
from app.indicators import data, exports_figures, exports_formats
from app.indicators import filters as flt
from app.models import Membership, Tenant, User
from app.models.base import utcnow
from app.tenancy import isolation

FORMATS = ("xlsx", "csv", "json")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
YEAR = re.compile(r"^(\d{4})$")


class ReportError(ValueError):
    """A report that cannot be made: ``field`` names the option at fault (``period``, ``as``,
    ``tenant``), the message says why, for the person at the command line."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- the period -------------------------------------------------------------------------------

def period_args(period: str | None, first: date | None = None,
                last: date | None = None) -> dict:
    """The filters' period parameters (``preset`` or ``from``/``to``) of ``--period`` or of
    ``--from``/``--to``; ReportError when they are not one."""
    if period is not None and (first is not None or last is not None):
        raise ReportError("period", "Give either --period or --from and --to, not both.")
    if first is not None or last is not None:
        if first is None or last is None:
            raise ReportError("period", "Give both --from and --to.")
        return {"from": first.isoformat(), "to": last.isoformat()}
    text = (period or "last_month").strip()
    if text in flt.PRESETS:
        return {"preset": text}
    span = calendar_span(text)
    if span is None:
        raise ReportError("period", (
            f"'{text[:40]}' is not a period: give a month (2026-11), a quarter (2026-Q3), a "
            f"year (2026) or one of {', '.join(flt.PRESETS)}."))
    return {"from": span[0].isoformat(), "to": span[1].isoformat()}


def calendar_span(text: str) -> tuple[date, date] | None:
    """First and last day of a month, quarter or year written as ``2026-11``, ``2026-Q3`` or
    ``2026``; None when ``text`` is none of them."""
    if match := MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12 or year < 1:
            return None
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if match := QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        if year < 1:
            return None
        first_month = 3 * quarter - 2
        end = calendar_span(f"{year:04d}-{first_month + 2:02d}")
        return date(year, first_month, 1), end[1]
    if match := YEAR.match(text):
        year = int(match[1])
        return (date(year, 1, 1), date(year, 12, 31)) if year >= 1 else None
    return None


# --- whose figures ----------------------------------------------------------------------------

def company(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == (slug or "").strip()))
    if tenant is None:
        raise ReportError("tenant", f"No company '{(slug or '')[:40]}'.")
    return tenant


def tenant_admins(tenant: Tenant) -> list[User]:
    """The company's active tenant admins, the first-registered first."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(User.tenant_id == tenant.id, User.active.is_(True),
               Membership.tenant_id == tenant.id, Membership.role == "tenant_admin")
        .distinct().order_by(User.id)))


def reader(tenant: Tenant, email: str | None = None) -> User:
    """Whose scope the report takes: the person of ``email`` (active, of this company, with an
    indicator role), else the company's first active tenant admin."""
    if not email:
        admins = tenant_admins(tenant)
        if not admins:
            raise ReportError("as", f"{tenant.slug} has no active tenant admin: name whose "
                                    "figures to report with --as.")
        return admins[0]
    person = db.session.scalar(select(User).where(
        User.tenant_id == tenant.id, func.lower(User.email) == email.strip().lower()))
    if person is None or not person.active:
        raise ReportError("as", f"No active person '{email[:80]}' in {tenant.slug}.")
    if flt.scope_of(person).empty:
        raise ReportError("as", f"{person.email} sees no indicators (neither tenant admin, "
                                "service director nor unit head).")
    return person


# --- the report -------------------------------------------------------------------------------

@dataclass
class Report:
    """What one run reports: the company, whose scope, the view and its figures."""

    tenant: Tenant
    person: User
    filters: flt.Filters
    figures: dict

    @property
    def locale(self) -> str:
        return self.tenant.locale or "es"

    @property
    def stem(self) -> str:
        f = self.filters
        return f"indicators-{self.tenant.slug}-{f.start.isoformat()}-{f.end.isoformat()}"


def build(slug: str, period: dict, email: str | None = None, now=None) -> Report:
    """The report of the company ``slug`` for ``period`` (``period_args``), as ``email`` (or
    its first tenant admin) sees it. Raises ReportError."""
    now = now or utcnow()
    tenant = company(slug)
    with isolation.tenant(tenant.id):
        person = reader(tenant, email)
        try:
            f = flt.parse(person, period, now=now)
        except flt.FilterError as exc:
            with force_locale("en"):  # the command line's language
                raise ReportError("period", str(exc.message)) from None
        except PermissionError:  # (reader() checked already: a role gone meanwhile)
            raise ReportError("as", f"{person.email} sees no indicators.") from None
        figures = data.indicators(person, f, now=now, locale=tenant.locale)
    return Report(tenant, person, f, figures)


def json_bytes(report: Report) -> bytes:
    """The figures as the API gives them (``GET /api/v1/indicators``)."""
    return (json.dumps(report.figures, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write(report: Report, fmt: str, out) -> None:
    """Write the report as ``fmt`` (xlsx, csv or json) to the binary file ``out``."""
    if fmt == "json":
        out.write(json_bytes(report))
        return
    with isolation.tenant(report.tenant.id), force_locale(report.locale):
        sheets, whole = exports_figures.figures_tables(report.person, report.filters,
                                                       report.figures)
        if fmt == "xlsx":
            exports_formats.write_xlsx(out, sheets)
        else:
            for chunk in exports_formats.csv_chunks(whole):
                out.write(chunk)
