"""The monthly summary of the indicators, e-mailed (and shown under the bell) to each
company's tenant admins and service directors: ``flask indicators monthly`` (run by cron on
the first days of a month), or with Celery the beat's hourly ``mesa.indicators_monthly``
(``scheduled``: the companies whose calendar reads one of the first ``FIRST_DAYS`` of a month).

Each person gets the figures they may see (``filters.parse`` with their scope: a director
their service units', a tenant admin the whole company's) of one month: requests filed and
completed in it, requests open now, work finished on time, SLA compliance per target and the
mean rating, with a link to the indicators page of that month. The numbers and the month are
written in the person's language when the notice is queued; its wording (``indicators.monthly``
in ``app.notifications.defaults``, which a tenant may rewrite) when it is sent.

Once per person and month: the notice's key is ``indicators.monthly:t<company>:<YYYY-MM>``
and the outbox adds ``:u<person>`` (unique in the notices table). A person already told is
skipped; each person's notice is its own short transaction, so a second runner racing this
one loses on the unique key and that person is counted as already told, never told twice.
Suspended companies are skipped (their messages would wait anyway).
"""

from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.indicators import data, report
from app.indicators import filters as flt
from app.models import Membership, Notification, Tenant, Unit, User
from app.models.base import utcnow
from app.notifications import defaults, notices
from app.sqlite import writing
from app.tenancy import access, clock, isolation

EVENT = "indicators.monthly"
ROLES = ("tenant_admin", "service_director")
FIRST_DAYS = 3  # the scheduled run sends on a company's first days of a month, by its calendar
NONE = "—"


@dataclass
class Sent:
    """What one company's run did: notices queued, people already told, people skipped (who
    see no indicators any more)."""

    slug: str
    month: str
    queued: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def parse_month(text: str) -> tuple[date, date]:
    """First and last day of the month ``text`` (``YYYY-MM``), or ReportError."""
    span = report.calendar_span(text.strip()) if report.MONTH.match(text.strip()) else None
    if span is None or not 2000 <= span[0].year <= 2100:
        raise report.ReportError("period", "Give a month as YYYY-MM, between 2000 and 2100.")
    return span


def last_month(tenant: Tenant, now=None) -> tuple[date, date]:
    """The company's last month, as its calendar reads today."""
    return flt.preset_period("last_month", clock.today(tenant, now or utcnow()))


def base_key(tenant: Tenant, first: date) -> str:
    return f"{EVENT}:t{tenant.id}:{first:%Y-%m}"


def recipients(tenant: Tenant) -> list[User]:
    """The company's active tenant admins and service directors, by id."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(User.tenant_id == tenant.id, User.active.is_(True),
               Membership.tenant_id == tenant.id, Membership.role.in_(ROLES))
        .distinct().order_by(User.id)))


def _told(tenant: Tenant, key: str, people: list[User]) -> set[int]:
    keys = {f"{key}:u{person.id}": person.id for person in people}
    return {keys[k] for k in db.session.scalars(select(Notification.key).where(
        Notification.tenant_id == tenant.id, Notification.key.in_(list(keys))))}


# --- the values of one person's summary ---------------------------------------------------------

def _percent(value, locale: str) -> str:
    return NONE if value is None else format_percent(value, "#,##0 %", locale=locale)


def _sla(row: dict | None, locale: str) -> str:
    if row is None or row["compliance"] is None:
        return NONE
    return f"{_percent(row['compliance'], locale)} ({row['met']}/{row['met'] + row['breached']})"


def _scope_name(person: User, tenant: Tenant) -> str:
    scope = flt.scope_of(person)
    if scope.whole_company:
        return tenant.name
    names = db.session.scalars(select(Unit.name).where(
        Unit.tenant_id == tenant.id, Unit.id.in_(sorted(scope.directed | scope.headed)))
        .order_by(Unit.name))
    return ", ".join(names) or tenant.name


def values(person: User, tenant: Tenant, f: flt.Filters, figures: dict, locale: str) -> dict:
    """The summary's template values, written in ``locale``: text, so that a zero shows."""
    totals = figures["volumes"]["totals"]
    sla = {row["kind"]: row for row in figures["sla"]}
    satisfaction = figures["satisfaction"]
    mean = satisfaction["mean"]
    rating = NONE if mean is None else \
        f"{format_decimal(mean, '0.0', locale=locale)} / 5 ({satisfaction['rated']})"
    return {
        "summary_period": format_skeleton("yMMMM", f.start, locale=locale),
        "summary_scope": _scope_name(person, tenant),
        "filed": str(totals["filed"]), "completed": str(totals["completed"]),
        "backlog": str(figures["backlog"]["total"]),
        "on_time": _percent(figures["on_time"]["value"], locale),
        "sla_decision": _sla(sla.get("decision"), locale),
        "sla_start": _sla(sla.get("start"), locale),
        "sla_resolution": _sla(sla.get("resolution"), locale),
        "mean_rating": rating,
        "path": f"/indicators?from={f.start.isoformat()}&to={f.end.isoformat()}",
    }


