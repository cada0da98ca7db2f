"""Prometheus metrics, served at /metrics (see app.ops.views).

Two kinds:

- counted by the process that does the work: request latency (every web request), human task
  completions (counted when their transaction commits, whatever the path: pages, API), timers
  fired and their lag, webhook sends. With several processes (gunicorn workers, Celery's
  prefork children) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by the
  processes of one machine: each writes its samples there and /metrics adds them up
  (prometheus_client's multiprocess mode);
- read from the database when /metrics is scraped: due timers not yet fired, the age of the
  oldest one, pending and due webhook deliveries. These are the same whichever node is asked.
"""

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import case, event, func, inspect, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import HumanTask, OutboxMessage, ProcessInstance
from app.models.base import utcnow
from app.outbox.models import CHANNELS

HTTP_LATENCY = Histogram(
    "mesa_http_request_duration_seconds", "Time to answer a request, by endpoint and status",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
TASK_COMPLETIONS = Counter(
    "mesa_task_completions", "Human tasks completed (committed), by the task's role", ["role"])
TIMERS = Counter(
    "mesa_timers", "Claimed timers by outcome: fired; skipped (the instance moved on since the "
    "claim, or the claim fired already); failed (postponed)", ["outcome"])
TIMER_LAG = Histogram(
    "mesa_timer_lag_seconds", "Seconds from a timer's due time to its firing",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600))
WEBHOOK_SENDS = Counter("mesa_webhook_sends", "Webhook delivery attempts made")
MESSAGE_SENDS = Counter("mesa_message_sends", "E-mail, SMS and WhatsApp delivery attempts made")

_PENDING = "mesa_completed_roles"
_hooks_installed = False


class QueueCollector:
    """Queue depths read from the database at scrape time (two indexed aggregate queries)."""

    def collect(self):
        from app.tenancy import isolation

        with isolation.platform():  # the queues of every tenant
            yield from self._collect()

    def _collect(self):
        now = utcnow()
        due, oldest = db.session.execute(
            select(func.count(), func.min(ProcessInstance.next_timer_at))
            .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now)
        ).one()
        rows = db.session.execute(
            select(OutboxMessage.channel, func.count(),
                   func.coalesce(func.sum(case((OutboxMessage.next_attempt_at <= now, 1),
                                               else_=0)), 0))
            .where(OutboxMessage.status == "pending")
            .group_by(OutboxMessage.channel))
        by_channel = {channel: (waiting, due_now) for channel, waiting, due_now in rows}
        db.session.rollback()
        pending, due_deliveries = by_channel.get("webhook", (0, 0))
        yield GaugeMetricFamily("mesa_timers_due", "Timers due and not yet fired or claimed",
                                value=due)
        yield GaugeMetricFamily(
            "mesa_timers_oldest_due_seconds",
            "How long the oldest due timer has waited (0 when none is due)",
            value=(now - oldest).total_seconds() if oldest else 0.0)
        yield GaugeMetricFamily("mesa_webhook_deliveries_pending",
                                "Webhook deliveries not yet delivered or failed", value=pending)
        yield GaugeMetricFamily("mesa_webhook_deliveries_due",
                                "Pending webhook deliveries whose time has come",
                                value=due_deliveries)
        outbox_pending = GaugeMetricFamily(
            "mesa_outbox_pending", "Outbox messages not yet delivered or given up, by channel",
            labels=["channel"])
        outbox_due = GaugeMetricFamily(
            "mesa_outbox_due", "Pending outbox messages whose time has come, by channel",
            labels=["channel"])
        for channel in CHANNELS:
            waiting, due_now = by_channel.get(channel, (0, 0))
            outbox_pending.add_metric([channel], waiting)
            outbox_due.add_metric([channel], due_now)
        yield outbox_pending
        yield outbox_due


def render() -> bytes:
    """The exposition text: this process's (or, in multiprocess mode, this machine's) samples,
    then the queue depths from the database."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        samples = generate_latest(registry)
    else:
        samples = generate_latest(REGISTRY)
    queues = CollectorRegistry(auto_describe=False)
    queues.register(QueueCollector())
    return samples + generate_latest(queues)


def _after_flush(session, _flush_context) -> None:
    for obj in session.dirty:
        if isinstance(obj, HumanTask) and "completed" in inspect(obj).attrs.status.history.added:
            session.info.setdefault(_PENDING, []).append(obj.role)


def _after_commit(session) -> None:
    for role in session.info.pop(_PENDING, ()):
        TASK_COMPLETIONS.labels(role).inc()


def _after_rollback(session) -> None:
    session.info.pop(_PENDING, None)


def install_session_hooks() -> None:
    """Count task completions when they commit (a completion that rolls back is not counted)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
