"""Celery (``CELERY_BROKER_URL`` set): the app built around a Flask app, the periodic
dispatchers and the work they fan out. ``app.celery_app`` is what workers load.

Every ``TIMER_POLL_SECONDS`` the beat schedule runs two dispatchers and the SLA pass:

- ``mesa.dispatch_timers`` claims the due timers (each leased for ``TIMER_LEASE_SECONDS``)
  and queues one ``mesa.fire_timer`` per claim; the claim carries the instance's version, so a
  duplicate or late message finds the version changed and does nothing;
- ``mesa.dispatch_outbox`` queues one ``mesa.deliver_webhooks`` per endpoint with due
  deliveries and one ``mesa.deliver_messages`` per message channel (e-mail, SMS, WhatsApp) with
  due messages; those tasks send them one by one, each claimed with a lease, and stop at the
  first the receiver does not answer. On a Redis broker only one webhook task per endpoint runs
  at a time (a lock in Redis): a slow receiver holds one worker slot, not one more per
  dispatch. Message tasks need no lock: each message is claimed on its own;
- ``mesa.sla_signals`` recomputes the requests admins' SLA edits flagged and sends each due
  warning and breach once (app.sla.signals: each claimed by a conditional UPDATE in its own
  transaction, so two beats, or a beat and ``flask sla signals``, send it once).

``mesa.train_suggestions`` (same interval) trains the learned suggestion of the companies
due one (app.suggestions.training: a "train now" at once, the others found every
SUGGESTIONS_SWEEP_SECONDS; each company claimed with a lease).

``mesa.recurring`` (same interval) files the due occurrences of recurring requests, each
once (app.recurring.runner: a unique row per schedule and occurrence, the schedule claimed
with ``FOR UPDATE SKIP LOCKED``).

Every hour, ``mesa.indicators_monthly`` queues the monthly summary of the indicators for the
admins and directors of companies on the first days of a month (app.indicators.monthly: once
per person and month, by a unique key).

A worker that dies mid-task loses nothing: the claim's lease expires and the next dispatch
claims the work again. Two beats (or a dispatcher run by hand) are harmless too: claims are
atomic. The functions run inside an app context and with the same code as the embedded runner
(app.services.background).
"""

from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlsplit

from celery import Celery, Task, shared_task
from flask import Flask, current_app

from app.extensions import db
from app.indicators import monthly
from app.notifications.channels import MESSAGE_CHANNELS
from app.ops.health import redis_client
from app.outbox import queue
from app.services import background, webhooks
from app.services.workflow import TimerClaim


def make_celery(flask_app: Flask) -> Celery:
    """A Celery app whose tasks run in ``flask_app``'s context, with the beat schedule."""
    broker_url = flask_app.config["CELERY_BROKER_URL"]
    if not broker_url:
        raise RuntimeError("CELERY_BROKER_URL is not set: without it the web processes run "
                           "the background work themselves (EMBEDDED_TIMERS)")

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery = Celery("mesa", broker=broker_url, task_cls=FlaskTask)
    interval = flask_app.config["TIMER_POLL_SECONDS"]
    celery.conf.update(
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        # Claimed work should not sit in a busy worker's prefetch buffer while others idle.
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=flask_app.config["CELERY_BEAT_SCHEDULE_FILE"],
        beat_schedule={
            "mesa.recurring": {"task": "mesa.recurring", "schedule": interval,
                               "options": {"expires": interval}},
            **{name: {"task": name, "schedule": interval, "options": {"expires": interval}}
               for name in ("mesa.dispatch_timers", "mesa.dispatch_outbox",
                            "mesa.sla_signals", "mesa.train_suggestions")},
            "mesa.indicators_monthly": {"task": "mesa.indicators_monthly", "schedule": HOUR,
                                        "options": {"expires": HOUR}},
        },
    )
    celery.set_default()
    flask_app.extensions["celery"] = celery
    return celery


TIMER_BATCH = 500        # most timers claimed per dispatch
HOUR = 3600.0
QUEUE_BATCH = 200        # most endpoints and channels fanned out per dispatch
DELIVERIES_PER_TASK = 50


