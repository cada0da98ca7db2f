"""Time of the process heatmap's figures (``app.indicators.heatmap``) for a company's year.

Seeds one company with N requests (``flask seed-scale``'s generator), gives them element passes
as the heatmap's migration gives requests filed before it (their user tasks, from their inbox
rows) plus, per user-task pass, one pass of a zero-length element (as the gateways and service
tasks between two steps add), then times the figures of the active version for the tenant
admin and for a service director over the last 12 months, and the same with a category filter.

    .venv/bin/python bench/heatmap_latency.py [--requests 10000] [--repeat 15]
                                              [--database-url URL]

Without --database-url (or DATABASE_URL) it uses a fresh SQLite file in a temporary directory.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def give_passes() -> int:
    from sqlalchemy import text

    from app.extensions import db

    path = (Path(__file__).resolve().parent.parent / "migrations" / "versions"
            / "0013_element_passes.py")
    spec = importlib.util.spec_from_file_location("element_passes_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(text(migration.BACKFILL))
    db.session.execute(text(
        "INSERT INTO element_passes (tenant_id, request_id, definition_id, task_uuid, "
        "element_id, came_from, state, entered_at, left_at) "
        "SELECT tenant_id, request_id, definition_id, 'g' || substr(task_uuid, 2), 'Gateway_' || "
        "element_id, element_id, 'completed', COALESCE(left_at, entered_at), "
        "COALESCE(left_at, entered_at) FROM element_passes"))
    db.session.commit()
    return db.session.execute(text("SELECT count(*) FROM element_passes")).scalar()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mesa-bench-')}/bench.db"

    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.indicators import heatmap
    from app.models import Category, Membership, User
    from app.seeding import seed_scale
    from app.tenancy.isolation import owner, tenant

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EMBEDDED_TIMERS": False})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        seed_scale(1, args.requests, progress=False)
        with owner():
            passes = give_passes()
        admin_id, tenant_id = db.session.execute(
            select(Membership.user_id, Membership.tenant_id)
            .where(Membership.role == "tenant_admin")).first()
        director_id = db.session.scalar(select(Membership.user_id).where(
            Membership.role == "service_director"))
        category_id = db.session.scalar(select(Category.id).where(
            Category.tenant_id == tenant_id))
        print(f"database: {db.engine.dialect.name}; requests: {args.requests}; "
              f"element passes: {passes}")
        print(f"{'view':<40}{'median ms':>11}{'max ms':>9}")
        for name, user_id, extra in (
                ("tenant admin, last 12 months", admin_id, {}),
                ("service director, last 12 months", director_id, {}),
                ("tenant admin, one category", admin_id, {"category_id": str(category_id)})):
            times = []
            for _ in range(args.repeat):
                db.session.rollback()
                with tenant(tenant_id):
                    user = db.session.get(User, user_id)
                    started = time.perf_counter()
                    view = heatmap.view_of(user, {"preset": "last_12_months", **extra})
                    version = heatmap.find_version(tenant_id, "service_request", None)
                    figures = heatmap.heatmap(view, version)
                    times.append((time.perf_counter() - started) * 1000)
            print(f"{name:<40}{statistics.median(times):>11.1f}{max(times):>9.1f}"
                  f"   ({figures['requests']} requests)")


if __name__ == "__main__":
    main()
