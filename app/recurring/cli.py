"""``flask recurring run [--loop] [--now ISO]``: file the due occurrences of recurring
schedules (what the embedded runner and Celery beat do every TIMER_POLL_SECONDS)."""

import time
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

group = AppGroup("recurring", help="Recurring requests: file the due occurrences.")


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("an ISO date and time, e.g. 2026-12-07T14:00:00+00:00") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@group.command("run")
@click.option("--loop", is_flag=True, help="Keep running, polling every --every seconds.")
@click.option("--every", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--limit", default=100, show_default=True, help="Most schedules per pass.")
@click.option("--now", "now", default=None,
              help="File what is due at this instant instead of the clock's (ISO; UTC if no "
                   "offset): to try a schedule out.")
def run(loop, every, limit, now):
    """File every due occurrence, each once (any number of runners may run at once)."""
    from app.recurring.runner import run_due

    moment = _instant(now)
    while True:
        filed = run_due(moment, limit=limit)
        click.echo(f"filed {filed} recurring request(s)")
        if not loop:
            return
        time.sleep(every)
