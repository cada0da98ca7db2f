"""Messages per second through the outbox, sent by the embedded runner to a real SMTP server.

Files requests (each tells the unit head by e-mail that a task waits) with e-mail configured
against an SMTP server on loopback (aiosmtpd, as in the tests), starts the embedded runner's
threads as a web process does, and times how long they take to send every message.

    .venv/bin/python bench/outbox_throughput.py [--messages 500] [--database-url URL]
"""

import argparse
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class _Sink:
    """An SMTP handler that takes every message and counts it."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.count += 1
        return "250 2.0.0 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mesa-bench-')}/bench.db"

    from aiosmtpd.controller import Controller
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from app import create_app
    from app.demo import seed
    from app.extensions import db
    from app.models import OutboxMessage
    from app.services import background
    from app.sqlite import writing
    from tests.factories import file

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SMTP_HOST": "127.0.0.1",
                      "SMTP_PORT": port, "TIMER_POLL_SECONDS": 0.05, "EMBEDDED_TIMERS": True})
    with app.app_context():
        with writing():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
            seed()
            db.session.commit()
        for n in range(args.messages):
            file("ana@acme.test", title=f"Pedido {n}")
        pending = select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == "email", OutboxMessage.status == "pending")
        queued = db.session.scalar(pending)
        db.session.rollback()
        started = time.perf_counter()
        background._supervise(app)  # what the first request of a web process starts
        while db.session.scalar(pending):
            db.session.rollback()
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        db.session.rollback()
        background.stop_embedded_runner()
    smtp.stop()
    print(f"database: {url.split(':')[0]}; "
          f"messages queued: {queued}; received by the SMTP server: {sink.count}")
    print(f"sent in {elapsed:.2f} s by the embedded runner: {queued / elapsed:.0f} messages/s "
          "(one thread, one SMTP connection per message)")


if __name__ == "__main__":
    main()
