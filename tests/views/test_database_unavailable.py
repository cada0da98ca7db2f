"""A database that refuses writes or cannot be reached: a 503 page (problem+json under /api/)
with Retry-After, one warning in the log and no traceback, nothing changed; and the next
request after it is writable again works, without a restart.

The refusals here are real ones, not mocks: an SQLite file the process cannot open for
writing, a PostgreSQL database whose sessions begin read-only, a server that is not there.
"""

import logging
import os
import re
import subprocess
import tempfile

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from app import create_app, db_unavailable
from app.extensions import db
from app.models import HistoryEvent, ServiceRequest

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
MESSAGE = "En este momento el servicio no puede usar su base de datos"  # es: the default language
PROBLEM = "application/problem+json"


class Person:
    """A browser for an app made by a test (the shared fixtures belong to the session app)."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.token = None

    def get(self, url, **kwargs):
        with self.app.app_context():
            response = self.client.get(url, **kwargs)
        found = CSRF_RE.search(response.get_data(as_text=True))
        self.token = found.group(1) if found else self.token
        return response

    def post(self, url, data):
        with self.app.app_context():
            return self.client.post(url, data={**data, "csrf_token": self.token})

    def login(self, email):
        self.get("/login")
        assert self.post("/login", {"email": email, "password": "demo1234"}).status_code == 302
        return self


def api_token(app, email):
    with app.app_context():
        response = app.test_client().post("/api/v1/tokens",
                                          json={"email": email, "password": "demo1234"})
    assert response.status_code == 201
    return response.json["token"]


def api_post(app, url, token, body):
    with app.app_context():
        return app.test_client().post(url, json=body,
                                      headers={"Authorization": f"Bearer {token}"})


def comments_of(req_id) -> list[str]:
    db.session.rollback()  # a new snapshot, as a new request would see
    return db.session.scalars(select(HistoryEvent.comment).where(
        HistoryEvent.request_id == req_id, HistoryEvent.action == "commented")).all()


def ana_request_id() -> int:
    db.session.rollback()
    return db.session.scalar(select(ServiceRequest.id).where(
        ServiceRequest.title.like("Cambiar l%mpara%")))


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = response.get_data(as_text=True)
    assert MESSAGE in body and "Traceback" not in body and "OperationalError" not in body


def assert_unavailable_problem(response):
    assert response.status_code == 503 and response.mimetype == PROBLEM
    assert response.headers["Retry-After"].isdigit()
    assert response.json["status"] == 503 and "nothing was changed" in response.json["detail"]


class Records(logging.Handler):
    """What the app logs, from ``start()`` on. A handler of its own on the app's logger, not
    pytest's caplog: a test's migrations run Alembic's logging setup (fileConfig), which
    replaces the root handlers caplog listens on and disables the loggers that existed."""

    def __init__(self, logger):
        super().__init__(logging.DEBUG)
        self.logger = logger
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def start(self):
        self.logger.disabled = False
        self.records.clear()

    def assert_one_warning(self):
        """Logged once, as a warning: no traceback, nothing at error level."""
        found = [r for r in self.records if "database unavailable" in r.getMessage()]
        assert len(found) == 1, [r.getMessage() for r in self.records]
        assert found[0].levelno == logging.WARNING and found[0].exc_info is None
        assert not [r for r in self.records if r.levelno >= logging.ERROR]
        self.records.clear()


@pytest.fixture
def logged(app):
    records = Records(app.logger)  # every app's logger is the same one ("app")
    app.logger.addHandler(records)
    yield records
    app.logger.removeHandler(records)


@pytest.fixture
def own_app():
    """An app of the test's own on a database URL of its choosing; its context is left
    before the shared fixtures clean up."""
    made = []

    def make(url, migrate=False):
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                          "SECRET_KEY": "test-secret", "EMBEDDED_TIMERS": False,
                          "PROPAGATE_EXCEPTIONS": False})  # a 500 would show as a 500
        context = app.app_context()
        context.push()
        made.append(context)
        if migrate:
            from flask_migrate import upgrade

            from app.demo import seed

            upgrade()
            seed()
            db.session.commit()
        return app

    yield make
    for context in reversed(made):
        db.session.remove()
        db.engine.dispose()
        context.pop()


# --- SQLite: a file the process cannot write -------------------------------------------------

def refuse_writes(path: str):
    """Make ``path`` refuse writes for this process, for real, and return the undo.

    chmod 0444 is enough for an ordinary user, but the tests often run as root, whom file
    permissions do not stop. An immutable file (chattr +i) stops root too: opening it for
    writing fails with EPERM, so SQLite opens it read-only and refuses every write with
    "attempt to write a readonly database", as it would on a read-only mount."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return lambda: os.chmod(path, 0o644)
    done = subprocess.run(["chattr", "+i", path], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {done.stderr.strip()}")
    return lambda: subprocess.run(["chattr", "-i", path], check=True)


def test_a_read_only_sqlite_file_is_a_503_and_the_app_recovers(own_app, logged):
    folder = tempfile.mkdtemp(prefix="mesa-readonly-")
    path = os.path.join(folder, "mesa.db")
    app = own_app(f"sqlite:///{path}", migrate=True)
    ana = Person(app).login("ana@acme.test")
    token = api_token(app, "ana@acme.test")
    req_id = ana_request_id()
    comment_url = f"/requests/{req_id}/comments"
    ana.get(f"/requests/{req_id}")
    before = comments_of(req_id)
    db.session.remove()

    undo = refuse_writes(path)
    try:
        with pytest.raises(PermissionError):
            open(path, "r+b").close()
        # Connections opened before keep the access they were opened with (as any open file
        # does): the app meets the read-only file on its next connections, as after a restart.
        db.engine.dispose()
        logged.start()
        response = ana.post(comment_url, {"comment": "con la base de solo lectura"})
        assert_unavailable_page(response)
        logged.assert_one_warning()
        assert ana.get(f"/requests/{req_id}").status_code == 200  # reading still works
        assert ana.get("/inbox").status_code == 200
        response = api_post(app, f"/api/v1/requests/{req_id}/comments", token,
                            {"comment": "por la API"})
        assert_unavailable_problem(response)
        assert comments_of(req_id) == before
        db.session.remove()
    finally:
        undo()

    # writable again: the very next request works, the same app, no restart
    response = ana.post(comment_url, {"comment": "de nuevo con escritura"})
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    response = api_post(app, f"/api/v1/requests/{req_id}/comments", token, {"comment": "API"})
    assert response.status_code == 201
    assert comments_of(req_id) == [*before, "de nuevo con escritura", "API"]


def test_a_sqlite_database_that_cannot_be_opened_is_a_503(own_app, logged):
    app = own_app(f"sqlite:///{tempfile.mkdtemp()}/missing-folder/mesa.db")
    person = Person(app)
    assert person.get("/login").status_code == 200  # the form needs no database
    logged.start()
    response = person.post("/login", {"email": "ana@acme.test", "password": "demo1234"})
    assert_unavailable_page(response)
    logged.assert_one_warning()
    with app.app_context():
        response = app.test_client().post("/api/v1/tokens", json={
            "email": "ana@acme.test", "password": "demo1234"})
    assert_unavailable_problem(response)


# --- PostgreSQL ------------------------------------------------------------------------------

def test_a_postgresql_server_that_is_down_is_a_503(own_app, logged):
    """Nothing listens on port 1: the connection is refused at once."""
    app = own_app("postgresql+psycopg://mesa@127.0.0.1:1/mesa")
    person = Person(app)
    person.get("/login")
    logged.start()
    response = person.post("/login", {"email": "ana@acme.test", "password": "demo1234"})
    assert_unavailable_page(response)
    logged.assert_one_warning()
    # someone already logged in: their user cannot be loaded; the page still draws, and their
    # session is kept for when the database is back
    with app.app_context(), person.client.session_transaction() as session:
        session["_user_id"] = "1"
        session["_sid"] = "x" * 43  # a server-side session id (services.sessions) to look up
        session["_fresh"] = True
    response = person.get("/inbox")
    assert_unavailable_page(response)
    with app.app_context(), person.client.session_transaction() as session:
        assert session["_user_id"] == "1"
    with app.app_context():
        client = app.test_client()
        assert_unavailable_problem(client.post("/api/v1/tokens", json={
            "email": "ana@acme.test", "password": "demo1234"}))
        assert_unavailable_problem(client.get("/api/v1/me", headers={
            "Authorization": "Bearer mds_" + "x" * 43}))


def test_a_read_only_postgresql_database_is_a_503_and_the_app_recovers(app, demo, browser,
                                                                      logged):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (TEST_DATABASE_URL)")
    ana = browser("ana@acme.test")
    req_id = ana_request_id()
    url = f"/requests/{req_id}/comments"
    before = comments_of(req_id)
    # statements of an administrator, on a connection outside the app's pool
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    name = db.engine.url.database

    def as_admin(*statements):
        with admin.connect() as conn:
            conn.execute(text("SET default_transaction_read_only = off"))
            for statement in statements:
                conn.execute(text(statement))

    db.session.remove()
    as_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    try:
        db.engine.dispose()  # sessions take the database's default when they begin
        logged.start()
        response = ana.post(url, {"comment": "con la base de solo lectura"})
        assert_unavailable_page(response)
        logged.assert_one_warning()
        assert ana.get(f"/requests/{req_id}").status_code == 200  # reading still works
        assert comments_of(req_id) == before
        db.session.remove()
    finally:
        as_admin(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        admin.dispose()
    response = ana.post(url, {"comment": "de nuevo con escritura"})
    assert response.status_code == 302
    assert comments_of(req_id) == [*before, "de nuevo con escritura"]


# --- what counts as unavailable ---------------------------------------------------------------

class FakeDriverError(Exception):
    def __init__(self, message, sqlite_errorname=None, sqlstate=None):
        super().__init__(message)
        self.sqlite_errorname = sqlite_errorname
        self.sqlstate = sqlstate


@pytest.mark.parametrize("name,expected", [
    ("SQLITE_READONLY", True), ("SQLITE_READONLY_DBMOVED", True), ("SQLITE_CANTOPEN", True),
    ("SQLITE_IOERR_WRITE", True), ("SQLITE_FULL", True), ("SQLITE_BUSY", True),
    ("SQLITE_ERROR", False), ("SQLITE_CONSTRAINT_UNIQUE", False), ("SQLITE_CORRUPT", False),
])
def test_which_sqlite_errors_are_unavailability(name, expected):
    error = OperationalError("INSERT ...", {}, FakeDriverError("x", sqlite_errorname=name))
    assert db_unavailable.is_unavailable(error) is expected


@pytest.mark.parametrize("state,expected", [
    ("08006", True), ("08001", True), ("25006", True), ("57P01", True), ("57P03", True),
    ("53100", True), ("53300", True), ("42P01", False), ("23505", False), ("22021", False),
    ("40001", False), (None, True),  # no code: the driver failed before a server answered
])
def test_which_postgresql_errors_are_unavailability(state, expected):
    error = OperationalError("SELECT 1", {}, FakeDriverError("x", sqlstate=state))
    assert db_unavailable.is_unavailable(error) is expected


def test_other_database_errors_stay_errors():
    error = IntegrityError("INSERT ...", {}, FakeDriverError("x", sqlstate="23505"))
    assert not db_unavailable.is_unavailable(error)
    assert not db_unavailable.is_unavailable(ValueError("not a database error"))
