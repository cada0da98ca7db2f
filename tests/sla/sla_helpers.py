"""What the SLA tests share: a company's calendar and targets written straight to the rows."""

from sqlalchemy import select

from app.extensions import db
from app.models import BusinessCalendar, SlaTarget, Tenant

WEEKDAYS_8_18 = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [], "sun": []}
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def tenant(slug: str = "acme") -> Tenant:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def calendar(slug: str = "acme", week=None, zone="America/Bogota", holidays=(),
             name="Horario", default=True) -> BusinessCalendar:
    row = BusinessCalendar(tenant_id=tenant(slug).id, name=name, time_zone=zone,
                           is_default=default, week=week or WEEKDAYS_8_18,
                           holidays=list(holidays))
    db.session.add(row)
    db.session.flush()
    return row


def target(cal: BusinessCalendar, kind: str, minutes: int, category_id=None, priority=None,
           warn_percent=75, pauses=("returned", "on_hold")) -> SlaTarget:
    row = SlaTarget(tenant_id=cal.tenant_id, kind=kind, minutes=minutes, calendar_id=cal.id,
                    category_id=category_id, priority=priority, warn_percent=warn_percent,
                    pause_statuses=list(pauses))
    db.session.add(row)
    db.session.flush()
    return row


def targets(slug: str = "acme", decision=240, start=480, resolution=2400, week=None,
            zone="America/Bogota") -> dict:
    """A calendar and one target of each kind for every request of the company; committed."""
    cal = calendar(slug, week=week, zone=zone)
    made = {"calendar": cal}
    for kind, minutes in (("decision", decision), ("start", start),
                          ("resolution", resolution)):
        made[kind] = target(cal, kind, minutes)
    db.session.commit()
    return made
