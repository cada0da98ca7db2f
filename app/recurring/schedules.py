"""Recurring schedules: the rules of creating, changing, pausing, resuming and deleting one
(pages and API call these; they flush, the caller commits), who sees which, and previews.

A tenant admin schedules requests of any category; a director, of the categories of the
service units they direct (``policy.can_manage_schedule``). The request template is checked
as a filing would check it (the category's own fields by ``app.request_fields``), the
requester must be an active person of the company who can file, and the rule
(``app.recurring.rules``) may not fire more often than every 15 minutes, never, or more often
in a month than the plan's monthly requests leave room for, counting the company's other
schedules that file (each keeps its busiest month, ``per_month``; a paused schedule files
nothing and counts again when it is resumed, which is refused if it no longer fits).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import func, select

from app import policy
from app.admin import audit
from app.extensions import db
from app.models import PRIORITIES, Category, Tenant, User
from app.models.base import utcnow
from app.recurring import rules
from app.recurring.models import CATCH_UP, RecurringOccurrence, RecurringSchedule
from app.request_fields import values as request_fields
from app.tenancy import clock
from app.tenancy.plans import plan_of

AUDITED = ("title", "category_id", "priority", "requester_id", "rule", "time_zone",
           "starts_on", "ends_on", "catch_up", "paused")
MAX_BACK_DAYS = 366     # a start at most this far back (the rule is followed from there)
MAX_SCHEDULES = 500     # per company


class Refused(Exception):
    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__(str(errors))


@dataclass
class ScheduleInput:
    title: str
    description: str
    category_id: int | None
    requester_id: int | None
    rule: str
    starts_on: date
    ends_on: date | None = None
    priority: str | None = None
    location: str = ""
    fields: dict = field(default_factory=dict)
    catch_up: str = "all"


# --- who sees what -----------------------------------------------------------------------------

def visible(user: User):
    """The schedules ``user`` may see and change, newest first."""
    stmt = (select(RecurringSchedule)
            .where(RecurringSchedule.tenant_id == user.tenant_id,
                   RecurringSchedule.deleted_at.is_(None))
            .order_by(RecurringSchedule.id.desc()))
    if not policy.is_tenant_admin(user):
        stmt = stmt.join(Category, Category.id == RecurringSchedule.category_id).where(
            Category.service_unit_id.in_(policy.directed_unit_ids(user) or {0}))
    return stmt


def find(user: User, schedule_id: int) -> RecurringSchedule | None:
    if not 0 < schedule_id <= 2**31 - 1:
        return None
    row = db.session.scalar(select(RecurringSchedule).where(
        RecurringSchedule.tenant_id == user.tenant_id, RecurringSchedule.id == schedule_id,
        RecurringSchedule.deleted_at.is_(None)))
    return row if policy.can_manage_schedule(user, row) else None


def categories_for(user: User) -> list[Category]:
    stmt = select(Category).where(Category.tenant_id == user.tenant_id,
                                  Category.active.is_(True)).order_by(Category.name)
    if not policy.is_tenant_admin(user):
        stmt = stmt.where(Category.service_unit_id.in_(policy.directed_unit_ids(user) or {0}))
    return list(db.session.scalars(stmt))


def requesters_for(tenant_id: int, limit: int = 500) -> list[User]:
    """Active people of the company who can file (a unit they file from), by name."""
    people = db.session.scalars(select(User).where(
        User.tenant_id == tenant_id, User.active.is_(True)).order_by(User.name).limit(limit))
    return [person for person in people if policy.can_file_request(person)]


def occurrences(schedule: RecurringSchedule, limit: int = 20) -> list[RecurringOccurrence]:
    return list(db.session.scalars(
        select(RecurringOccurrence).where(
            RecurringOccurrence.tenant_id == schedule.tenant_id,
            RecurringOccurrence.schedule_id == schedule.id)
        .order_by(RecurringOccurrence.occurrence_at.desc()).limit(limit)))


# --- checks ------------------------------------------------------------------------------------

def recurrence_of(schedule: RecurringSchedule) -> rules.Recurrence:
    return rules.Recurrence(schedule.rule, rules.zone_of(schedule.time_zone),
                            schedule.starts_on, schedule.ends_on)


def _template_errors(user: User, data: ScheduleInput) -> tuple[dict, Category | None, dict]:
    errors: dict = {}
    title, description = (data.title or "").strip(), (data.description or "").strip()
    if not 3 <= len(title) <= 200:
        errors["title"] = [str(_l("Give a title of 3 to 200 characters."))]
    if not 3 <= len(description) <= 10000:
        errors["description"] = [str(_l("Give a description of 3 to 10,000 characters."))]
    if data.priority not in (None, "", *PRIORITIES):
        errors["priority"] = [str(_l("Choose a priority from the list."))]
    if len(data.location or "") > 200:
        errors["location"] = [str(_l("At most 200 characters."))]
    if data.catch_up not in CATCH_UP:
        errors["catch_up"] = [str(_l("Choose what happens after a downtime."))]
    category = next((c for c in categories_for(user) if c.id == data.category_id), None)
    if category is None:
        errors["category_id"] = [str(_l("Choose a category from the list."))]
    values = {}
    if category is not None:
        try:
            values = request_fields.load(category, data.fields)
        except ValidationError as exc:
            errors.update(exc.messages)
    requester = db.session.scalar(select(User).where(
        User.tenant_id == user.tenant_id, User.id == (data.requester_id or 0)))
    if requester is None or not requester.active or not policy.can_file_request(requester):
        errors["requester_id"] = [str(_l(
            "Choose an active person of the company who can file requests."))]
    return errors, category, values


def _quota_errors(user: User, per_month: int, schedule: RecurringSchedule | None) -> dict:
    """The plan's monthly requests against this rule's busiest month and the company's other
    schedules that still file: not deleted, not ended, not paused (a paused one files nothing;
    ``resume`` checks it again)."""
    allowed = plan_of(db.session.get(Tenant, user.tenant_id)).requests_per_month
    if allowed is None:
        return {}
    others = db.session.scalar(select(func.coalesce(func.sum(RecurringSchedule.per_month), 0))
                               .where(RecurringSchedule.tenant_id == user.tenant_id,
                                      RecurringSchedule.deleted_at.is_(None),
                                      RecurringSchedule.next_at.is_not(None),
                                      RecurringSchedule.paused.is_(False),
                                      RecurringSchedule.id != (schedule.id if schedule else 0)))
    if per_month + (others or 0) <= allowed:
        return {}
    if not others:
        text = _l("This rule files up to %(n)s requests in a month, more than the %(allowed)s a "
                  "month the company's plan allows.", n=per_month, allowed=allowed)
    else:
        text = _l("This rule files up to %(n)s requests in a month; with the company's other "
                  "recurring requests (%(others)s a month) that is more than the %(allowed)s a "
                  "month the company's plan allows.", n=per_month, others=others,
                  allowed=allowed)
    return {"rule": [str(text)]}


def start_error(starts_on: date, today: date) -> str | None:
    """Why a new start date is refused: more than a year back (dateutil would walk every
    occurrence since then on each check: 14 s for a rule every 15 minutes from 1990, hours
    from the year 1) or more than ``rules.MAX_YEARS`` ahead (the year 9999 overflows)."""
    if starts_on < today - timedelta(days=MAX_BACK_DAYS):
        return str(_l("The start is at most a year back."))
    if starts_on > today + timedelta(days=366 * rules.MAX_YEARS):
        return str(_l("The start is at most %(n)s years ahead.", n=rules.MAX_YEARS))
    return None


def checked(user: User, data: ScheduleInput, schedule: RecurringSchedule | None = None,
            now: datetime | None = None) -> tuple[dict, rules.Summary]:
    """The schedule's columns from ``data``, every problem at once (raises Refused)."""
    now = now or utcnow()
    errors, category, values = _template_errors(user, data)
    tenant = db.session.get(Tenant, user.tenant_id)
    zone_name = schedule.time_zone if schedule is not None else clock.zone(tenant).key
    zone = rules.zone_of(zone_name)
    summary, rule = None, None
    unchanged_start = schedule is not None and schedule.starts_on == data.starts_on
    start_problem = None if unchanged_start else start_error(data.starts_on,
                                                             now.astimezone(zone).date())
    if start_problem:
        errors["starts_on"] = [start_problem]
    else:
        try:
            rule = rules.normalized(data.rule)
            recurrence = rules.Recurrence(rule, zone, data.starts_on, data.ends_on)
            anchor = None
            if (schedule is not None and unchanged_start and schedule.rule == rule
                    and schedule.next_local is not None):
                anchor = schedule.next_local
            summary = rules.check(recurrence, now, anchor)
        except rules.RuleError as exc:
            for name, messages in exc.messages.items():
                errors.setdefault(name, []).extend(messages)
    if summary is not None and not (schedule is not None and schedule.paused):
        errors.update(_quota_errors(user, summary.per_month, schedule))  # paused: on resume
    if errors:
        raise Refused(errors)
    return {
        "title": data.title.strip(), "description": data.description.strip(),
        "category_id": category.id, "priority": data.priority or None,
        "location": (data.location or "").strip(), "fields": values,
        "requester_id": data.requester_id, "rule": rule, "time_zone": zone_name,
        "starts_on": data.starts_on, "ends_on": data.ends_on, "catch_up": data.catch_up,
        "per_month": summary.per_month,
    }, summary


