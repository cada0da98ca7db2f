"""Reading the audit: a tenant's entries newest first, a page at a time (keyset by id), with
filters, and each entry's change as readable ``field: before -> after`` lines.

Entries are only ever read here; nothing updates or deletes one.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.admin.models import AuditEntry
from app.extensions import db

PAGE = 50
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object

    @property
    def added(self) -> list:
        """For a list (e.g. roles): what the after has that the before had not."""
        if isinstance(self.after, list):
            old = self.before if isinstance(self.before, list) else []
            return [v for v in self.after if v not in old]
        return []

    @property
    def removed(self) -> list:
        if isinstance(self.before, list):
            new = self.after if isinstance(self.after, list) else []
            return [v for v in self.before if v not in new]
        return []


def actions_of(tenant_id: int) -> list[str]:
    """The actions the tenant's audit holds (for the filter's list)."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().where(
        AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.action)))


def target_types_of(tenant_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.target_type).distinct().where(
        AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.target_type)))


def _zone(tz_name: str | None):
    try:
        return ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _start_of(day: date, tz_name: str | None, days_after: int = 0) -> datetime | None:
    """The instant (UTC) the day ``days_after`` days after ``day`` begins in the time zone;
    None past the ends of the calendar (0001-01-01 east of UTC, the day after 9999-12-31):
    no bound there, every entry is on that side of it."""
    try:
        return datetime.combine(day + timedelta(days=days_after), time.min,
                                tzinfo=_zone(tz_name)).astimezone(UTC)
    except OverflowError:
        return None


def entries(tenant_id: int, *, before: int | None = None, action: str | None = None,
            actor_id: int | None = None, target_type: str | None = None,
            target_id: int | None = None, since: date | None = None,
            until: date | None = None, tz_name: str | None = None,
            limit: int = PAGE) -> tuple[list[AuditEntry], int | None]:
    """(up to ``limit`` entries newest first, the ``before`` of the next page or None).
    ``since``/``until`` are days in the tenant's time zone, both included."""
    stmt = (select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.id.desc()).limit(limit + 1))
    if before is not None and 0 < before <= MAX_ID:
        stmt = stmt.where(AuditEntry.id < before)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    start = _start_of(since, tz_name) if since is not None else None
    end = _start_of(until, tz_name, days_after=1) if until is not None else None
    if start is not None:
        stmt = stmt.where(AuditEntry.created_at >= start)
    if end is not None:
        stmt = stmt.where(AuditEntry.created_at < end)
    rows = list(db.session.scalars(stmt).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def actors_of(tenant_id: int) -> list[tuple[int, str]]:
    """(actor id, label) of the people who appear in the tenant's audit, for the filter."""
    rows = db.session.execute(
        select(AuditEntry.actor_id, func.max(AuditEntry.actor_label))
        .where(AuditEntry.tenant_id == tenant_id, AuditEntry.actor_id.is_not(None))
        .group_by(AuditEntry.actor_id).order_by(func.max(AuditEntry.actor_label)))
    return [(actor_id, label) for actor_id, label in rows]


def changes(entry: AuditEntry) -> list[Change]:
    """The fields the entry's before and after differ in (or hold, for a creation or a
    deletion), in a stable order."""
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [Change("", before, after)]
    found = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old in (None, "", []) and new in (None, "", []):
            continue  # nothing on either side (a creation's empty fields)
        if old != new or not (entry.before and entry.after):
            found.append(Change(key, old, new))
    return found


def shown(value) -> str:
    """A value as the page shows it: lists joined by commas, nothing as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown(v)}" for k, v in value.items())
    return str(value)
