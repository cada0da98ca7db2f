"""Server-side time of the director's evaluation page (GET /tasks/<id> of Task_Evaluate), with
its viability panel: the budget, similar requests and the staff picture.

Seeds the demo on a fresh database, finishes --similar requests of the category (so the
similar-requests medians have rows to read) and leaves --open tickets with the workers (so
the staff picture has bookings), sets this month's budget when --budget, then opens the page
of --requests requests waiting for evaluation, one at a time, through the app in-process.

    .venv/bin/python bench/evaluation_page.py [--requests 100] [--similar 20] [--budget]

Code from before viability (no app/viability) shows the page without the panel: run this file
copied into such a tree for the "before" figure.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HAS_VIABILITY = (ROOT / "app" / "viability").exists()

APPROVE = {"decision": "approve", "estimated_cost": "100", "estimated_hours": "4",
           "staff_available": "true"}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--similar", type=int, default=20)
    parser.add_argument("--open", type=int, default=10, dest="open_tickets")
    parser.add_argument("--budget", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mesa-bench-')}/bench.db"

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.demo import seed
    from app.extensions import db
    from app.models import User
    from app.services import workflow
    from app.sqlite import writing
    from tests.conftest import Browser
    from tests.factories import assignment_form, file, open_task

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EMBEDDED_TIMERS": False})

    def step(req, spec_id, email, handler, form):
        actor = db.session.query(User).filter_by(email=email).one()
        workflow.complete(actor, open_task(req, spec_id), handler, dict(form))
        db.session.commit()

    def to_assignment():
        req = file("ana@acme.test")
        step(req, "Task_Authorize", "jefe.finanzas@acme.test", "authorize",
             {"decision": "authorize"})
        step(req, "Task_Evaluate", "director@acme.test", "evaluate", APPROVE)
        step(req, "Task_Assign", "director@acme.test", "assign", assignment_form())
        return req

    with app.app_context(), writing():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        seed()
        db.session.commit()
        if args.budget and HAS_VIABILITY:
            from app.models import Tenant, Unit
            from app.tenancy import clock
            from app.viability import budgets

            tenant = db.session.query(Tenant).filter_by(slug="acme").one()
            unit = db.session.query(Unit).filter_by(tenant_id=tenant.id,
                                                    is_service_unit=True).one()
            budgets.save(tenant.id, budgets.BudgetInput(
                service_unit_id=unit.id, period="month", amount=Decimal("100000000"),
                starts_on=budgets.period_start("month", clock.today(tenant))))
            db.session.commit()
        for _ in range(args.similar):
            req = to_assignment()
            step(req, "Task_Start", "tecnico1@acme.test", "start", {})
            step(req, "Task_Work", "tecnico1@acme.test", "finish",
                 {"resolution": "ok", "hours_spent": "3", "materials_cost": "1000"})
        for _ in range(args.open_tickets):
            to_assignment()
        waiting = []
        for _ in range(args.requests):
            req = file("ana@acme.test")
            step(req, "Task_Authorize", "jefe.finanzas@acme.test", "authorize",
                 {"decision": "authorize"})
            waiting.append(open_task(req, "Task_Evaluate").id)
        dialect = db.engine.dialect.name

    director = Browser(app, app.test_client()).login("director@acme.test")
    for task_id in waiting[:5]:  # warm-up: templates compiled, statements cached
        director.get(f"/tasks/{task_id}")
    timings = []
    for task_id in waiting:
        t0 = time.perf_counter()
        response = director.get(f"/tasks/{task_id}")
        timings.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"/tasks/{task_id}: {response.status_code}")
    panel = "viability-panel" in response.get_data(as_text=True)
    print(f"database: {dialect}; pages: {len(timings)}; similar finished: {args.similar}; "
          f"open tickets: {args.open_tickets}; budget: {args.budget and HAS_VIABILITY}; "
          f"viability panel: {panel}")
    print(f"evaluation page: median {statistics.median(timings):.2f} ms; "
          f"p95 {percentile(timings, .95):.2f} ms")


if __name__ == "__main__":
    main()