# --- changes -----------------------------------------------------------------------------------

def create(user: User, data: ScheduleInput, now: datetime | None = None) -> RecurringSchedule:
    count = db.session.scalar(select(func.count(RecurringSchedule.id)).where(
        RecurringSchedule.tenant_id == user.tenant_id, RecurringSchedule.deleted_at.is_(None)))
    if count >= MAX_SCHEDULES:
        raise Refused({"_schema": [str(_l("The company has %(n)s recurring requests, the most "
                                          "it may have.", n=MAX_SCHEDULES))]})
    columns, summary = checked(user, data, None, now)
    row = RecurringSchedule(tenant_id=user.tenant_id, owner_id=user.id, **columns)
    _set_next(row, summary.first)
    db.session.add(row)
    db.session.flush()
    audit.record(user.tenant_id, user, "recurring.created", "recurring_schedule", row.id,
                 target_label=row.title, after=audit.snapshot(row, AUDITED))
    return row


def update(user: User, row: RecurringSchedule, data: ScheduleInput,
           now: datetime | None = None) -> RecurringSchedule:
    before = audit.snapshot(row, AUDITED)
    columns, summary = checked(user, data, row, now)
    for name, value in columns.items():
        setattr(row, name, value)
    if not row.paused:
        _set_next(row, summary.first)
    row.failures, row.last_error = 0, None
    db.session.flush()
    audit.record(user.tenant_id, user, "recurring.changed", "recurring_schedule", row.id,
                 target_label=row.title, before=before, after=audit.snapshot(row, AUDITED))
    return row


