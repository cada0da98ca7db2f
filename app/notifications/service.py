"""A person's notices (the bell and its page) and their choices: what the pages and the API
call. Every query is the person's own (their id and tenant), so nobody reads another's."""

import re

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import HumanTask, Notification, NotificationPreference, Tenant, User
from app.models.base import utcnow
from app.notifications.catalog import CHANNELS, DEFAULT_CHANNELS, GROUPS

PAGE = 20
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# the pages a notice may lead to: a task, a request, the indicators of a period
PAGE_PATH = re.compile(r"/(tasks|requests)/[0-9]{1,10}"
                       r"|/indicators\?from=[0-9]{4}-[0-9]{2}-[0-9]{2}&to=[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_ID = 2**31 - 1


def _mine(user: User):
    return (Notification.tenant_id == user.tenant_id, Notification.user_id == user.id,
            Notification.inapp.is_(True))


WAITING_EVENTS = ("task.waiting", "task.reminder")


def unread_clause(user: User):
    """Not read, and still worth reading: a notice that a task waits, once the task is done
    (by this person or another), needs no attention any more."""
    still_open = select(HumanTask.id).where(HumanTask.tenant_id == user.tenant_id,
                                            HumanTask.status == "open")
    return (Notification.read_at.is_(None),
            or_(Notification.task_id.is_(None), Notification.event.not_in(WAITING_EVENTS),
                Notification.task_id.in_(still_open)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id))
                             .where(*_mine(user), *unread_clause(user))) or 0


def settled(notification: Notification) -> bool:
    """A notice that a task waits, whose task is done."""
    return (notification.event in WAITING_EVENTS and notification.task_id is not None
            and (notification.task is None or notification.task.status != "open"))


def _about_task(user: User, task_id: int):
    return (*_mine(user), Notification.task_id == task_id, Notification.read_at.is_(None))


def unread_about_task(user: User, task_id: int) -> bool:
    return db.session.scalar(select(Notification.id).where(*_about_task(user, task_id))
                             .limit(1)) is not None


def read_task_notices(user: User, task_id: int) -> None:
    """The person opened the task: what told them of it is read."""
    db.session.execute(update(Notification).where(*_about_task(user, task_id))
                       .values(read_at=utcnow()).execution_options(synchronize_session=False))


def page_of(user: User, before: int | None = None, limit: int = PAGE,
            unread_only: bool = False) -> tuple[list[Notification], bool]:
    """The person's notices, newest first, ``limit`` at a time; and whether older ones exist."""
    query = (select(Notification).where(*_mine(user)).order_by(Notification.id.desc())
             .options(selectinload(Notification.messages), selectinload(Notification.task)))
    if before and 0 < before <= MAX_ID:
        query = query.where(Notification.id < before)
    if unread_only:
        query = query.where(*unread_clause(user))
    rows = list(db.session.scalars(query.limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def find(user: User, notification_id: int) -> Notification | None:
    return db.session.scalar(select(Notification).where(
        *_mine(user), Notification.id == notification_id))


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user: User) -> int:
    """Mark every unread notice of the person read; returns how many."""
    result = db.session.execute(
        update(Notification).where(*_mine(user), Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount


def safe_path(notification: Notification) -> str:
    """Where opening the notice leads: a page of this site, never another site."""
    path = str((notification.params or {}).get("path") or "")
    return path if PAGE_PATH.fullmatch(path) else "/notifications"


# -- preferences ---------------------------------------------------------------------------------

def tenant_defaults(tenant: Tenant) -> dict[str, list[str]]:
    chosen = (tenant.settings or {}).get("notification_defaults") or {}
    return {group: list(chosen.get(group, DEFAULT_CHANNELS[group])) for group in GROUPS}


def preferences_of(user: User) -> dict[str, list[str]]:
    """The channels of each group for the person: their own choice, else the tenant's."""
    chosen = tenant_defaults(db.session.get(Tenant, user.tenant_id))
    for row in db.session.scalars(select(NotificationPreference).where(
            NotificationPreference.tenant_id == user.tenant_id,
            NotificationPreference.user_id == user.id)):
        if row.event_group in chosen:
            chosen[row.event_group] = [c for c in CHANNELS if c in row.channels]
    return chosen


def clean_channels(value: dict) -> dict[str, list[str]]:
    """``{group: [channel, ...]}`` with known groups and channels only, else ValidationError."""
    if not isinstance(value, dict):
        raise ValidationError({"_schema": [_("Give the channels of each group.")]})
    errors, clean = {}, {}
    for group, channels in value.items():
        if group not in GROUPS:
            errors[str(group)[:40]] = [_("Unknown group. Known: %(names)s.",
                                         names=", ".join(GROUPS))]
            continue
        if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
            errors[group] = [_("Choose channels among: %(names)s.", names=", ".join(CHANNELS))]
            continue
        clean[group] = [c for c in CHANNELS if c in channels]
    if errors:
        raise ValidationError(errors)
    return clean


def set_preferences(user: User, chosen: dict[str, list[str]]) -> None:
    """Keep the person's choice for each group given (the others keep theirs)."""
    rows = {row.event_group: row for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.tenant_id == user.tenant_id,
                                             NotificationPreference.user_id == user.id))}
    for group, channels in chosen.items():
        row = rows.get(group)
        if row is None:
            db.session.add(NotificationPreference(tenant_id=user.tenant_id, user_id=user.id,
                                                  event_group=group, channels=channels))
        else:
            row.channels = channels
    db.session.flush()


def set_tenant_defaults(tenant: Tenant, chosen: dict[str, list[str]]) -> None:
    settings = dict(tenant.settings or {})
    settings["notification_defaults"] = {**tenant_defaults(tenant), **chosen}
    tenant.settings = settings
    db.session.flush()


def clean_phone(value) -> str | None:
    """A phone number as stored: E.164 (+, country code, number; spaces, dots, dashes and
    parentheses typed with it are dropped); None for none; else ValidationError."""
    text = re.sub(r"[\s().-]", "", str(value or ""))
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if not E164.match(text):
        raise ValidationError(_("Write the number with its country code, such as "
                                "+57 300 123 4567."))
    return text


def set_phone(user: User, value) -> None:
    user.phone = clean_phone(value)
    db.session.flush()
