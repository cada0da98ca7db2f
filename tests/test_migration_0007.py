"""Migration 0007 (one outbox) on a database with data: webhook deliveries become outbox rows
with the same ids, statuses and keys; the old outbox's reminders become in-app notices of
their heads; down to 0006 and back up, nothing is lost.

Each test migrates a database of its own: a SQLite file, and on PostgreSQL (when
TEST_DATABASE_URL names one) a scratch database created and dropped on that server."""

import os
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db

BEFORE = "0006_user_sessions"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_tables():
    """These tests bring their own database: the suite's shared one is not touched."""
    yield


def after() -> str:
    """The revision that follows 0006 (0007, whatever its id)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    (revision,) = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()
                   if r.down_revision == BEFORE]
    return revision


def _backends():
    url = os.environ.get("TEST_DATABASE_URL", "")
    return ["sqlite", *(["postgresql"] if url.startswith("postgresql") else [])]


@pytest.fixture(params=_backends())
def migrating(request, tmp_path):
    """An app on an empty database of its own, inside its app context."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path}/migrate.db", None
    else:
        server = sa.make_url(os.environ["TEST_DATABASE_URL"])
        name = f"mesa_migrate_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                              "SECRET_KEY": "test-secret", "EMBEDDED_TIMERS": False})
    with application.app_context():
        upgrade(revision=BEFORE)
        yield application
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


# -- the tables as each revision has them (not the models, which follow the head) -------------

def _table(table_name, /, **columns):
    return sa.table(table_name, *(sa.column(n, t) for n, t in columns.items()))


WHEN = sa.DateTime(timezone=True)
TENANTS = _table("tenants", id=sa.Integer, slug=sa.String, name=sa.String, locale=sa.String,
                 timezone=sa.String, settings=sa.JSON, created_at=WHEN)
UNITS = _table("units", id=sa.Integer, tenant_id=sa.Integer, name=sa.String,
               parent_id=sa.Integer, is_service_unit=sa.Boolean)
USERS = _table("users", id=sa.Integer, tenant_id=sa.Integer, email=sa.String, name=sa.String,
               password_hash=sa.String, locale=sa.String, active=sa.Boolean, created_at=WHEN)
CATEGORIES = _table("categories", id=sa.Integer, tenant_id=sa.Integer, name=sa.String,
                    description=sa.Text, service_unit_id=sa.Integer,
                    default_priority=sa.String, process_key=sa.String, active=sa.Boolean)
REQUESTS = _table("service_requests", id=sa.Integer, tenant_id=sa.Integer, number=sa.String,
                  title=sa.String, description=sa.Text, category_id=sa.Integer,
                  priority=sa.String, location=sa.String, requester_id=sa.Integer,
                  unit_id=sa.Integer, service_unit_id=sa.Integer, status=sa.String,
                  created_at=WHEN, updated_at=WHEN)
ENDPOINTS = _table("webhook_endpoints", id=sa.Integer, tenant_id=sa.Integer, url=sa.String,
                   secret=sa.String, events=sa.JSON, active=sa.Boolean,
                   description=sa.String, created_at=WHEN)
DELIVERY_COLUMNS = dict(
    id=sa.Integer, tenant_id=sa.Integer, endpoint_id=sa.Integer, event=sa.String,
    idempotency_key=sa.String, payload=sa.JSON, status=sa.String, attempts=sa.Integer,
    next_attempt_at=WHEN, last_attempt_at=WHEN, response_status=sa.Integer,
    last_error=sa.Text, created_at=WHEN, delivered_at=WHEN)
DELIVERIES = _table("webhook_deliveries", **DELIVERY_COLUMNS)
OLD_OUTBOX = _table("outbox_messages", id=sa.Integer, tenant_id=sa.Integer, kind=sa.String,
                    recipient_id=sa.Integer, request_id=sa.Integer, payload=sa.JSON,
                    idempotency_key=sa.String, attempts=sa.Integer, created_at=WHEN,
                    sent_at=WHEN)
