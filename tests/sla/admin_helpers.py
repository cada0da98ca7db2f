"""What the tests of the tenant admin's SLA pages and API share: the forms as a browser sends
them, calendars and targets made through ``calendars`` / ``targets`` (checked and audited as
the pages and the API are), requests with clocks, and snapshots that tell whether anything
changed."""

from sqlalchemy import select

from app.extensions import db
from app.models import BusinessCalendar, ServiceRequest, SlaClock, SlaTarget
from app.sla import calendars, targets
from tests import factories
from tests.viability.budget_helpers import ADMIN, category

OFFICE = [["08:00", "12:00"], ["14:00", "18:00"]]
OFFICE_WEEK = {day: (OFFICE if day not in ("sat", "sun") else [])
               for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _actor(slug: str) -> str:
    """Who makes a company's rows in a test (globex has no tenant admin)."""
    return ADMIN if slug == "acme" else f"director@{slug}.test"


def calendar_form(**over) -> dict:
    """The new-calendar page's fields: office hours in Bogotá, two holidays."""
    values = {"name": "Oficina", "time_zone": "America/Bogota",
              **{f"week_{day}": "08:00-12:00, 14:00-18:00"
                 for day in ("mon", "tue", "wed", "thu", "fri")},
              "week_sat": "", "week_sun": "",
              "holidays": "2026-12-08 Inmaculada Concepción\n12-25 Navidad\n"}
    values.update(over)
    return values


def add_calendar(name: str = "Oficina", *, slug: str = "acme", week=None,
                 zone: str = "America/Bogota", holidays=(),
                 email: str | None = None) -> BusinessCalendar:
    """A calendar created as a tenant admin of ``slug`` would (the first is the default)."""
    db.session.rollback()
    actor = factories.user(email or _actor(slug))
    row = calendars.create(actor, calendars.CalendarInput(
        name=name, time_zone=zone, week=week or OFFICE_WEEK, holidays=list(holidays)))
    db.session.commit()
    return row


def add_target(cal: BusinessCalendar, kind: str = "resolution", minutes: int = 240, *,
               category_name: str | None = None, priority: str | None = None,
               slug: str = "acme") -> SlaTarget:
    db.session.rollback()
    actor = factories.user(_actor(slug))
    row, _flagged = targets.create(actor, targets.TargetInput(
        kind=kind, category_id=category(category_name, slug).id if category_name else None,
        priority=priority, minutes=minutes, calendar_id=cal.id))
    db.session.commit()
    return row


def target_form(**over) -> dict:
    """The new-target page's fields: 4 h 30 min to resolution, any category and priority,
    the default calendar (left to the page), pausing while returned or on hold."""
    values = {"kind": "resolution", "category_id": "", "priority": "", "hours": "4",
              "minutes": "30", "warn_percent": "75", "calendar_id": ""}
    values.update(over)
    return values


def with_pauses(form: dict, *statuses: str) -> dict:
    """``form`` with the pause_statuses checkboxes ticked (a list: one field per box)."""
    return {**form, "pause_statuses": list(statuses)}


def calendar_rows() -> list[tuple]:
    db.session.rollback()
    return sorted(((c.tenant_id, c.id, c.name, c.time_zone, c.is_default, repr(c.week),
                    repr(c.holidays)) for c in db.session.scalars(select(BusinessCalendar))),
                  key=repr)


def target_rows() -> list[tuple]:
    db.session.rollback()
    return sorted(((t.tenant_id, t.id, t.kind, t.category_id, t.priority, t.minutes,
                    t.warn_percent, repr(t.pause_statuses), t.calendar_id)
                   for t in db.session.scalars(select(SlaTarget))), key=repr)


def only_calendar(name: str) -> BusinessCalendar:
    db.session.rollback()
    return db.session.scalars(select(BusinessCalendar).where(
        BusinessCalendar.name == name)).one()


def clocks_of(req: ServiceRequest) -> list[SlaClock]:
    db.session.rollback()
    return list(db.session.scalars(select(SlaClock).where(SlaClock.request_id == req.id)
                                   .order_by(SlaClock.id)))


def stale(*requests: ServiceRequest) -> list[bool]:
    db.session.rollback()
    return [db.session.get(ServiceRequest, r.id).sla_rematch is not None for r in requests]
