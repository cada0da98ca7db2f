"""``flask attachments sweep``: remove stored files no attachment row names (left by a process
killed between storing a file and its transaction's end, or by a removal that failed)."""

import time

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.attachments import storage
from app.attachments.models import Attachment
from app.extensions import db
from app.tenancy import isolation


def orphans(store, named: set[str], min_age_seconds: float) -> list[str]:
    """The stored files (and leftovers of interrupted writes) no row names, older than
    ``min_age_seconds``."""
    oldest = time.time() - min_age_seconds
    return [key for key, modified in store.entries()
            if key not in named and modified <= oldest]


@click.group("attachments", help="Attachment files.")
def group():
    pass


@group.command("sweep")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option("--min-age-minutes", default=60, show_default=True,
              help="Leave files younger than this (an upload may be finishing).")
@with_appcontext
def sweep(dry_run: bool, min_age_minutes: int):
    """Remove files that no attachment row names."""
    with isolation.platform():  # every company's rows
        named = set()
        for key, thumb in db.session.execute(
                select(Attachment.storage_key, Attachment.thumbnail_key)):
            named.add(key)
            if thumb:
                named.add(thumb)
        found = orphans(storage.current(), named, min_age_minutes * 60)
        for key in found:
            click.echo(f"{'would remove' if dry_run else 'removing'} {key}")
            if not dry_run:
                storage.current().delete_leftover(key)
        db.session.rollback()
    click.echo(f"{len(found)} file(s) without a row{' (dry run)' if dry_run else ''}.")
