"""Tenant isolation by construction: every query of a tenant's data sees that tenant's rows
only, whether or not the code that wrote it remembered its ``tenant_id``.

The scope of the work at hand is one of:

- a tenant's id: a person's page or API call once they are known, a background item;
- ``NOBODY``: a web request before anyone is known (login, a public page): no tenant's rows;
- ``PLATFORM``: work that is about every tenant on purpose (finding due timers and messages,
  looking up the person a session cookie or a token belongs to, operators' commands, tests and
  the shell); it must be asked for (``platform()``), except outside web requests where it is
  the default (a command line has no tenant).

How the scope is enforced:

- **PostgreSQL**: each transaction of the app's session starts with one statement that
  switches to the role ``DATABASE_APP_ROLE`` (default ``mesa_app``), which owns no table, and
  sets ``mesa.tenant`` / ``mesa.platform`` for the transaction (``set_config(..., true)``,
  i.e. ``SET LOCAL``). Row-level security policies on every tenant table (migration
  ``0009_tenant_isolation``, ``FORCE ROW LEVEL SECURITY``) admit a row only when its
  ``tenant_id`` is the transaction's tenant, or in platform scope: forgetting a clause, a raw
  SQL string, a lazy load, an UPDATE or DELETE: none reach another tenant's rows. A scope
  changed inside a transaction is set again before the next statement.
- **SQLite**: every ORM statement of the session
  (SELECT, UPDATE, DELETE, lazy loads and relationship loads included) gets the criterion
  ``tenant_id = <scope>`` on every tenant-scoped entity it touches (``with_loader_criteria``),
  and ``tenants.id = <scope>``. SQL written as text or on bare ``Table`` objects is not
  filtered there: write queries with the models.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, g, has_app_context
from sqlalchemy import event, func, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, with_loader_criteria

from app.models import Tenant
from app.models.base import TenantScoped

PLATFORM = "platform"
OWNER = "owner"  # platform work as the tables' owner: deleting a whole tenant, history included
NOBODY = 0  # no tenant has id 0: in SQL, "tenant_id = 0" matches nothing

_scope: ContextVar = ContextVar("mesa_tenant_scope", default=PLATFORM)
_SYNCED = "mesa_scope_synced"  # the scope the session's transaction was told, in session.info
_DIALECT = "mesa_on_postgresql"
_SET = text("SELECT set_config('role', :role, true), set_config('mesa.tenant', :tenant, true), "
            "set_config('mesa.platform', :platform, true)")


def current():
    """The scope of the work at hand: a tenant id, ``NOBODY`` or ``PLATFORM``."""
    return _scope.get()


@contextmanager
def tenant(tenant_id: int) -> Iterator[None]:
    """Work of one tenant (a background item): only its rows are seen inside."""
    token = _scope.set(int(tenant_id))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def platform() -> Iterator[None]:
    """Work about every tenant on purpose: say why where you use it."""
    token = _scope.set(PLATFORM)
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def owner() -> Iterator[None]:
    """An operator's work that must change what the app may not (deleting a tenant with its
    history): every tenant's rows, as the URL's user (the tables' owner) on PostgreSQL. Only
    for operators' commands, never for a person's request."""
    token = _scope.set(OWNER)
    try:
        yield
    finally:
        _scope.reset(token)


def configure(connection, scope) -> None:
    """A connection taken straight from the engine (a short write of its own) runs in
    ``scope`` (a tenant id, ``PLATFORM`` or ``OWNER``) like the session's transactions: as the
    app's role, or as the tables' owner for ``OWNER`` (whom FORCE ROW LEVEL SECURITY binds too,
    unless a superuser)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_SET, _values(scope if scope in (PLATFORM, OWNER) else int(scope)))


def enter(tenant_id: int) -> None:
    """From here to the end of the web request, the work is ``tenant_id``'s (the person or
    token was authenticated)."""
    _scope.set(int(tenant_id))