OUTBOX = _table("outbox", channel=sa.String, notification_id=sa.Integer, address=sa.String,
                reference=sa.String, **DELIVERY_COLUMNS)
NOTIFICATIONS = _table("notifications", id=sa.Integer, tenant_id=sa.Integer,
                       user_id=sa.Integer, event=sa.String, request_id=sa.Integer,
                       task_id=sa.Integer, params=sa.JSON, key=sa.String, inapp=sa.Boolean,
                       created_at=WHEN, read_at=WHEN)

OLD_DELIVERIES = [
    {"id": 11, "tenant_id": 1, "endpoint_id": 7, "event": "request.filed",
     "idempotency_key": "a" * 64, "payload": {"event": "request.filed", "data": {"id": 1}},
     "status": "delivered", "attempts": 1, "next_attempt_at": T0, "last_attempt_at": T0,
     "response_status": 200, "last_error": None, "created_at": T0, "delivered_at": T0},
    {"id": 12, "tenant_id": 1, "endpoint_id": 7, "event": "request.authorized",
     "idempotency_key": "b" * 64, "payload": {"event": "request.authorized"},
     "status": "pending", "attempts": 2, "next_attempt_at": T1, "last_attempt_at": T0,
     "response_status": 503, "last_error": "HTTP 503", "created_at": T0, "delivered_at": None},
    {"id": 13, "tenant_id": 1, "endpoint_id": 7, "event": "ticket.assigned",
     "idempotency_key": "c" * 64, "payload": {"event": "ticket.assigned"},
     "status": "failed", "attempts": 8, "next_attempt_at": T1, "last_attempt_at": T1,
     "response_status": 404, "last_error": "HTTP 404", "created_at": T0,
     "delivered_at": None},
]
REMINDER_KEY = "reminder:1:Task_Authorize:0:2"
OLD_REMINDER = {"id": 5, "tenant_id": 1, "kind": "reminder", "recipient_id": 2,
                "request_id": 1,
                "payload": {"step": "Task_Authorize", "number": "SOL-2026-000001",
                            "title": "Cambiar bombillo"},
                "idempotency_key": REMINDER_KEY, "attempts": 0, "created_at": T0,
                "sent_at": None}


def seed_0006() -> None:
    """A tenant with a requester, a head, a request, a webhook endpoint with three deliveries
    and one reminder in the old outbox, written as revision 0006 has its tables."""
    with db.engine.begin() as conn:
        conn.execute(sa.insert(TENANTS), [{"id": 1, "slug": "acme", "name": "Acme",
                                           "locale": "es", "timezone": "America/Bogota",
                                           "settings": {}, "created_at": T0}])
        conn.execute(sa.insert(UNITS), [
            {"id": 1, "tenant_id": 1, "name": "Finanzas", "parent_id": None,
             "is_service_unit": False},
            {"id": 2, "tenant_id": 1, "name": "Servicios", "parent_id": None,
             "is_service_unit": True}])
        conn.execute(sa.insert(USERS), [
            {"id": n, "tenant_id": 1, "email": email, "name": email, "password_hash": "x",
             "locale": None, "active": True, "created_at": T0}
            for n, email in ((1, "ana@acme.test"), (2, "jefe.finanzas@acme.test"))])
        conn.execute(sa.insert(CATEGORIES), [{
            "id": 1, "tenant_id": 1, "name": "Electricidad", "description": "",
            "service_unit_id": 2, "default_priority": "normal",
            "process_key": "service_request", "active": True}])
        conn.execute(sa.insert(REQUESTS), [{
            "id": 1, "tenant_id": 1, "number": "SOL-2026-000001", "title": "Cambiar bombillo",
            "description": "", "category_id": 1, "priority": "normal", "location": "",
            "requester_id": 1, "unit_id": 1, "service_unit_id": 2,
            "status": "pending_authorization", "created_at": T0, "updated_at": T0}])
        conn.execute(sa.insert(ENDPOINTS), [{
            "id": 7, "tenant_id": 1, "url": "https://hooks.example/mesa", "secret": "s" * 32,
            "events": ["request.filed"], "active": True, "description": "ERP",
            "created_at": T0}])
        conn.execute(sa.insert(DELIVERIES), OLD_DELIVERIES)
        conn.execute(sa.insert(OLD_OUTBOX), [OLD_REMINDER])


