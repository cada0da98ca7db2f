"""``flask seed-scale``: many tenants and requests at realistic stages, fast.

Each tenant gets units, heads, staff, service units with directors and workers, a catalog and the
default process (through the ORM: a few hundred rows). Its requests are generated, not walked:
the engine runs one lifecycle per stage once (plans.py) and every request at that stage reuses
that instance state, with its own worker, ticket, priority, dates and timer due times put in.
Rows go in with COPY on PostgreSQL (executemany on SQLite), one transaction per tenant.
A seeded request behaves like any other: its open task can be completed through the app.
"""

import random
import time

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.extensions import db
from app.models import NumberSequence, ServiceRequest, Tenant
from app.models.base import utcnow
from app.services import definitions
from app.sqlite import writing

CHUNK = 5000  # requests generated and written at a time


def seed_scale(tenants: int, requests: int, seed: int = 42, progress: bool = True) -> dict:
    """Create ``tenants`` tenants (t001, t002...) sharing ``requests`` requests; returns counts
    and timings. Refuses if one of those tenants exists already. Written as the tables' owner
    (PostgreSQL: COPY without the foreign-key triggers when that user may skip them)."""
    from app.tenancy import isolation

    with isolation.owner():
        return _seed_scale(tenants, requests, seed, progress)


def _seed_scale(tenants: int, requests: int, seed: int, progress: bool) -> dict:
    from app.indicators import heatmap_passes
    from app.search import documents as search_documents
    from app.seeding.org import create_tenant, password_hash, tenant_slug
    from app.seeding.plans import build_plans
    from app.seeding.rows import Counters, Ids, RowMaker, schedule
    from app.seeding.writer import Progress, Writer

    slugs = [tenant_slug(n) for n in range(1, tenants + 1)]
    taken = db.session.scalars(select(Tenant.slug).where(Tenant.slug.in_(slugs))).all()
    if taken:
        raise click.ClickException(f"tenant(s) already exist: {', '.join(sorted(taken)[:5])}; "
                                   "seed an empty database")
    started = time.monotonic()
    writer = Writer()
    hashed = password_hash()
    now = utcnow()
    bar = Progress(requests, "seed-scale") if progress else None
    plans = None
    for number in range(1, tenants + 1):
        share = requests // tenants + (1 if number <= requests % tenants else 0)
        with writing():
            writer.begin()
            org = create_tenant(number, hashed)
            if plans is None:  # every tenant starts on the same default diagram
                from app.models import ProcessDefinition

                plans = build_plans(definitions.compiled(
                    db.session.get(ProcessDefinition, org.definition_id)))
            rng = random.Random(seed * 1_000_003 + number)
            ids, counters = Ids(writer.next_ids()), Counters()
            maker = RowMaker(org, plans, ids, counters, rng, now)
            pending = schedule(share, rng, now)
            for offset in range(0, len(pending), CHUNK):
                for filed_at, stage in pending[offset:offset + CHUNK]:
                    maker.add(filed_at, stage)
                writer.write(maker.take_rows())
                if bar:
                    bar.update(min(CHUNK, len(pending) - offset), f"tenant {org.slug}")
            db.session.add_all(NumberSequence(tenant_id=org.tenant_id, kind=kind, year=year,
                                              last=last)
                               for (kind, year), last in counters.last.items())
            db.session.flush()
            writer.move_sequences()
            # the heatmap's passes of its people's steps, from the inbox rows just written
            heatmap_passes.passes_from_inbox(org.tenant_id)
            # and the search documents of its requests (app.search)
            search_documents.rebuild_tenant(org.tenant_id)
            db.session.commit()
    if bar:
        bar.close()
    with writing():
        writer.analyze()
    return {"tenants": tenants, "requests": requests,
            "seconds": round(time.monotonic() - started, 1)}


@click.command("seed-scale")
@click.option("--tenants", default=100, show_default=True, help="Tenants to create (t001...).")
@click.option("--requests", "requests_", default=1_000_000, show_default=True,
              help="Requests in all, shared evenly by the tenants.")
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has requests.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
def seed_scale_command(tenants, requests_, seed, if_empty, quiet):
    """Fill the database with TENANTS tenants and REQUESTS requests at realistic stages
    (password demo1234 for everyone, e.g. jefe01@t001.test, director1@t001.test)."""
    if tenants < 1 or requests_ < 0:
        raise click.BadParameter("--tenants must be at least 1 and --requests at least 0")
    if if_empty and db.session.scalar(select(func.count(ServiceRequest.id))):
        click.echo("The database already has requests; nothing to do.")
        return
    result = seed_scale(tenants, requests_, seed=seed, progress=not quiet)
    click.echo(f"Seeded {result['tenants']} tenant(s) and {result['requests']:,} request(s) "
               f"in {result['seconds']} s. Password demo1234 for everyone "
               f"(e.g. jefe01@t001.test, director1@t001.test, tecnico11@t001.test).")
