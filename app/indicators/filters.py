"""The period and filters of an indicators view, checked against what the caller may see.

Who sees indicators, and of which requests (``app.policy.indicator_scope``): a tenant admin
the whole company, a service director the requests their service units attend, a unit head
the requests of the units they head (and the units under them); several roles add up. A filter
only narrows that set, and a filter value outside it is refused: another company's or an
unknown id is not found (404), a unit the caller does not head or a service unit they do not
direct is not found either (404), so that no value can reveal figures they may not see. Bad
values (a date that is not one, from after to, a period past ``MAX_DAYS``) are a 422 by field.

Dates are the company's: a period ``from``..``to`` covers those whole days in its zone.
"""

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select

from app import policy
from app.extensions import db
from app.kinds import KINDS
from app.models import PRIORITIES, Category, Membership, ServiceRequest, Ticket, Unit, User
from app.models.base import utcnow
from app.tenancy import clock

MAX_DAYS = 3 * 366 + 1  # three years, whatever they hold
MAX_ID = 2**31 - 1  # ids are 32-bit integers: a larger one names nothing
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PRESETS = {
    "last_7_days": _l("Last 7 days"),
    "last_30_days": _l("Last 30 days"),
    "last_90_days": _l("Last 90 days"),
    "this_month": _l("This month"),
    "last_month": _l("Last month"),
    "this_quarter": _l("This quarter"),
    "this_year": _l("This year"),
    "last_year": _l("Last year"),
    "last_12_months": _l("Last 12 months"),
}
DEFAULT_PRESET = "last_30_days"
# The id filters, each with the table it names
ID_FILTERS = ("unit_id", "service_unit_id", "category_id", "worker_id")


class FilterError(ValueError):
    """A filter that cannot be used: ``status`` 404 (not found among what the caller may see)
    or 422 (not a valid value), ``field`` the query parameter, ``message`` for a person."""

    def __init__(self, status: int, field: str, message):
        super().__init__(str(message))
        self.status, self.field, self.message = status, field, message