@shared_task(name="mesa.dispatch_timers")
def dispatch_timers() -> int:
    """Claim the due timers and queue one task per claim; returns how many were queued."""
    lease = current_app.config["TIMER_LEASE_SECONDS"]
    claims = background.claim_due_timers(TIMER_BATCH)
    for claim in claims:
        # A message older than the lease is stale: the timer may have been claimed again.
        fire_timer.apply_async((claim.instance_id, claim.version, claim.due_at.isoformat(),
                                claim.tenant_id), expires=lease)
    return len(claims)


@shared_task(name="mesa.fire_timer")
def fire_timer(instance_id: int, version: int, due_at: str, tenant_id: int | None = None) -> bool:
    """Fire one claimed timer (nothing happens if its instance moved on since the claim)."""
    return background.fire_claimed_timer(
        TimerClaim(instance_id, version, datetime.fromisoformat(due_at), tenant_id))


@shared_task(name="mesa.sla_signals")
def sla_signals() -> int:
    """Recompute flagged requests, then send the due SLA warnings and breaches, each once;
    returns how many were sent."""
    return background.run_sla_signals()


@shared_task(name="mesa.train_suggestions")
def train_suggestions() -> int:
    """Train the learned suggestion of the companies due one (each claimed with a lease, so
    two workers never train one company at once); returns how many were trained."""
    return background.train_suggestions()


@shared_task(name="mesa.recurring")
def recurring() -> int:
    """File the due occurrences of recurring requests, each once whatever the number of
    beats and workers (app.recurring.runner); returns how many were filed."""
    return background.run_recurring()


@shared_task(name="mesa.indicators_monthly")
def indicators_monthly() -> int:
    """The monthly summary of the indicators, for companies on their first days of a month;
    returns how many notices were queued."""
    return sum(len(sent.queued) for sent in monthly.scheduled())


@shared_task(name="mesa.dispatch_outbox")
def dispatch_outbox() -> int:
    """Queue one delivery task per webhook endpoint and per message channel with due rows;
    returns how many."""
    queues = queue.due_queues(("webhook", *MESSAGE_CHANNELS), QUEUE_BATCH)
    db.session.rollback()
    expires = max(current_app.config["TIMER_POLL_SECONDS"] * 2, 5)
    for channel, endpoint_id in queues:
        if channel == "webhook":
            deliver_webhooks.apply_async((endpoint_id,), expires=expires)
        else:
            deliver_messages.apply_async((channel,), expires=expires)
    return len(queues)


@shared_task(name="mesa.deliver_webhooks")
def deliver_webhooks(endpoint_id: int) -> int:
    """Send the endpoint's due deliveries (at most DELIVERIES_PER_TASK); returns how many.
    Returns 0 at once when another worker is sending to the same endpoint."""
    with endpoint_slot(endpoint_id) as ours:
        if not ours:
            return 0
        return background.deliver_webhooks(limit=DELIVERIES_PER_TASK, endpoint_id=endpoint_id)


@shared_task(name="mesa.deliver_messages")
def deliver_messages(channel: str) -> int:
    """Send the channel's due messages (at most DELIVERIES_PER_TASK); returns how many."""
    if channel not in MESSAGE_CHANNELS:
        return 0
    return background.deliver_messages(limit=DELIVERIES_PER_TASK, channel=channel)


@contextmanager
def endpoint_slot(endpoint_id: int):
    """Yields whether this worker may send to the endpoint now: a Redis lock per endpoint,
    held for at most a delivery's lease (``webhooks.lease_seconds``: never shorter than a send,
    so the lock cannot expire mid-send; a worker that dies holding it delays that endpoint's
    deliveries by that long, as a delivery's own lease does). Other brokers have no lock:
    deliveries stay single (each is leased), a slow receiver just takes more slots."""
    url = current_app.config["CELERY_BROKER_URL"] or ""
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        yield True
        return
    from redis.exceptions import LockError

    lock = redis_client(url).lock(f"mesa:webhooks:endpoint:{endpoint_id}",
                                  timeout=webhooks.lease_seconds(),
                                  blocking=False)
    if not lock.acquire():
        yield False
        return
    try:
        yield True
    finally:
        try:
            lock.release()
        except LockError:
            pass  # held longer than its timeout: it expired, maybe another took it since
