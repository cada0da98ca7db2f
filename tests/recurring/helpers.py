"""What the recurring tests share: the demo's people, a schedule made through the service at
a chosen instant, the rows a run left."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, ServiceRequest, Tenant, User
from app.recurring import schedules
from app.recurring.models import RecurringOccurrence, RecurringSchedule

ADMIN = "admin@acme.test"
DIRECTOR = "director@acme.test"
REQUESTER = "ana@acme.test"
WORKER = "tecnico1@acme.test"
GLOBEX_DIRECTOR = "director@globex.test"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a Monday, 07:00 in Bogota


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def tenant(slug: str = "acme") -> Tenant:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def category(slug: str = "acme") -> Category:
    return db.session.scalar(select(Category).join(Tenant, Tenant.id == Category.tenant_id)
                             .where(Tenant.slug == slug).order_by(Category.name).limit(1))


def make(rule: str = "FREQ=DAILY;BYHOUR=9", *, now: datetime = NOW, by: str = ADMIN,
         starts_on: date | None = None, ends_on: date | None = None, catch_up: str = "all",
         title: str = "Limpieza de la bodega", requester: str = REQUESTER,
         zone: str | None = None, slug: str = "acme") -> RecurringSchedule:
    if zone is not None:
        tenant().timezone = zone
        db.session.commit()
    actor = user(by)
    data = schedules.ScheduleInput(
        title=title, description="Limpieza mensual de la bodega",
        category_id=category(slug).id, requester_id=user(requester).id, rule=rule,
        starts_on=starts_on or now.date(), ends_on=ends_on, catch_up=catch_up)
    row = schedules.create(actor, data, now=now)
    db.session.commit()
    return row


def filed(schedule_id: int) -> list[ServiceRequest]:
    db.session.rollback()
    return list(db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.recurring_schedule_id == schedule_id).order_by(ServiceRequest.id)))


def occurrences(schedule_id: int) -> list[RecurringOccurrence]:
    db.session.rollback()
    return list(db.session.scalars(select(RecurringOccurrence).where(
        RecurringOccurrence.schedule_id == schedule_id)
        .order_by(RecurringOccurrence.occurrence_at)))


def schedule(schedule_id: int) -> RecurringSchedule:
    db.session.rollback()
    return db.session.get(RecurringSchedule, schedule_id)


def count_requests() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(ServiceRequest.id)))
