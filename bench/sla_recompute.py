"""How long recomputing a big company's SLA clocks takes: 10,000 requests of one tenant (the
seed-scale generator's history: open, finished, rejected...), a calendar and three targets.

    .venv/bin/python bench/sla_recompute.py [--requests 10000] [--database-url URL]

Three timed runs, as `flask sla recompute` does them (batches of their own transactions):
the first applies the targets to every request (a clock row per target is created, then
computed), then the open requests again, then all of them (`--all`). Without --database-url a
fresh SQLite file in a temporary directory is used; a PostgreSQL URL is emptied first.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mesa-sla-')}/sla.db"

    from flask_migrate import upgrade
    from sqlalchemy import func, select, text, update

    from app import create_app
    from app.extensions import db
    from app.models import ServiceRequest, SlaClock, Tenant
    from app.seeding import seed_scale
    from app.sla.cli import recompute_tenant
    from app.sla.models import BusinessCalendar, SlaTarget
    from app.sqlite import writing
    from app.tenancy import isolation

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EMBEDDED_TIMERS": False})
    with app.app_context():
        with writing():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
        seed_scale(1, args.requests, progress=False)
        with isolation.owner(), writing():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == "t001"))
            office = [["08:00", "12:00"], ["14:00", "18:00"]]
            calendar = BusinessCalendar(
                tenant_id=tenant_id, name="Oficina", time_zone="America/Bogota",
                is_default=True, holidays=[{"date": "2026-12-25", "yearly": True, "name": "N"}],
                week={d: office for d in ("mon", "tue", "wed", "thu", "fri")}
                | {"sat": [], "sun": []})
            db.session.add(calendar)
            db.session.flush()
            for kind, minutes in (("decision", 480), ("start", 480), ("resolution", 2400)):
                db.session.add(SlaTarget(tenant_id=tenant_id, kind=kind, minutes=minutes,
                                         calendar_id=calendar.id, warn_percent=75,
                                         pause_statuses=["returned", "on_hold"]))
            db.session.execute(update(ServiceRequest).where(ServiceRequest.tenant_id == tenant_id)
                               .values(sla_rematch="decision start resolution"))
            db.session.commit()
            dialect = db.engine.dialect.name
        rows = []
        for label, include_closed in (("apply targets to every request (creates the clocks)",
                                       True),
                                      ("recompute the open requests", False),
                                      ("recompute every request (--all)", True)):
            started = time.perf_counter()
            done = recompute_tenant(tenant_id, include_closed)
            rows.append((label, done, time.perf_counter() - started))
        with isolation.owner():
            clocks = db.session.scalar(select(func.count(SlaClock.id)))
            db.session.rollback()

    print(f"database: {dialect}; requests: {args.requests}; clock rows: {clocks}\n")
    print("| run | requests | seconds |")
    print("|---|---:|---:|")
    for label, done, seconds in rows:
        print(f"| {label} | {done:,} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
