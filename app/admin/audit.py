"""Recording administrative changes: one entry per change, in the change's own transaction.

``record`` only adds the row (the view commits with the change, so a change that rolls back
leaves no entry and an entry never describes a change that did not happen). ``snapshot``
takes the fields worth showing of an object, as JSON-ready values, for ``before``/``after``.
"""

from datetime import date, datetime
from decimal import Decimal

from app.admin.models import AuditEntry
from app.extensions import db

LABEL_CHARS = 254


def snapshot(obj, fields: tuple[str, ...]) -> dict:
    """``{field: value}`` of ``obj`` for an audit entry (dates as ISO text, decimals as text)."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def record(tenant_id: int, actor, action: str, target_type: str, target_id: int | None = None,
           *, target_label: str = "", before: dict | None = None, after: dict | None = None,
           actor_label: str | None = None) -> AuditEntry:
    """Add an audit entry: ``actor`` (a User, or None for a platform operator's command,
    named by ``actor_label``) did ``action`` (e.g. ``"user.deactivated"``) to a
    ``target_type`` row. Flushes nothing; the caller's commit writes it with the change."""
    entry = AuditEntry(
        tenant_id=tenant_id, actor_id=actor.id if actor is not None else None,
        actor_label=(actor_label if actor_label is not None
                     else (actor.email if actor is not None else "operator"))[:LABEL_CHARS],
        action=action, target_type=target_type, target_id=target_id,
        target_label=str(target_label or "")[:LABEL_CHARS],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None)
    db.session.add(entry)
    return entry
