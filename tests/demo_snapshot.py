"""The demo tenants, seeded once and then copied back: ``demo.seed()`` walks a dozen requests
through the engine (about 0.3 s on SQLite, 1 s on PostgreSQL), and most tests start from it.

The first test of a session seeds for real and keeps a copy of every table it filled; the
next tests get the same rows back in one transaction: on PostgreSQL ``INSERT ... SELECT``
from a schema of its own (``mesa_snapshot``) plus the sequences' values, on SQLite the rows
kept in memory as the driver returned them (the FTS5 triggers re-index the search rows).
A copy older than ``MAX_AGE_SECONDS`` (or taken on another day, or under another clock, as
when a test has moved time) is thrown away and the demo seeded again, so a test never sees
timestamps much older than its own start. A database that already has a company when the
demo is asked for (a fixture made one first) gets a real seed, and no copy is kept of it.
"""

import time
from datetime import date

from sqlalchemy import text

from app.extensions import db

MAX_AGE_SECONDS = 60
SCHEMA = "mesa_snapshot"


class DemoSnapshot:
    def __init__(self) -> None:
        self.taken_at: float | None = None
        self.day: date | None = None
        self.tables: list[tuple[str, str, list[tuple]]] = []  # SQLite: name, columns, rows
        self.restore_sql: str | None = None  # PostgreSQL: one script

    def load(self, seed) -> None:
        """The demo in the database, by a copy when a fresh one is at hand, else by ``seed``."""
        empty = db.session.execute(text("SELECT 1 FROM tenants LIMIT 1")).first() is None
        if empty and self._fresh():
            self._restore()
            return
        seed()
        db.session.commit()
        if empty:  # a copy of the demo alone, never of what a test made before it
            self._take()

    def _fresh(self) -> bool:
        return (self.taken_at is not None and self.day == date.today()
                and abs(time.time() - self.taken_at) < MAX_AGE_SECONDS)

    def _take(self) -> None:
        self.taken_at, self.day = time.time(), date.today()
        names = [t.name for t in db.metadata.sorted_tables]
        if db.engine.dialect.name == "postgresql":
            self._take_postgresql(names)
        else:
            self._take_sqlite(names)

    def _restore(self) -> None:
        db.session.remove()
        with db.engine.begin() as conn:
            if self.restore_sql is not None:
                conn.exec_driver_sql(self.restore_sql)
                return
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for name, columns, rows in self.tables:
                marks = ", ".join("?" * len(rows[0]))
                conn.exec_driver_sql(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', rows)

    def _take_sqlite(self, names: list[str]) -> None:
        self.tables = []
        with db.engine.connect() as conn:
            for name in names:
                result = conn.exec_driver_sql(f'SELECT * FROM "{name}"')
                rows = [tuple(row) for row in result]
                if rows:
                    self.tables.append((name, _columns(result.keys()), rows))

    def _take_postgresql(self, names: list[str]) -> None:
        script = ["SET LOCAL session_replication_role = replica"]  # a copy of valid rows
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
            for name in names:
                result = conn.exec_driver_sql(f'SELECT * FROM public."{name}" LIMIT 1')
                if result.first():
                    columns = _columns(result.keys())
                    conn.exec_driver_sql(
                        f'CREATE TABLE {SCHEMA}."{name}" AS SELECT * FROM public."{name}"')
                    script.append(f'INSERT INTO public."{name}" ({columns}) '
                                  f'SELECT {columns} FROM {SCHEMA}."{name}"')
            sequences = conn.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL")).all()
        if sequences:
            script.append("SELECT " + ", ".join(
                f"setval('public.\"{name}\"', {int(value)}, true)" for name, value in sequences))
        self.restore_sql = "; ".join(script)


def _columns(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


SNAPSHOT = DemoSnapshot()