def pause(user: User, row: RecurringSchedule) -> bool:
    if row.paused:
        return False
    row.paused = True
    db.session.flush()
    audit.record(user.tenant_id, user, "recurring.paused", "recurring_schedule", row.id,
                 target_label=row.title)
    return True


def resume(user: User, row: RecurringSchedule, now: datetime | None = None) -> bool:
    """Resume from now on: what fell due while paused is not filed. Refused (it stays
    paused) when its busiest month no longer fits the plan's monthly requests beside the
    company's other schedules that file."""
    if not row.paused:
        return False
    following = recurrence_of(row).next(now or utcnow(), row.next_local)
    errors = _quota_errors(user, row.per_month, row) if following is not None else {}
    if errors:
        raise Refused(errors)
    row.paused, row.failures, row.last_error = False, 0, None
    _set_next(row, following)
    db.session.flush()
    audit.record(user.tenant_id, user, "recurring.resumed", "recurring_schedule", row.id,
                 target_label=row.title)
    return True


def delete(user: User, row: RecurringSchedule, now: datetime | None = None) -> None:
    """Deleted for good from the pages and the API; its occurrences and the requests it filed
    stay (they still show as recurring)."""
    row.deleted_at = now or utcnow()
    row.next_at = row.next_local = None
    db.session.flush()
    audit.record(user.tenant_id, user, "recurring.deleted", "recurring_schedule", row.id,
                 target_label=row.title, before=audit.snapshot(row, AUDITED))


def _set_next(row: RecurringSchedule, occurrence: rules.Occurrence | None) -> None:
    row.next_at = occurrence.at if occurrence is not None else None
    row.next_local = occurrence.local if occurrence is not None else None


def preview(row_or_recurrence, now: datetime | None = None, n: int = 5):
    """The next ``n`` occurrences from now (``rules.Occurrence``: instant and local time)."""
    now = now or utcnow()
    if not isinstance(row_or_recurrence, RecurringSchedule):
        return row_or_recurrence.upcoming(now, n)
    row = row_or_recurrence
    if row.next_at is None:
        return []
    since = now if row.paused else min(now, row.next_at)  # one overdue shows as due
    return recurrence_of(row).upcoming(since, n, row.next_local)


def state(row: RecurringSchedule) -> str:
    if row.paused:
        return "paused"
    return "active" if row.next_at is not None else "ended"