@dataclass(frozen=True)
class Filters:
    """A view: the caller's company, its zone, the period (whole local days, both included)
    and the narrowing filters (None: any)."""

    tenant_id: int
    zone: ZoneInfo
    start: date
    end: date
    preset: str | None = None
    unit_id: int | None = None
    service_unit_id: int | None = None
    category_id: int | None = None
    priority: str | None = None
    worker_id: int | None = None
    kind: str | None = None  # the kind of work (app.kinds)

    @property
    def start_at(self) -> datetime:
        """The period's first instant (UTC)."""
        return _midnight(self.start, self.zone)

    @property
    def end_at(self) -> datetime:
        """The instant after the period (UTC): the midnight that ends its last day."""
        return _midnight(self.end + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bucket(self) -> str:
        """How trends are grouped: by day up to two months, by week up to a year, else by
        month."""
        return "day" if self.days <= 62 else "week" if self.days <= 366 else "month"

    def query_args(self) -> dict:
        """The filters as query parameters: what a shared URL or an export link carries."""
        args = {"preset": self.preset} if self.preset else {
            "from": self.start.isoformat(), "to": self.end.isoformat()}
        for name in (*ID_FILTERS, "priority", "kind"):
            value = getattr(self, name)
            if value is not None:
                args[name] = value
        return args

    def as_json(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "preset": self.preset, "zone": self.zone.key, "bucket": self.bucket,
                **{name: getattr(self, name) for name in (*ID_FILTERS, "priority", "kind")}}


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


# --- the period ------------------------------------------------------------------------------

def preset_period(name: str, today: date) -> tuple[date, date]:
    """``(first day, last day)`` of a preset, as the company's calendar reads ``today``."""
    if name.startswith("last_") and name.endswith("_days"):
        days = int(name.split("_")[1])
        return today - timedelta(days=days - 1), today
    if name == "this_month":
        return today.replace(day=1), today
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if name == "this_quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if name == "this_year":
        return date(today.year, 1, 1), today
    if name == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if name == "last_12_months":  # the twelve calendar months that end with this one
        months = today.year * 12 + today.month - 1 - 11
        return date(months // 12, months % 12 + 1, 1), today
    raise KeyError(name)


def _date(args, name: str) -> date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)  # fromisoformat reads 20261101 and 2026-W45-1 too
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(422, name, _l("Give a date as YYYY-MM-DD.")) from None


def _period(args, today: date) -> tuple[date, date, str | None]:
    """A named period wins over days (the form sends both: the days below the list count
    when "Custom dates" is chosen, which sends no name); neither: the default period."""
    preset = (args.get("preset") or "").strip() or None
    start = end = None
    if preset is None:
        start, end = _date(args, "from"), _date(args, "to")
    if preset is not None or (start is None and end is None):
        preset = preset or DEFAULT_PRESET
        if preset not in PRESETS:
            raise FilterError(422, "preset", _l("Choose one of the listed periods."))
        first, last = preset_period(preset, today)
        return first, last, preset
    if start is None or end is None:
        missing = "from" if start is None else "to"
        raise FilterError(422, missing, _l("Give both the first and the last day."))
    if start > end:
        raise FilterError(422, "to", _l("The last day comes before the first."))
    if (end - start).days + 1 > MAX_DAYS:
        raise FilterError(422, "from", _l("A period is at most three years long."))
    if start.year < 2000 or end.year > 2100:
        raise FilterError(422, "from", _l("Give dates between 2000 and 2100."))
    return start, end, None


# --- what the caller may see -----------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """The requests a person's indicators count: the whole company, or the union of the units
    they head (with the units under them) and the service units they direct."""

    tenant_id: int
    whole_company: bool
    headed: frozenset[int]
    directed: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.whole_company or self.headed or self.directed)

    def clause(self):
        """WHERE on ServiceRequest (always the company's)."""
        mine = ServiceRequest.tenant_id == self.tenant_id
        if self.whole_company:
            return mine
        parts = []
        if self.headed:
            parts.append(ServiceRequest.unit_id.in_(sorted(self.headed)))
        if self.directed:
            parts.append(ServiceRequest.service_unit_id.in_(sorted(self.directed)))
        return and_(mine, or_(*parts)) if parts else false()


def scope_of(user: User) -> Scope:
    return Scope(user.tenant_id, policy.is_tenant_admin(user),
                 frozenset(policy.headed_unit_ids(user)),
                 frozenset(policy.directed_unit_ids(user)))


def _id(args, name: str) -> int | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        raise FilterError(422, name, _l("Not a valid id."))
    return int(text)


NOT_FOUND = _l("Not found among what you may see.")


def _check_unit(scope: Scope, unit_id: int) -> None:
    unit = db.session.scalar(select(Unit.id).where(Unit.tenant_id == scope.tenant_id,
                                                   Unit.id == unit_id))
    if unit is None:
        raise FilterError(404, "unit_id", NOT_FOUND)
    # A head narrows to the units they head; a director to any unit that files to them
    if not scope.whole_company and not scope.directed and unit_id not in scope.headed:
        raise FilterError(404, "unit_id", NOT_FOUND)


def _check_service_unit(scope: Scope, unit_id: int) -> None:
    found = db.session.scalar(select(Unit.id).where(
        Unit.tenant_id == scope.tenant_id, Unit.id == unit_id, Unit.is_service_unit.is_(True)))
    if found is None:
        raise FilterError(404, "service_unit_id", NOT_FOUND)
    if not scope.whole_company and not scope.headed and unit_id not in scope.directed:
        raise FilterError(404, "service_unit_id", NOT_FOUND)


def _check_category(scope: Scope, category_id: int) -> None:
    found = db.session.scalar(select(Category.id).where(
        Category.tenant_id == scope.tenant_id, Category.id == category_id))
    if found is None:
        raise FilterError(404, "category_id", NOT_FOUND)


def _check_worker(scope: Scope, worker_id: int) -> None:
    """A worker of the company; a director alone may name only their units' workers."""
    stmt = select(Membership.unit_id).where(
        Membership.tenant_id == scope.tenant_id, Membership.user_id == worker_id,
        Membership.role == "worker")
    units = set(db.session.scalars(stmt))
    if not units:
        raise FilterError(404, "worker_id", NOT_FOUND)
    if not scope.whole_company and not scope.headed and not (units & scope.directed):
        raise FilterError(404, "worker_id", NOT_FOUND)


def parse(user: User, args, now: datetime | None = None) -> Filters:
    """The view ``args`` (a mapping of query parameters) asks for, for ``user``.

    Raises ``FilterError`` for a bad or out-of-scope value and ``PermissionError`` when the
    person sees no indicators at all (no admin, director or head role)."""
    scope = scope_of(user)
    if scope.empty:
        raise PermissionError("no indicators")
    tenant = user.tenant
    zone = clock.zone(tenant)
    start, end, preset = _period(args, clock.today(tenant, now or utcnow()))
    found = {name: _id(args, name) for name in ID_FILTERS}
    priority = (args.get("priority") or "").strip() or None
    if priority is not None and priority not in PRIORITIES:
        raise FilterError(422, "priority", _l("Choose one of the listed priorities."))
    kind = (args.get("kind") or "").strip() or None
    if kind is not None and kind not in KINDS:
        raise FilterError(422, "kind", _l("Choose one of the listed kinds of work."))
    checks = {"unit_id": _check_unit, "service_unit_id": _check_service_unit,
              "category_id": _check_category, "worker_id": _check_worker}
    for name, value in found.items():
        if value is not None:
            checks[name](scope, value)
    return Filters(tenant_id=user.tenant_id, zone=zone, start=start, end=end, preset=preset,
                   priority=priority, kind=kind, **found)


def request_clause(user: User, filters: Filters):
    """WHERE on ServiceRequest: the caller's scope and every filter but the period."""
    parts = [scope_of(user).clause()]
    if filters.unit_id is not None:
        parts.append(ServiceRequest.unit_id == filters.unit_id)
    if filters.service_unit_id is not None:
        parts.append(ServiceRequest.service_unit_id == filters.service_unit_id)
    if filters.category_id is not None:
        parts.append(ServiceRequest.category_id == filters.category_id)
    if filters.priority is not None:
        parts.append(ServiceRequest.priority == filters.priority)
    if filters.kind is not None:
        parts.append(ServiceRequest.kind == filters.kind)
    if filters.worker_id is not None:
        parts.append(ServiceRequest.id.in_(
            select(Ticket.request_id).where(Ticket.tenant_id == filters.tenant_id,
                                            Ticket.worker_id == filters.worker_id)))
    return and_(*parts)


def alive_clause(filters: Filters):
    """WHERE on ServiceRequest: filed before the period ends and not closed before it starts,
    so that every milestone that falls in the period is among the selected requests."""
    return and_(ServiceRequest.created_at < filters.end_at,
                or_(ServiceRequest.closed_at.is_(None),
                    ServiceRequest.closed_at >= filters.start_at))


def with_period(filters: Filters, start: date, end: date) -> Filters:
    return replace(filters, start=start, end=end, preset=None)


# --- what the form offers ---------------------------------------------------------------------

def options(user: User) -> dict:
    """The choices of the filter form, limited to what the caller may narrow to."""
    scope = scope_of(user)
    units = list(db.session.execute(
        select(Unit.id, Unit.name, Unit.is_service_unit)
        .where(Unit.tenant_id == user.tenant_id).order_by(Unit.name)))
    if scope.whole_company or scope.directed:
        unit_choices = [(u.id, u.name) for u in units]
    else:
        unit_choices = [(u.id, u.name) for u in units if u.id in scope.headed]
    services = [(u.id, u.name) for u in units if u.is_service_unit
                and (scope.whole_company or scope.headed or u.id in scope.directed)]
    categories = list(db.session.execute(
        select(Category.id, Category.name, Category.names)
        .where(Category.tenant_id == user.tenant_id).order_by(Category.name)))
    worker_rows = select(User.id, User.name, Membership.unit_id).join(
        Membership, Membership.user_id == User.id).where(
        User.tenant_id == user.tenant_id, Membership.role == "worker").order_by(User.name)
    workers = {}
    for row in db.session.execute(worker_rows):
        if scope.whole_company or scope.headed or row.unit_id in scope.directed:
            workers.setdefault(row.id, row.name)
    locale = user.locale
    return {
        "presets": list(PRESETS.items()),
        "units": unit_choices,
        "service_units": services,
        "categories": [(c.id, (c.names or {}).get(locale or "") or c.name) for c in categories],
        "priorities": list(PRIORITIES),
        "kinds": list(KINDS),
        "workers": list(workers.items()),
    }