def rows(table, *where, order=None) -> list[dict]:
    with db.engine.connect() as conn:
        query = sa.select(table).where(*where).order_by(order if order is not None
                                                        else table.c.id)
        return [dict(row._mapping) for row in conn.execute(query)]


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def webhook_rows() -> list[dict]:
    """The outbox's webhook rows, in the old table's columns."""
    return [{k: row[k] for k in DELIVERY_COLUMNS}
            for row in rows(OUTBOX, OUTBOX.c.channel == "webhook")]


def check_upgraded(old_deliveries: list[dict]) -> dict:
    """The state right after an upgrade to 0007; returns the reminder's notice."""
    assert {"webhook_deliveries", "outbox_messages"}.isdisjoint(tables())
    assert webhook_rows() == old_deliveries
    for row in rows(OUTBOX):
        assert (row["channel"], row["notification_id"], row["address"]) == (
            "webhook", None, None)
    (notice,) = rows(NOTIFICATIONS)
    assert {k: notice[k] for k in ("tenant_id", "user_id", "event", "request_id", "key",
                                   "inapp", "read_at")} == {
        "tenant_id": 1, "user_id": 2, "event": "task.reminder", "request_id": 1,
        "key": REMINDER_KEY, "inapp": True, "read_at": None}
    return notice


def test_deliveries_and_reminders_move_into_the_one_outbox(migrating):
    seed_0006()
    old_deliveries = rows(DELIVERIES)
    assert [d["id"] for d in old_deliveries] == [11, 12, 13]
    upgrade(revision=after())
    check_upgraded(old_deliveries)
    # The ids were copied: a new row gets the next one, not one already taken.
    with db.engine.begin() as conn:
        conn.execute(sa.insert(OUTBOX), [{
            "tenant_id": 1, "channel": "webhook", "endpoint_id": 7, "event": "request.closed",
            "idempotency_key": "d" * 64, "payload": {}, "status": "pending", "attempts": 0,
            "next_attempt_at": T1, "created_at": T1}])
    assert [r["id"] for r in rows(OUTBOX)] == [11, 12, 13, 14]


def round_trip() -> None:
    """Up to 0007, down to 0006 and up again: each time, every row is where it belongs."""
    seed_0006()
    old_deliveries = rows(DELIVERIES)
    upgrade(revision=after())
    downgrade(revision=BEFORE)
    assert {"outbox", "notifications", "notification_preferences",
            "notification_templates"}.isdisjoint(tables())
    assert "phone" not in {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
    assert rows(DELIVERIES) == old_deliveries
    (reminder,) = rows(OLD_OUTBOX)
    kept = ("tenant_id", "kind", "recipient_id", "request_id", "payload", "idempotency_key",
            "attempts", "sent_at")
    assert {k: reminder[k] for k in kept} == {k: OLD_REMINDER[k] for k in kept}
    upgrade(revision=after())
    check_upgraded(old_deliveries)


def test_down_to_0006_and_up_again_loses_nothing(migrating):
    round_trip()


def test_a_migrated_reminder_reads_like_one_written_today(migrating):
    seed_0006()
    upgrade(revision="head")  # the models of today read it
    from app.models import Notification, Tenant, User
    from app.notifications import service
    from app.notifications.compose import titles

    (notice,) = db.session.scalars(sa.select(Notification)).all()
    head = db.session.get(User, 2)
    (title,) = titles([notice], head, db.session.get(Tenant, 1)).values()
    assert title == "Recordatorio: SOL-2026-000001 espera su autorización"
    assert service.safe_path(notice) == "/requests/1"
