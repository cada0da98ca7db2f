"""Request history and the admin audit are append-only: once committed, a row is never
changed or deleted by the app.

On PostgreSQL the database enforces it for the app's role (migration 0009: no DELETE or
TRUNCATE, and a trigger refusing any UPDATE of a committed row). Here the ORM enforces the same
on every database: a flush that changes or deletes such a row not written by the same
transaction, or an UPDATE/DELETE statement on their tables, is refused. A row may still be
completed by the transaction that wrote it (a step records its entry first, so what the diagram
does next follows it, and fills in the status it ended in).
"""

import weakref

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.admin.models import AuditEntry
from app.models.audit import HistoryEvent

APPEND_ONLY = (HistoryEvent, AuditEntry)
TABLES = frozenset(model.__tablename__ for model in APPEND_ONLY)
_FRESH = "mesa_fresh_append_only"


class AppendOnly(Exception):
    """A committed history or audit row was about to be changed or deleted."""


def _fresh(session: Session) -> weakref.WeakSet:
    return session.info.setdefault(_FRESH, weakref.WeakSet())


@event.listens_for(Session, "pending_to_persistent")
def _written(session: Session, obj) -> None:
    if isinstance(obj, APPEND_ONLY):
        _fresh(session).add(obj)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_FRESH, None)


@event.listens_for(Session, "before_flush")
def _no_rewrite(session: Session, _context, _instances) -> None:
    fresh = session.info.get(_FRESH, ())
    for obj in session.deleted:
        if isinstance(obj, APPEND_ONLY) and obj not in fresh:
            raise AppendOnly(f"{type(obj).__name__} {obj.id} cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, APPEND_ONLY) and obj not in fresh and session.is_modified(obj):
            raise AppendOnly(f"{type(obj).__name__} {obj.id} cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_rewrite(state) -> None:
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in TABLES:
            raise AppendOnly(f"{table.name} is append-only")
