"""Command-line administration: ``flask seed-demo``, ``flask timers run``,
``flask webhooks deliver``..."""

import time

import click
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Tenant
from app.sqlite import writing


def register_cli(app: Flask) -> None:
    from app.seeding import seed_scale_command

    app.cli.add_command(seed_scale_command)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when a tenant already exists.")
    def seed_demo(if_empty):
        """Create the demo tenants acme and globex (password demo1234 for everyone), with
        hourly rates, this month's budget, office hours and SLA targets for acme's service
        unit."""
        from app.demo import seed

        if if_empty and db.session.scalar(select(Tenant.id).limit(1)) is not None:
            click.echo("Demo data already present; nothing to do.")
            return
        with writing():
            seed(budgets=True, service_levels=True, category_fields=True)
            db.session.commit()
        click.echo("Demo data created: tenants acme and globex, password demo1234.")

    @app.cli.group("timers")
    def timers():
        """Fire due BPMN timers (reminders, automatic close)."""

    @timers.command("run")
    @click.option("--loop", is_flag=True, help="Keep running, polling every --every seconds.")
    @click.option("--every", default=15.0, show_default=True, help="Seconds between passes.")
    def timers_run(loop, every):
        """Fire every due timer once (or keep doing it with --loop)."""
        from app.services.background import run_due_timers

        while True:
            fired = run_due_timers()
            click.echo(f"fired timers on {fired} instance(s)")
            if not loop:
                return
            time.sleep(every)

    @app.cli.group("webhooks")
    def webhooks_group():
        """Send queued webhook deliveries (signed, retried with backoff)."""

    @webhooks_group.command("deliver")
    @click.option("--loop", is_flag=True, help="Keep running, polling every --every seconds.")
    @click.option("--every", default=5.0, show_default=True, help="Seconds between passes.")
    @click.option("--limit", default=50, show_default=True, help="Most deliveries per pass.")
    def webhooks_deliver(loop, every, limit):
        """Send the due deliveries, at most --limit (or keep doing it with --loop)."""
        from app.services.webhooks import deliver_due

        while True:
            sent = deliver_due(limit=limit)
            click.echo(f"sent {sent} webhook delivery(ies)")
            if not loop:
                return
            if sent < limit:  # a full pass means more are waiting: go on at once
                time.sleep(every)
