"""A database that cannot serve now (down, read-only, full, unreadable), recognised in one place.

``is_unavailable(error)`` says whether an exception means that; the pages and the API then
answer 503 (``pages.database_unavailable``) instead of a 500.

``install(engine)`` makes the errors a new connection may cure count as disconnects, so that
SQLAlchemy discards every pooled connection and the next request connects afresh: a SQLite
connection that opened its file read-only stays read-only after the file is writable again,
and a PostgreSQL session that began read-only (a standby, ``default_transaction_read_only``)
stays so. Without it, recovering would need a restart. Connections opened read-only after
the refusal (by pages that only read) are replaced too (``_renew_read_only_connections``).
It also makes the rollback of a session the server has ended succeed (a restart, a crash:
``_rollback_of_ended_sessions_succeeds``), so ending a request or a background pass never fails
on it.
"""

import os

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLite result codes, as sqlite3 names them on its exceptions (sqlite_errorname, extended
# codes too: SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED...). BUSY: still locked by another
# writer after the busy timeout.
SQLITE_UNAVAILABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL",
                      "SQLITE_BUSY")
SQLITE_RECONNECT = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR")
# PostgreSQL SQLSTATEs besides class 08 (connection exceptions): read-only transaction, the
# server shutting down or starting, out of disk, memory or connections, I/O error.
PG_UNAVAILABLE = {"25006", "57P01", "57P02", "57P03", "53000", "53100", "53200", "53300",
                  "58030"}
# The server ended the session: shut down by an operator (57P01), after a crash (57P02), or
# not accepting connections yet (57P03).
PG_SESSION_ENDED = {"57P01", "57P02", "57P03"}
PG_RECONNECT = {"25006", *PG_SESSION_ENDED}


def _codes(exc) -> tuple[str | None, str | None]:
    """(SQLite error name, PostgreSQL SQLSTATE) of a driver exception; None where unknown."""
    return (getattr(exc, "sqlite_errorname", None),
            getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None))


def is_unavailable(error: BaseException) -> bool:
    if isinstance(error, PoolTimeout):
        return True  # every connection of the pool busy for DB_POOL_TIMEOUT seconds
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlite_name, sqlstate = _codes(error.orig)
    if sqlite_name:
        return sqlite_name.startswith(SQLITE_UNAVAILABLE)
    if sqlstate:
        return sqlstate.startswith("08") or sqlstate in PG_UNAVAILABLE
    # No code at all: the driver failed before a server answered (refused, reset, timed out).
    return isinstance(error, OperationalError)


def _needs_new_connection(exc) -> bool:
    sqlite_name, sqlstate = _codes(exc)
    if sqlite_name:
        return sqlite_name.startswith(SQLITE_RECONNECT)
    return bool(sqlstate) and (sqlstate.startswith("08") or sqlstate in PG_RECONNECT)


def describe(error: BaseException) -> str:
    """One line for the log: the driver's class and the first line of its message."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [""]
    return f"{type(cause).__name__}: {lines[0][:300]}"


def install(engine) -> None:
    event.listen(engine, "handle_error", _discard_pool_on_refusal)
    _renew_read_only_connections(engine)
    _rollback_of_ended_sessions_succeeds(engine)


def _discard_pool_on_refusal(context) -> None:
    if not context.is_disconnect and _needs_new_connection(context.original_exception):
        context.is_disconnect = True


def _began_read_only(engine, dbapi_conn) -> bool:
    """Whether a connection just opened can only read: its SQLite file not writable (file
    permissions, a read-only mount, an immutable file), or its PostgreSQL session read-only
    by default or on a standby (both reported by the server at connect, PostgreSQL 14+)."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        return bool(path) and path != ":memory:" and not path.startswith("file:") \
            and not os.access(path, os.W_OK)
    status = getattr(getattr(dbapi_conn, "info", None), "parameter_status", None)
    return status is not None and "on" in (status("default_transaction_read_only"),
                                           status("in_hot_standby"))


def _renew_read_only_connections(engine) -> None:
    """A connection that began read-only stays so for good, and pages that only read keep
    opening such connections while the database refuses writes: each serves the one checkout
    it was opened for and is then replaced, so the first request after the database is
    writable again gets a connection that can write. While it is not, each request connects
    afresh (a degraded mode); otherwise it costs a dict look-up per checkout."""

    @event.listens_for(engine, "connect")
    def _note(dbapi_conn, record):
        record.info["read_only"] = _began_read_only(engine, dbapi_conn)
        record.info["fresh"] = True

    @event.listens_for(engine, "checkout")
    def _renew(_dbapi_conn, record, _proxy):
        fresh = record.info.pop("fresh", False)
        if record.info.get("read_only") and not fresh:
            raise DisconnectionError("the connection began read-only")


def _session_ended(exc, dbapi_conn) -> bool:
    """Whether a failed statement means the server has ended this connection's session: the
    driver knows the connection closed, or the server's last word was a connection exception
    (class 08) or a shutdown."""
    if getattr(dbapi_conn, "closed", False):  # psycopg: closed, or broken by the server
        return True
    _, sqlstate = _codes(exc)
    return bool(sqlstate) and (sqlstate.startswith("08") or sqlstate in PG_SESSION_ENDED)


def _rollback_of_ended_sessions_succeeds(engine) -> None:
    """A rollback on a connection whose session the server has ended (``pg_ctl stop``, a
    crash, a failover) has nothing left to undo: the server rolled the transaction back when
    it ended the session. SQLAlchemy raises all the same, wherever the rollback runs: at the
    end of a request (Flask-SQLAlchemy's teardown; gunicorn then answers a bare 500 for a
    request that had already committed and answered), of a background pass, of a Celery task.
    Here such a rollback succeeds, and the dead connection is dropped at its next checkout
    (``pool_pre_ping``). Any other failed rollback is raised as before."""
    rollback = engine.dialect.do_rollback

    def do_rollback(dbapi_conn):
        try:
            rollback(dbapi_conn)
        except Exception as exc:
            if not _session_ended(exc, dbapi_conn):
                raise

    engine.dialect.do_rollback = do_rollback
