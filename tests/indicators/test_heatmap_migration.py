"""Migration 0013 (element passes) on a database with requests filed before it: their user
tasks become passes, taken from their inbox rows (open ones waiting, completed ones with their
times, the others cut short), for the version each request is on; down to 0012 and back up.

Each test migrates a database of its own: a SQLite file, and on PostgreSQL (when
TEST_DATABASE_URL names one) a scratch database created and dropped on that server."""

import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db

BEFORE, REVISION = "0012_indicators", "0013_element_passes"


@pytest.fixture(autouse=True)
def clean_tables():
    """These tests bring their own database: the suite's shared one is not touched."""
    yield


def _backends():
    url = os.environ.get("TEST_DATABASE_URL", "")
    return ["sqlite", *(["postgresql"] if url.startswith("postgresql") else [])]


@pytest.fixture(params=_backends())
def migrated(request, tmp_path):
    """An app on a database of its own at the head revision, inside its app context."""
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
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


INBOX = """
    SELECT h.task_uuid, h.request_id, i.definition_id, h.spec_id, h.status, h.created_at,
           h.completed_at
    FROM human_tasks h JOIN process_instances i ON i.id = h.instance_id ORDER BY h.task_uuid
"""
PASSES = """
    SELECT task_uuid, request_id, definition_id, element_id, came_from, state, entered_at,
           left_at
    FROM element_passes WHERE element_id LIKE 'Task_%' ORDER BY task_uuid
"""
STATES = {"open": "waiting", "completed": "completed", "cancelled": "cancelled"}


def read(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT set_config('mesa.platform', 'on', false)"))
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_user_tasks_filed_before_become_passes(migrated):
    from app.demo import seed

    seed()  # requests at every stage, walked through the real workflow
    db.session.commit()
    db.session.remove()
    inbox = read(INBOX)
    assert {row[4] for row in inbox} >= {"open", "completed"}
    recorded = read(PASSES)  # as the steps wrote them
    downgrade(revision=BEFORE)
    assert "element_passes" not in sa.inspect(db.engine).get_table_names()
    upgrade(revision=REVISION)
    backfilled = read(PASSES)
    # One pass per inbox row, with its times; the flows taken then are not known
    assert len(backfilled) == len(inbox) and len(inbox) > 10
    for passed, task in zip(backfilled, inbox, strict=True):
        task_uuid, request_id, definition_id, spec_id, status, created_at, completed_at = task
        assert passed[:4] == (task_uuid, request_id, definition_id, spec_id)
        assert passed[4] is None and passed[5] == STATES[status]
        assert passed[6] == created_at
        assert passed[7] == (None if status == "open" else completed_at)
    # The steps recorded the same passes (their own clock, a moment apart from the inbox rows')
    assert [(r[0], r[3], r[5]) for r in recorded] == [(r[0], r[3], r[5]) for r in backfilled]
    upgrade()
