"""Fixtures: one app per session on SQLite (default) or PostgreSQL (TEST_DATABASE_URL),
a schema built by the Alembic migrations, every test starting from empty tables."""

import contextlib
import fcntl
import os
import re
import tempfile

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.models import User

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _database_url(tmpdir: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmpdir}/test.db"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if worker else url


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database beside the given one
    (``mesa_test_gw0``...), created on first use: the tests truncate every table after each
    test, so two workers cannot share one."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def _one_migration_at_a_time():
    """The first migration creates a cluster-wide role (mesa_app) if it is missing: two
    xdist workers migrating their databases at once could both try, so they take turns."""
    with open(os.path.join(tempfile.gettempdir(), "mesa-test-migrate.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def app():
    tmpdir = tempfile.mkdtemp(prefix="mesa-test-")
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _database_url(tmpdir),
        "SECRET_KEY": "test-secret",
        "EMBEDDED_TIMERS": False,
        "LOGIN_MAX_ATTEMPTS": 5,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,  # the test receivers listen on loopback
        # argon2id at a cost tests can afford (production: 64 MiB, 3 passes)
        "PASSWORD_HASH_MEMORY_KIB": 256, "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_PARALLELISM": 1, "PASSWORD_RESET_MIN_SECONDS": 0.05,
    })
    with application.app_context():
        from flask_migrate import downgrade, upgrade

        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            with _one_migration_at_a_time():
                upgrade()
        else:
            upgrade()
        yield application
        db.session.remove()
        downgrade(revision="base")


@pytest.fixture(autouse=True)
def clean_tables(app):
    yield
    db.session.rollback()
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a few rows go in microseconds, while TRUNCATE gives each of
            # the 40-odd tables new files (~100 ms a test); foreign keys are not checked (every
            # row goes) and the sequences restart as TRUNCATE ... RESTART IDENTITY would
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in tables))
            conn.exec_driver_sql(
                "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), 1, "
                "false) FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL")
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    # What this process remembers of failed SLA signals is about rows that are now gone
    from app.sla import signals

    signals.forget_failures()


@pytest.fixture
def demo(app):
    """The demo tenants; ``demo.user(email)`` fetches a person."""
    from app.demo import seed
    from tests.demo_snapshot import SNAPSHOT

    SNAPSHOT.load(seed)

    class Demo:
        @staticmethod
        def user(email: str) -> User:
            return db.session.query(User).filter_by(email=email).one()

    return Demo()


class Browser:
    """A test client that logs in through the form and sends the CSRF token like a browser."""

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.token = None

    def _refresh_token(self, html: str) -> None:
        match = CSRF_RE.search(html)
        if match:
            self.token = match.group(1)

    def get(self, url, **kwargs):
        # A fresh app context per request, as in production: its own g and database session.
        with self.app.app_context():
            response = self.client.get(url, **kwargs)
        self._refresh_token(response.get_data(as_text=True))
        return response

    def post(self, url, data=None, **kwargs):
        if self.token is None:
            self.get("/login")
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.token)
        with self.app.app_context():
            return self.client.post(url, data=payload, **kwargs)

    def login(self, email, password="demo1234"):
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.get("/inbox")
        return self


@pytest.fixture
def browser(app):
    def make(email=None):
        b = Browser(app, app.test_client())
        return b.login(email) if email else b

    return make
