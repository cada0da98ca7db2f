"""SQLite as the embedded default: WAL, a busy timeout, and a write lock taken up front.

A SQLite transaction that reads and then writes can fail with "database is locked" when another
writer got in between. Units of work that write (form posts, the timer runner, CLI commands)
therefore start with BEGIN IMMEDIATE, which waits its turn; pages that only read start a plain
deferred transaction and never block writers (WAL).
"""

import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event

_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@contextmanager
def writing():
    """Mark the transactions started inside as writers (BEGIN IMMEDIATE on SQLite)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def wants_write() -> bool:
    """Whether the current unit of work writes (a form post, a runner, a CLI command)."""
    if _write_intent.get():
        return True
    return has_request_context() and request.method not in READ_METHODS


def _unaccent(text):
    """The text without its accents ("Tomás" -> "Tomas"), as PostgreSQL's unaccent."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def configure(engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # PostgreSQL's mesa_unaccent (migration 0017), for searches that ignore accents
        dbapi_conn.create_function("mesa_unaccent", 1, _unaccent, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if wants_write() else "BEGIN")
