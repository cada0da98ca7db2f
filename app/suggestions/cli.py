"""``flask suggestions``: train a company's model now, or every due company; show status."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Tenant
from app.models.base import utcnow
from app.suggestions import status, training
from app.tenancy import isolation

group = click.Group("suggestions", help="The learned suggestion of category and priority.")


def _tenant_id(slug: str) -> int:
    with isolation.platform():  # which company is it: not known yet
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    if tenant_id is None:
        raise click.ClickException(f"no company {slug!r}")
    return tenant_id


@group.command("train")
@click.option("--tenant", "slug", help="Train this company (its slug) now, due or not.")
@with_appcontext
def train_command(slug):
    """Train the due companies (as a runner's pass does), or one company now."""
    if not slug:
        done = training.run(sweep=True, limit=10**6)
        click.echo(f"Companies trained: {done}.")
        return
    tenant_id = _tenant_id(slug)
    if not training.train_claimed(tenant_id, utcnow()):
        raise click.ClickException("another runner is training this company now, or the "
                                   "training failed (see `flask suggestions status`)")
    with isolation.tenant(tenant_id):
        _echo(tenant_id)


@group.command("status")
@click.option("--tenant", "slug", required=True, help="The company (its slug).")
@with_appcontext
def status_command(slug):
    """What the admin page shows: history, training, accuracy next to the baseline."""
    tenant_id = _tenant_id(slug)
    with isolation.tenant(tenant_id):
        _echo(tenant_id)


def _echo(tenant_id: int) -> None:
    info = status.describe(db.session.get(Tenant, tenant_id))
    click.echo(f"settled requests: {info['settled_requests']} "
               f"(needed {info['settings']['min_history']}); status: {info['status']}")
    if info["trained_at"]:
        click.echo(f"trained {info['trained_at']:%Y-%m-%d %H:%M} UTC on "
                   f"{info['training_rows']} rows, {info['features']} words, "
                   f"{info['duration_ms']} ms")
    for name, target in info["targets"].items():
        click.echo(f"  {name}: accuracy {target['accuracy']} vs baseline {target['baseline']} "
                   f"on {target['held_out']} held out; proposed: {target['useful']}")
    if info["error"]:
        click.echo(f"last error: {info['error']}")
