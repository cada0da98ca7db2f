"""``flask search rebuild``: every request's search document written again from its rows."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import ServiceRequest, Tenant
from app.search import documents
from app.sqlite import writing

group = click.Group("search", help="The search index.")
CHUNK = 5000


def rebuild_all(tenant_id: int | None = None, progress=None) -> int:
    """Rewrite the documents (of one tenant, or all), a chunk per transaction."""
    done, last = 0, 0
    while True:
        with writing():
            stmt = select(ServiceRequest.id).where(ServiceRequest.id > last)
            if tenant_id is not None:
                stmt = stmt.where(ServiceRequest.tenant_id == tenant_id)
            ids = list(db.session.scalars(stmt.order_by(ServiceRequest.id).limit(CHUNK)))
            if not ids:
                db.session.commit()
                return done
            done += documents.rebuild(ids)
            db.session.commit()
        last = ids[-1]
        if progress:
            progress(done)


@group.command("rebuild")
@click.option("--tenant", "slug", help="Only this company (its slug).")
@with_appcontext
def rebuild_command(slug):
    """Write every request's search document again (after an import, or to repair)."""
    from app.tenancy import isolation

    with isolation.owner():
        tenant_id = None
        if slug:
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
            if tenant_id is None:
                raise click.ClickException(f"no company {slug!r}")
        done = rebuild_all(tenant_id, progress=lambda n: click.echo(f"  {n:,} ...", err=True))
    click.echo(f"Search documents written: {done:,}.")
