"""``flask indicators ...``: keep the figures' rows right and produce reports.

``rebuild`` replays requests' histories through the fold every step runs
(``app.indicators.stages``), in batches of their own short transactions, company by company:
for requests filed before indicators existed, or after a company changed its default business
calendar and wants past lead times measured by the new one.

``report`` writes a company's figures of a period (XLSX, CSV or JSON) for scheduled reports;
``monthly`` queues the monthly summary notice of each company's admins and directors (for
cron, on the first days of a month: once per person and month, however often it runs)."""

import os
import sys
import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.indicators import monthly, report, stages
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


# --- reports -----------------------------------------------------------------------------------

def _report_error(exc: report.ReportError) -> click.ClickException:
    """A bad period is a usage error (exit code 2); an unknown company or person, exit 1."""
    if exc.field == "period":
        return click.BadParameter(str(exc), param_hint="'--period' / '--from' / '--to'")
    return click.ClickException(str(exc))


def _day(value):
    return value.date() if value is not None else None


@group.command("report")
@click.option("--tenant", "slug", required=True, metavar="SLUG", help="The company (its slug).")
@click.option("--period", default=None, metavar="PERIOD",
              help="A month (2026-11), a quarter (2026-Q3), a year (2026) or one of the "
                   "page's presets (last_month, this_year...), as the company's calendar "
                   "reads today. Default: last_month.")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
              metavar="YYYY-MM-DD",
              help="First day (YYYY-MM-DD), with --to, instead of --period.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None,
              metavar="YYYY-MM-DD",
              help="Last day (YYYY-MM-DD), included.")
@click.option("--format", "fmt", type=click.Choice(report.FORMATS), default="xlsx",
              show_default=True,
              help="xlsx: a sheet per section; csv: every section's rows in one file; "
                   "json: what GET /api/v1/indicators answers.")
@click.option("--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="The file to write ('-': standard output). Default: "
                   "indicators-<tenant>-<first day>-<last day>.<format> here.")
@click.option("--as", "email", default=None, metavar="EMAIL",
              help="Whose figures: this person's scope (their e-mail). Default: the "
                   "company's first active tenant admin (the whole company).")
def report_command(slug, period, first, last, fmt, output, email):
    """Write a company's indicators of a period: volumes, rates, lead times in business
    hours, backlog, SLA compliance, workload, cost and satisfaction, named in the company's
    language."""
    try:
        built = report.build(slug, report.period_args(period, _day(first), _day(last)), email)
    except report.ReportError as exc:
        raise _report_error(exc) from None
    if output == "-":
        report.write(built, fmt, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    path = output or f"{built.stem}.{fmt}"
    partial = f"{path}.part"
    try:
        with open(partial, "wb") as out:  # a reader never sees half a file
            report.write(built, fmt, out)
        os.replace(partial, path)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    f = built.filters
    click.echo(f"{path}: indicators of {built.tenant.slug} from {f.start} to {f.end}, "
               f"as {built.person.email}.", err=True)


@group.command("monthly")
@click.option("--period", "month", default=None, metavar="YYYY-MM",
              help="The month (YYYY-MM). Default: each company's last month, as its calendar "
                   "reads today.")
@click.option("--tenant", "slug", default=None, metavar="SLUG",
              help="Only this company (its slug).")
def monthly_command(month, slug):
    """Queue the monthly summary of the indicators (filed, completed, open, on time, SLA
    compliance per target, mean rating, and a link to the month's indicators page) for every
    tenant admin and service director, each with the figures they may see, in their language,
    by the channels they chose (e-mail, in-app...). Once per person and month, however often
    it runs: without Celery, run it from cron on the first days of a month, e.g.
    '15 6 1-3 * * flask indicators monthly'; with Celery the beat does it every hour
    (mesa.indicators_monthly). Suspended companies are skipped."""
    tenants = _tenants(slug)
    try:
        results = monthly.run(tenants, month)
    except report.ReportError as exc:
        raise _report_error(exc) from None
    for sent in results:
        click.echo(f"{sent.slug} {sent.month}: {len(sent.queued)} queued, "
                   f"{len(sent.already)} already told"
                   + (f", {len(sent.skipped)} without indicators" if sent.skipped else ""))
