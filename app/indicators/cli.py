"""``flask indicators ...``: keep the figures' rows right and produce reports.

``rebuild`` replays requests' histories through the fold every step runs
(``app.indicators.stages``), in batches of their own short transactions, company by company:
for requests filed before indicators existed, or after a company changed its default business
calendar and wants past lead times measured by the new one."""

import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.indicators import stages
from app.models import ServiceRequest, Tenant
from app.sqlite import writing
from app.tenancy import isolation

group = AppGroup("indicators", help="Service indicators: rebuild each request's milestones "
                                    "and lead times from its history; reports.")


def _tenants(slug: str | None) -> list[Tenant]:
    stmt = select(Tenant).order_by(Tenant.slug)
    if slug:
        stmt = stmt.where(Tenant.slug == slug)
    tenants = list(db.session.scalars(stmt))
    if slug and not tenants:
        raise click.ClickException(f"No company '{slug}'.")
    return tenants


@group.command("rebuild")
@click.option("--tenant", "slug", default=None, help="Only this company (its slug).")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 5000),
              help="Requests per transaction.")
def rebuild_command(slug, batch):
    """Replay every request's history through the fold each step runs and store its
    milestones and stage lead times. Prints how many changed and how long it took."""
    started = time.monotonic()
    total = changed = 0
    for tenant in _tenants(slug):
        seen, moved = rebuild_tenant(tenant.id, batch)
        total, changed = total + seen, changed + moved
        if seen:
            click.echo(f"{tenant.slug}: {seen} request(s) replayed, {moved} changed")
    click.echo(f"{total} request(s) replayed, {changed} changed, in "
               f"{time.monotonic() - started:.1f} s.")


def rebuild_tenant(tenant_id: int, batch: int = 500) -> tuple[int, int]:
    """Every request of the company, batch by batch: (replayed, changed)."""
    seen = changed = after = 0
    while True:
        with isolation.tenant(tenant_id), writing():
            try:
                ids = list(db.session.scalars(
                    select(ServiceRequest.id)
                    .where(ServiceRequest.tenant_id == tenant_id, ServiceRequest.id > after)
                    .order_by(ServiceRequest.id).limit(batch)))
                if not ids:
                    db.session.rollback()
                    return seen, changed
                changed += stages.rebuild(ids)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
        seen += len(ids)
        after = ids[-1]
