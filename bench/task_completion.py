"""Server-side cost of one task completion, per step of the lifecycle.

Runs N lifecycles through the same service call the pages use (validate, lock, engine step,
save, history, commit) on a fresh database, and prints medians and p95 per step.

    .venv/bin/python bench/task_completion.py [--requests 200] [--database-url URL]

Without --database-url (or DATABASE_URL) it uses a fresh SQLite file in a temporary directory.
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
ISOLATION = Path(__file__).resolve().parent.parent / "app" / "tenancy" / "isolation.py"

STEPS = [
    ("Task_Authorize", "jefe.finanzas@acme.test", "authorize", {"decision": "authorize"}),
    ("Task_Evaluate", "director@acme.test", "evaluate",
     {"decision": "approve", "estimated_cost": "100",
         "estimated_hours": "8", "staff_available": "true"}),
    ("Task_Assign", "director@acme.test", "assign", None),
    ("Task_Start", "tecnico1@acme.test", "start", {}),
    ("Task_Work", "tecnico1@acme.test", "finish",
     {"resolution": "ok", "hours_spent": "1", "materials_cost": "0"}),
    ("Task_Confirm", "ana@acme.test", "confirm", {"rating": "5"}),
]


def scope(tenant_id):
    """A person's step runs in their tenant's scope, as in a web request (row-level security
    on PostgreSQL, the session's filter on SQLite); code from before tenant isolation has
    none (checked by file: a venv with this project installed editable would import today's
    module into an older tree)."""
    if not ISOLATION.exists():
        return contextlib.nullcontext()
    from app.tenancy.isolation import tenant

    return tenant(tenant_id)


def sla_options(seed, wanted: bool) -> dict:
    """``service_levels=True`` for the demo seed when asked and when this tree has it."""
    import inspect

    if wanted and "service_levels" in inspect.signature(seed).parameters:
        return {"service_levels": True}
    return {}


def switch_isolation(on: bool) -> None:
    """Tenant isolation's session hooks in place (the product) or removed (for --isolation-ab).
    Removed on PostgreSQL: no statement per transaction, and the URL's user (here a superuser)
    is not switched to the app's role, so no policy is evaluated."""
    if not ISOLATION.exists():
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.tenancy import isolation

    for name, hook in (("after_begin", isolation._begin),
                       ("do_orm_execute", isolation._scoped),
                       ("before_flush", isolation._before_flush),
                       ("before_flush", isolation._own_rows_only)):
        if on and not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
        elif not on and event.contains(Session, name, hook):
            event.remove(Session, name, hook)


def switch_heatmap(on: bool) -> None:
    """The heatmap's element passes recorded (the product) or not (for --heatmap-ab): off, a
    step neither remembers its tasks as restored nor lists and inserts its passes."""
    try:
        from app.engine import passes
        from app.indicators import heatmap_passes
    except ImportError:  # code from before the heatmap
        return
    originals = heatmap_passes.__dict__.setdefault(
        "_bench_originals", (heatmap_passes.record, passes.seen))
    heatmap_passes.record = originals[0] if on else (lambda *args, **kwargs: 0)
    passes.seen = originals[1] if on else (lambda *args, **kwargs: passes.Seen())


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--sla", action="store_true",
                        help="acme with office hours and SLA targets (every step refreshes "
                             "three clocks); ignored by code from before SLA clocks")
    parser.add_argument("--sla-ab", action="store_true",
                        help="with --sla's targets kept for one category (Electricidad): "
                             "alternate lifecycles of it and of one without targets "
                             "(Plomería), and print both and their ratio: what three SLA "
                             "clocks cost a completion, measured side by side")
    parser.add_argument("--isolation-ab", action="store_true",
                        help="alternate lifecycles with tenant isolation on and off (its hooks "
                             "removed: no SET LOCAL, no role switch, no ORM filter) and print "
                             "both and their ratio: what isolation costs a completion")
    parser.add_argument("--heatmap-ab", action="store_true",
                        help="alternate lifecycles with the heatmap's element passes recorded "
                             "and not, and print both and their ratio: what recording them "
                             "costs a completion")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mesa-bench-')}/bench.db"

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.demo import seed
    from app.extensions import db
    from app.models import HumanTask, User
    from app.services import workflow
    from app.sqlite import writing
    from tests.factories import assignment_form, file

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EMBEDDED_TIMERS": False})
    with app.app_context(), writing():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        seed(**sla_options(seed, args.sla or args.sla_ab))
        db.session.commit()
        if args.sla_ab:
            from app.models import Category, SlaTarget

            measured = db.session.query(Category).filter_by(name="Electricidad").first()
            db.session.query(SlaTarget).update({"category_id": measured.id})
            db.session.commit()
        with_clocks = {True: [], False: []}
        people = {u.email: u.id for u in db.session.query(User)}
        tenant_id = db.session.query(User).filter_by(email="ana@acme.test").one().tenant_id
        timings = {spec: [] for spec, *_ in STEPS}
        by_mode = {True: [], False: []}
        with_passes = {True: [], False: []}
        started = time.perf_counter()
        for n in range(args.requests):
            isolated = not args.isolation_ab or n % 2 == 0
            switch_isolation(isolated)
            clocked = not args.sla_ab or n % 2 == 0
            recorded = not args.heatmap_ab or n % 2 == 0
            switch_heatmap(recorded)
            req_id = file("ana@acme.test",
                          category=None if not args.sla_ab
                          else "Electricidad" if clocked else "Plomería").id
            for spec_id, email, handler, form in STEPS:
                form = assignment_form() if form is None else form
                t0 = time.perf_counter()
                with scope(tenant_id) if isolated else contextlib.nullcontext():
                    actor = db.session.get(User, people[email])
                    task = db.session.query(HumanTask).filter_by(
                        request_id=req_id, spec_id=spec_id, status="open").one()
                    workflow.complete(actor, task, handler, dict(form))
                    db.session.commit()
                elapsed_ms = (time.perf_counter() - t0) * 1000
                timings[spec_id].append(elapsed_ms)
                by_mode[isolated].append(elapsed_ms)
                with_clocks[clocked].append(elapsed_ms)
                with_passes[recorded].append(elapsed_ms)
        switch_isolation(True)
        switch_heatmap(True)
        elapsed = time.perf_counter() - started
        dialect = db.engine.dialect.name

    everything = [t for values in timings.values() for t in values]
    print(f"database: {dialect}; lifecycles: {args.requests}; "
          f"command: {' '.join(sys.argv)}")
    print(f"{'step':<16}{'median ms':>11}{'p95 ms':>9}")
    for spec_id, values in timings.items():
        print(f"{spec_id:<16}{statistics.median(values):>11.2f}{percentile(values, .95):>9.2f}")
    print(f"{'all completions':<16}{statistics.median(everything):>11.2f}"
          f"{percentile(everything, .95):>9.2f}")
    print(f"lifecycles/s (filing + 6 completions, one process): {args.requests / elapsed:.1f}")
    if args.sla_ab:
        on, off = statistics.median(with_clocks[True]), statistics.median(with_clocks[False])
        print(f"with SLA clocks: median {on:.2f} ms; without: {off:.2f} ms; ratio "
              f"{on / off:.3f} ({len(with_clocks[True])} and {len(with_clocks[False])} "
              "completions, alternating)")
    if args.heatmap_ab:
        on, off = statistics.median(with_passes[True]), statistics.median(with_passes[False])
        print(f"element passes recorded: median {on:.2f} ms; not: {off:.2f} ms; ratio "
              f"{on / off:.3f} ({len(with_passes[True])} and {len(with_passes[False])} "
              "completions, alternating)")
    if args.isolation_ab:
        on, off = statistics.median(by_mode[True]), statistics.median(by_mode[False])
        print(f"isolation on: median {on:.2f} ms; off: {off:.2f} ms; ratio {on / off:.3f} "
              f"({len(by_mode[True])} and {len(by_mode[False])} completions, alternating)")


if __name__ == "__main__":
    main()
