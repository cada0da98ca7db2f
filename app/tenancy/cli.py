"""``flask tenants create|list|show|suspend|resume|set-plan|delete``: the platform operators'
commands. Each runs in one transaction: a refusal (exit status 1, the reason on stderr)
changes nothing."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Tenant
from app.sqlite import writing
from app.tenancy import operators, quotas
from app.tenancy.operators import OperatorError
from app.tenancy.plans import DEFAULT_PLAN, PLANS, plan_of

group = AppGroup("tenants", help="Companies on this installation: create one ready to work, "
                                 "list them, show one with its usage, suspend, resume, change "
                                 "its plan, delete it.")


def _fail(error: Exception):
    db.session.rollback()
    raise click.ClickException(str(error))


def _limit(value) -> str:
    return "unlimited" if value is None else str(value)


@group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The company's name, as its people see it.")
@click.option("--admin-email", required=True, help="Its first administrator's e-mail: they "
                                                    "get an invitation to set their password.")
@click.option("--admin-name", required=True, help="The administrator's full name.")
@click.option("--plan", default=DEFAULT_PLAN, show_default=True,
              help=f"One of: {', '.join(PLANS)}.")
@click.option("--language", default="es", show_default=True, help="es or en: the company's "
              "language (and its starting units' and categories' names).")
@click.option("--timezone", default="America/Bogota", show_default=True,
              help="IANA time zone (months of the requests quota start at its midnight).")
def create(slug, name, admin_email, admin_name, plan, language, timezone):
    """Create the company SLUG (its address name: lowercase letters, digits, hyphens), with
    the default process, a service unit, an operating unit, default categories and its first
    administrator, who is invited by e-mail."""
    try:
        with writing():
            made = operators.create(slug, name=name, admin_email=admin_email,
                                    admin_name=admin_name, plan=plan, language=language,
                                    timezone=timezone)
            db.session.commit()
    except OperatorError as exc:
        _fail(exc)
    tenant = made.tenant
    click.echo(f"Created company '{tenant.slug}' ({tenant.name}), plan {tenant.plan}.")
    click.echo(f"  Administrator: {made.admin.name} <{made.admin.email}>")
    from app.notifications.channels import configured

    if configured()["email"] is None:
        click.echo(f"  The invitation is e-mailed to {made.admin.email} (by the background "
                   "worker, or 'flask notifications deliver').")
        return
    click.echo("  E-mail is not configured (SMTP_HOST): give the administrator this link "
               "yourself; it is valid for "
               f"{current_app.config.get('INVITE_LINK_HOURS', 72)} hours and works once:")
    click.echo(f"  Invitation link: {made.invitation_url}")


@group.command("list")
def list_tenants():
    """A table of every company: slug, name, plan, status, active users, requests."""
    tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))
    if not tenants:
        click.echo("No companies yet. Create one with 'flask tenants create'.")
        return
    rows = [("SLUG", "NAME", "PLAN", "STATUS", "USERS", "REQUESTS")]
    for tenant in tenants:
        counts = operators.summary(tenant)
        rows.append((tenant.slug, tenant.name[:40], tenant.plan, tenant.status,
                     str(counts["users"]), str(counts["requests"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) if i < 4 else cell.rjust(width)
                             for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
                   .rstrip())


@group.command("show")
@click.argument("slug")
def show(slug):
    """Details of the company SLUG and its usage against its plan."""
    try:
        tenant = operators.find(slug)
    except OperatorError as exc:
        _fail(exc)
    plan = plan_of(tenant)
    click.echo(f"{tenant.slug}: {tenant.name}")
    click.echo(f"  Status:    {tenant.status}")
    if tenant.status == "suspended":
        click.echo(f"  Suspended: {tenant.suspended_at:%Y-%m-%d %H:%M} UTC, reason: "
                   f"{tenant.suspended_reason}")
    click.echo(f"  Plan:      {plan.key}")
    click.echo(f"  Language:  {tenant.locale}   Time zone: {tenant.timezone}")
    click.echo(f"  Created:   {tenant.created_at:%Y-%m-%d %H:%M} UTC")
    click.echo("  Usage:")
    for limit, row in quotas.usage(tenant).items():
        if limit == "api_access":
            click.echo(f"    {limit:<20} {'yes' if row['allowed'] else 'no'}")
        else:
            flag = "  OVER THE LIMIT" if row["over"] else ""
            click.echo(f"    {limit:<20} {row['used']} of {_limit(row['allowed'])}{flag}")


@group.command("suspend")
@click.argument("slug")
@click.option("--reason", required=True,
              help="Why; the company's people read it on every page.")
def suspend(slug, reason):
    """Suspend the company SLUG: its people see a page saying why, its API answers 403, its
    timers and messages wait. Nothing of its data is lost; 'resume' restores everything."""
    try:
        with writing():
            tenant = operators.suspend(slug, reason)
            db.session.commit()
    except OperatorError as exc:
        _fail(exc)
    click.echo(f"Suspended '{tenant.slug}': {tenant.suspended_reason}")


@group.command("resume")
@click.argument("slug")
def resume(slug):
    """Resume the suspended company SLUG: everything works again as before."""
    try:
        with writing():
            tenant = operators.resume(slug)
            db.session.commit()
    except OperatorError as exc:
        _fail(exc)
    click.echo(f"Resumed '{tenant.slug}'.")


@group.command("set-plan")
@click.argument("slug")
@click.argument("plan")
@click.option("--force", is_flag=True, help="Change it even when the company already uses "
                                            "more than the new plan allows.")
def set_plan(slug, plan, force):
    """Move the company SLUG to PLAN. Refused when its usage already passes PLAN's limits
    (each is listed) unless --force: nothing is removed then, only new additions are refused."""
    try:
        with writing():
            tenant, over, losing_api = operators.set_plan(slug, plan, force=force)
            db.session.commit()
    except OperatorError as exc:
        _fail(exc)
    click.echo(f"'{tenant.slug}' is now on the plan '{tenant.plan}'.")
    for limit, allowed, used in over:
        click.echo(f"  Warning: {limit} is {used}, over the new limit of {allowed}; new "
                   "additions are refused until it is under it.", err=True)
    if losing_api:
        click.echo("  Warning: this plan has no API access; the company's API tokens are "
                   "refused from now on.", err=True)


@group.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask to type the slug again.")
def delete(slug, yes):
    """Delete the company SLUG and every row of it (people, requests, history, audit...).
    This cannot be undone. It runs as the database URL's user (the tables' owner), since the
    app's role may not delete history."""
    try:
        tenant = operators.find(slug)
    except OperatorError as exc:
        _fail(exc)
    counts = operators.summary(tenant)
    if not yes:
        click.echo(f"This deletes '{tenant.slug}' ({tenant.name}) with its {counts['users']} "
                   f"active people and {counts['requests']} requests, forever.")
        typed = click.prompt("Type the slug to confirm", default="", show_default=False)
        if typed.strip() != tenant.slug:
            db.session.rollback()
            raise click.ClickException("The slug typed does not match; nothing was deleted.")
    deleted = operators.delete_tenant(tenant.slug)
    current_app.logger.warning("tenant %s deleted by an operator: %s", slug, deleted)
    rows = sum(deleted.values())
    click.echo(f"Deleted '{slug}': {rows} rows in {len(deleted)} tables.")
