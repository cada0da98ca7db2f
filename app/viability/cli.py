"""``flask budgets check``: recompute every budget's figures from the requests' history alone
and compare them with those summed from the rows (the pages' and the API's)."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Tenant
from app.tenancy import isolation
from app.viability import ledger

group = AppGroup("budgets", help="Budgets: check that their figures add up.")


@group.command("check")
@click.option("--tenant", "slug", default=None, help="Only this company (its slug).")
def check(slug):
    """Replay every request's history and compare each budget's committed and spent amounts
    with the rows; exit status 1 (and each difference listed) when any differs."""
    stmt = select(Tenant).order_by(Tenant.slug)
    if slug:
        stmt = stmt.where(Tenant.slug == slug)
    tenants = list(db.session.scalars(stmt))
    if slug and not tenants:
        raise click.ClickException(f"No company '{slug}'.")
    differences = 0
    for tenant in tenants:
        with isolation.tenant(tenant.id):
            found = ledger.check(tenant.id)
            db.session.rollback()
        for m in found:
            differences += 1
            click.echo(f"{tenant.slug}: budget {m.budget_id}: rows committed {m.rows.committed}, "
                       f"spent {m.rows.spent}, requests {m.rows.requests}; history committed "
                       f"{m.history.committed}, spent {m.history.spent}, requests "
                       f"{m.history.requests}")
    if differences:
        raise click.ClickException(f"{differences} budget(s) do not add up.")
    click.echo(f"Every budget adds up ({len(tenants)} compan{'y' if len(tenants) == 1 else 'ies'} "
               "checked against their history).")