def _locale_of(person: User, tenant: Tenant) -> str:
    for locale in (person.locale, tenant.locale):
        if locale in defaults.LOCALES:
            return locale
    return defaults.LOCALES[0]


# --- sending -------------------------------------------------------------------------------------

def send(tenant: Tenant, first: date, last: date, now=None) -> Sent:
    """Queue the summary of ``first``..``last`` for each of the company's admins and
    directors not yet told of that month, each in a transaction of its own."""
    now = now or utcnow()
    key = base_key(tenant, first)
    sent = Sent(tenant.slug, f"{first:%Y-%m}")
    people = recipients(tenant)
    told = _told(tenant, key, people)
    period = {"from": first.isoformat(), "to": last.isoformat()}
    for person in people:
        email = person.email
        if person.id in told:
            sent.already.append(email)
            continue
        try:
            f = flt.parse(person, period, now=now)
        except (PermissionError, flt.FilterError):
            sent.skipped.append(email)
            continue
        locale = _locale_of(person, tenant)
        figures = data.indicators(person, f, now=now, locale=locale)
        notice = notices.Notice(EVENT, None, [person.id], key=key, tenant_id=tenant.id,
                                values=values(person, tenant, f, figures, locale))
        db.session.rollback()  # the reads end here; the write is a short transaction of its own
        with writing():
            notices.announce(notice)
            try:
                db.session.commit()
            except IntegrityError:  # another run told them first
                db.session.rollback()
                sent.already.append(email)
                continue
        sent.queued.append(email)
    return sent


def run(tenants: list[Tenant], month: str | None = None, now=None) -> list[Sent]:
    """The summary for each of ``tenants`` not suspended: of ``month`` (``YYYY-MM``), else of
    each company's last month."""
    now = now or utcnow()
    chosen = parse_month(month) if month else None
    results = []
    for tenant in tenants:
        if access.is_suspended(tenant):
            continue
        first, last = chosen or last_month(tenant, now)
        tenant_id = tenant.id
        with isolation.tenant(tenant_id):
            try:
                results.append(send(db.session.get(Tenant, tenant_id), first, last, now))
            except Exception:
                db.session.rollback()
                raise
    return results


def scheduled(now=None) -> list[Sent]:
    """What the beat runs every hour: the last month's summary for each company whose
    calendar reads one of the first ``FIRST_DAYS`` of a month (the first run of those days
    sends; the next ones find everyone told). Other days it reads the companies and stops."""
    now = now or utcnow()
    tenants = [tenant for tenant in db.session.scalars(select(Tenant).order_by(Tenant.slug))
               if clock.today(tenant, now).day <= FIRST_DAYS]
    return run(tenants, None, now)