def init_app(app) -> None:
    """Web requests start with no tenant and end restoring the scope they found."""

    @app.before_request
    def _nobody_yet():
        g.mesa_scope_token = _scope.set(NOBODY)
        g.pop("api_user", None)  # an app context shared with an earlier request (tests) forgets it

    @app.teardown_request
    def _restore(_exc=None):
        token = g.pop("mesa_scope_token", None)
        if token is not None:
            _scope.reset(token)


# -- enforcement --------------------------------------------------------------------------------

def _on_postgresql(session: Session) -> bool:
    """Asked at every statement: remembered by the session (finding its bind is not free)."""
    found = session.info.get(_DIALECT)
    if found is None:
        found = session.info[_DIALECT] = session.get_bind().dialect.name == "postgresql"
    return found


def _values(scope) -> dict:
    role = (current_app.config.get("DATABASE_APP_ROLE") if has_app_context() else None) or ""
    if scope == OWNER:
        return {"role": "none", "tenant": "", "platform": "on"}
    if scope == PLATFORM:
        return {"role": role or "none", "tenant": "", "platform": "on"}
    return {"role": role or "none", "tenant": str(int(scope)), "platform": ""}


@event.listens_for(Session, "after_begin")
def _begin(session: Session, _transaction, connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    scope = _scope.get()
    connection.execute(_SET, _values(scope))
    session.info[_SYNCED] = scope


def _resync(session: Session) -> None:
    """The scope changed inside a transaction (a person authenticated, a platform block
    ended): tell the transaction before its next statement."""
    scope = _scope.get()
    if session.info.get(_SYNCED, scope) == scope or not session.in_transaction():
        return
    session.connection().execute(_SET, _values(scope))
    session.info[_SYNCED] = scope


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SYNCED, None)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context, _instances) -> None:
    _resync(session)


@event.listens_for(Session, "do_orm_execute")
def _scoped(state) -> None:
    session = state.session
    if _on_postgresql(session):
        _resync(session)
        return
    scope = _scope.get()
    if scope in (PLATFORM, OWNER) or not (state.is_select or state.is_update
                                           or state.is_delete):
        return
    state.statement = state.statement.options(*_CRITERIA)


# The filter reads the scope through an SQL function, as the policies read ``mesa.tenant``: the
# options are then the same for every tenant, built once, and every statement's cached SQL
# serves every tenant (a lambda closing over the tenant's id made SQLAlchemy track it at each
# statement: twice the cost). Rows loaded with the filter keep it for their lazy loads, even
# when those run later in platform scope: there ``mesa_tenant()`` is NULL and the criterion
# admits every row.
def _own(column):
    return column == func.coalesce(func.mesa_tenant(), column)


_CRITERIA = (
    with_loader_criteria(TenantScoped, lambda cls: _own(cls.tenant_id), include_aliases=True),
    with_loader_criteria(Tenant, lambda cls: _own(cls.id), include_aliases=True),
)


def _sqlite_tenant() -> int | None:
    scope = _scope.get()
    return None if scope in (PLATFORM, OWNER) else int(scope)


@event.listens_for(Engine, "connect")
def _register_function(dbapi_connection, _record) -> None:
    """SQLite connections answer ``mesa_tenant()`` with the scope of the work at hand. Not
    declared deterministic: a prepared statement is reused for the next tenant."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("mesa_tenant", 0, _sqlite_tenant)


class OtherTenantsRow(Exception):
    """Code tried to write a row of another tenant than the one of the work at hand."""


@event.listens_for(Session, "before_flush")
def _own_rows_only(session: Session, _context, _instances) -> None:
    """SQLite's counterpart of the policies' WITH CHECK: a tenant's work writes only rows of
    that tenant (PostgreSQL refuses them itself)."""
    scope = _scope.get()
    if scope in (PLATFORM, OWNER) or _on_postgresql(session):
        return
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, TenantScoped) and obj.tenant_id not in (None, scope):
            raise OtherTenantsRow(f"{type(obj).__name__} of tenant {obj.tenant_id} written "
                                  f"in the work of tenant {scope}")
