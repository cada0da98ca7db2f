"""``flask sla recompute``: every SLA clock computed again from its request's history, in
batches of their own short transactions (a request is locked for a batch's UPDATE, never for
the whole run). ``flask sla signals [--loop]``: the background runner's SLA pass, for
deployments that run neither the embedded runner nor Celery."""

import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Tenant
from app.models.base import utcnow
from app.sla import service
from app.sqlite import writing
from app.tenancy import isolation

group = AppGroup("sla", help="Service levels: recompute the requests' SLA clocks; send their "
                              "warnings and breaches.")


@group.command("recompute")
@click.option("--tenant", "slug", default=None, help="Only this company (its slug).")
@click.option("--all", "include_closed", is_flag=True,
              help="Closed requests too (by default only open ones).")
@click.option("--batch", default=service.BATCH, show_default=True,
              type=click.IntRange(1, 5000), help="Requests per transaction.")
def recompute(slug, include_closed, batch):
    """Recompute the clocks of every open request (all with --all) from its history, the
    calendars and the terms it runs under; requests flagged by a target applied to open
    requests take the targets that match them now. Prints how many and how long."""
    stmt = select(Tenant).order_by(Tenant.slug)
    if slug:
        stmt = stmt.where(Tenant.slug == slug)
    tenants = list(db.session.scalars(stmt))
    if slug and not tenants:
        raise click.ClickException(f"No company '{slug}'.")
    started = time.monotonic()
    total = 0
    for tenant in tenants:
        done = recompute_tenant(tenant.id, include_closed, batch)
        total += done
        if done:
            click.echo(f"{tenant.slug}: {done} request(s) recomputed")
    click.echo(f"{total} request(s) recomputed in {time.monotonic() - started:.1f} s.")


def recompute_tenant(tenant_id: int, include_closed: bool = False,
                     batch: int = service.BATCH) -> int:
    """Every request of the tenant with clocks, batch by batch; returns how many."""
    done, after = 0, 0
    now = utcnow()
    while True:
        with isolation.tenant(tenant_id), writing():
            try:
                ids = service.open_request_ids(tenant_id, include_closed, after, batch)
                if not ids:
                    db.session.rollback()
                    return done
                done += service.recompute_requests(ids, now)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
        after = ids[-1]


@group.command("signals")
@click.option("--loop", is_flag=True, help="Keep running, polling every --every seconds.")
@click.option("--every", default=15.0, show_default=True,
              type=click.FloatRange(min=0.1), help="Seconds between passes.")
@click.option("--limit", default=service.BATCH, show_default=True,
              type=click.IntRange(1, 5000), help="Most clocks looked at per pass.")
def signals_command(loop, every, limit):
    """Recompute the requests admins' edits flagged, then send each due warning and breach
    once (or keep doing it with --loop). Safe beside other runners: each is claimed once."""
    from app.services.background import run_sla_signals

    while True:
        sent = run_sla_signals(limit=limit)
        click.echo(f"sent {sent} SLA warning(s) and breach(es)")
        if not loop:
            return
        if sent < limit:  # a full pass means more are waiting: go on at once
            time.sleep(every)
