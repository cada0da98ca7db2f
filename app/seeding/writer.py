"""Bulk writing: PostgreSQL COPY through psycopg 3, SQLite executemany through SQLAlchemy Core."""

import json
import sys
import time

from sqlalchemy import insert, text

from app.extensions import db
from app.seeding.rows import TABLES


class Writer:
    """Writes generated rows inside the session's current transaction."""

    def __init__(self):
        self.dialect = db.engine.dialect.name
        self.can_skip_triggers = False
        self.lz4 = False
        if self.dialect == "postgresql":
            self.can_skip_triggers = bool(db.session.scalar(text(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")))
            self.lz4 = bool(db.session.scalar(text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'")))
            db.session.rollback()

    def next_ids(self) -> dict[str, int]:
        return {name: (db.session.scalar(text(f"SELECT max(id) FROM {name}")) or 0) + 1
                for name, _ in TABLES}

    def begin(self) -> None:
        """Settings for this transaction only (PostgreSQL): no waiting on commit, no foreign-key
        triggers when we may skip them (the rows are generated consistent), lz4 for the large
        instance states."""
        if self.dialect != "postgresql":
            return
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
        if self.can_skip_triggers:
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
        if self.lz4:
            db.session.execute(text("SET LOCAL default_toast_compression = 'lz4'"))

    def write(self, rows: dict[str, list[tuple]]) -> None:
        for name, columns in TABLES:
            batch = rows.get(name)
            if batch:
                if self.dialect == "postgresql":
                    self._copy(name, columns, batch)
                else:
                    self._insert(name, columns, batch)

    def _copy(self, name: str, columns: tuple, batch: list[tuple]) -> None:
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)

    def _insert(self, name: str, columns: tuple, batch: list[tuple]) -> None:
        table = db.metadata.tables[name]
        json_columns = [i for i, c in enumerate(columns)
                        if c in ("changes",)]  # the JSON type serializes by itself
        values = []
        for row in batch:
            item = dict(zip(columns, row, strict=True))
            for i in json_columns:
                item[columns[i]] = json.loads(row[i])
            values.append(item)
        db.session.execute(insert(table), values)

    def move_sequences(self) -> None:
        """Ids were given explicitly: move each PostgreSQL sequence past them."""
        if self.dialect != "postgresql":
            return
        for name, _ in TABLES:
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                    f"(SELECT max(id) FROM {name}))"))

    def analyze(self) -> None:
        for name, _ in TABLES:
            db.session.execute(text(f"ANALYZE {name}"))
        db.session.commit()


class Progress:
    """A progress bar on stderr: a redrawn line on a terminal, a line per 10% elsewhere."""

    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label = max(total, 1), label
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self.tty = self.stream.isatty()
        self._shown_at = 0.0
        self._tenth = -1

    def update(self, count: int, note: str = "") -> None:
        self.done += count
        now = time.monotonic()
        tenth = self.done * 10 // self.total
        if self.tty and (now - self._shown_at > 0.2 or self.done >= self.total):
            self._shown_at = now
            self.stream.write("\r" + self._line(now, note))
            self.stream.flush()
        elif not self.tty and tenth != self._tenth:
            self._tenth = tenth
            self.stream.write(self._line(now, note) + "\n")
            self.stream.flush()

    def _line(self, now: float, note: str) -> str:
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        width = 30
        filled = width * self.done // self.total
        bar = "#" * filled + "." * (width - filled)
        return (f"{self.label} [{bar}] {100 * self.done // self.total:3d}% "
                f"{self.done:,}/{self.total:,} {rate:,.0f}/s "
                f"elapsed {elapsed:,.0f}s left {left:,.0f}s {note}").rstrip()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
