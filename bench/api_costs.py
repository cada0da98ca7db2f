"""What each call of the HTTP lifecycle costs the app, counted rather than timed: SQL statements
and Python function calls per kind of call (both independent of the machine's load), with the
median milliseconds beside them, and where one kind's Python calls go, by package.

    .venv/bin/python bench/api_costs.py [--database-url URL] [--lifecycles 20]
                                        [--kind "complete: start"]

The lifecycle is the one `make bench` drives over HTTP (bench/http_lifecycle.py), run here
in-process through Flask's test client, one call at a time. Without --database-url a fresh
SQLite file is used; a PostgreSQL URL is migrated and given the demo data if it has none.
"""

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median  # noqa: E402
from bench.http_lifecycle import Setup, lifecycle  # noqa: E402


class InProcessClient:
    """The bench's HTTP client interface over Flask's test client, recording for the last call
    its SQL statements, Python function calls and the package of every function called."""

    def __init__(self, app, engine):
        from sqlalchemy import event

        self.client = app.test_client()
        self.statements = 0
        self.last = (0, 0, Counter())
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.statements += 1

    def call(self, method: str, path: str, token: str | None = None, body=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.statements = 0
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        response = self.client.open(path, method=method, headers=headers, json=body)
        profile.disable()
        ms = (time.perf_counter() - started) * 1000
        stats = pstats.Stats(profile)
        self.last = (self.statements, stats.total_calls, _by_package(stats))
        return response.status_code, response.get_json(silent=True), ms

    def close(self) -> None:
        pass


def _by_package(stats: pstats.Stats) -> Counter:
    found = Counter()
    for (filename, _line, _name), (_cc, calls, *_rest) in stats.stats.items():
        match = re.search(r"site-packages/([^/]+)", filename)
        if match:
            key = match.group(1).removesuffix(".py")
        elif "/app/" in filename:
            key = "app (ours)"
        elif filename == "~":
            key = "C built-ins"
        else:
            key = "standard library"
        found[key] += calls
    return found


def _database(url: str | None, sla: bool = False) -> str:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from app.demo import seed
    from app.extensions import db
    from app.models import Tenant
    from app.sqlite import writing

    url = url or f"sqlite:///{tempfile.mkdtemp(prefix='mesa-costs-')}/costs.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EMBEDDED_TIMERS": False})
    with app.app_context(), writing():
        upgrade()
        if not db.session.scalar(select(func.count(Tenant.id))):
            seed(service_levels=True) if sla else seed()
            db.session.commit()
    return url


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--lifecycles", type=int, default=20)
    parser.add_argument("--sla", action="store_true",
                        help="acme with office hours and SLA targets: every call keeps "
                             "three clocks (a fresh database only)")
    parser.add_argument("--kind", default="complete: start",
                        help="the kind of call whose Python calls are split by package")
    args = parser.parse_args(argv)

    from app import create_app
    from app.extensions import db

    url = _database(args.database_url, args.sla)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EMBEDDED_TIMERS": False})
    with app.app_context():
        engine = db.engine
    client = InProcessClient(app, engine)
    setup = Setup(client)
    samples = defaultdict(list)

    def record(kind, ms):
        statements, calls, packages = client.last
        samples[kind].append((ms, statements, calls, packages))

    for n in range(3):  # warm-up: diagrams compiled, statements prepared
        lifecycle(client, setup.tenants[n % len(setup.tenants)], n, lambda *_: None)
    for n in range(args.lifecycles):
        lifecycle(client, setup.tenants[n % len(setup.tenants)], n, record)

    print(f"`{' '.join(['bench/api_costs.py', *sys.argv[1:]])}`: {args.lifecycles} lifecycles "
          f"in-process on {engine.dialect.name}, one call at a time\n")
    print("| call | SQL statements | Python function calls | median ms (under cProfile) |")
    print("| --- | --- | --- | --- |")
    for kind, rows in samples.items():
        print(f"| {kind} | {median([r[1] for r in rows]):.0f} | "
              f"{median([r[2] for r in rows]):,.0f} | {median([r[0] for r in rows]):.1f} |")
    per_lifecycle = [sum(median([r[i] for r in rows]) for rows in samples.values())
                     for i in (1, 2)]
    print(f"| **one lifecycle** | {per_lifecycle[0]:.0f} | {per_lifecycle[1]:,.0f} | |")
    chosen = samples.get(args.kind)
    if chosen:
        total = Counter()
        for row in chosen:
            total.update(row[3])
        everything = sum(total.values())
        print(f"\nPython function calls of `{args.kind}`, by package:\n")
        print("| package | share |")
        print("| --- | --- |")
        for package, calls in total.most_common(10):
            print(f"| {package} | {calls / everything:.0%} |")


if __name__ == "__main__":
    main()
