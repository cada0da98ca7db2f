"""Background work: due BPMN timers, SLA warnings and breaches, and the outbox (webhooks and
messages), wherever it runs.

Two runners call the functions here, never both for one deployment:

- the embedded runner (default): threads of each web process, started on the first request
  (``EMBEDDED_TIMERS``), or the ``flask timers run`` / ``flask webhooks deliver`` /
  ``flask notifications deliver`` loops;
- Celery workers (``CELERY_BROKER_URL`` set): the periodic tasks in ``app.tasks`` claim the due
  work and queue one task per timer, per webhook endpoint and per message channel.

Any number of runners may run at once. A due timer is claimed with a lease (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL) and fired under a check of the instance's version, so it fires exactly
once; a runner that dies mid-way leaves the lease to expire and the timer is claimed again.
Outbox rows (webhook deliveries, e-mails, SMS, WhatsApp messages) are claimed one by one with a
lease of their own (app.outbox.queue). An SLA clock's warning and breach are claimed once each
by a conditional UPDATE in the transaction that writes them (app.sla.signals).

The embedded runner survives its own faults: its loops outlive any error of a pass, and a thread
that ends all the same is started again by the next request (``maybe_start_embedded_runner``).
"""

import logging
import threading
from dataclasses import dataclass, field

from flask import current_app

from app.extensions import db
from app.models.base import utcnow
from app.notifications import delivery  # noqa: F401 (registers the message channels)
from app.notifications.channels import MESSAGE_CHANNELS
from app.ops import metrics
from app.outbox import queue
from app.services import webhooks, workflow
from app.sla import signals as sla_signals
from app.sqlite import writing
from app.tenancy import isolation

log = logging.getLogger(__name__)
RETRY_SECONDS = 600  # a failing instance waits this long, so it cannot starve the others
_lock = threading.Lock()
# The embedded runner of this process while it runs: the event that stops it, and its threads.
_runner: "_Runner | None" = None


def claim_due_timers(limit: int = 100) -> list[workflow.TimerClaim]:
    """Lease up to ``limit`` due timers in a short transaction of their own."""
    db.session.rollback()
    with writing():
        try:
            claims = workflow.claim_due_timers(current_app.config["TIMER_LEASE_SECONDS"],
                                               limit=limit)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return claims


def _scope_of(tenant_id: int | None):
    """An item's work sees its tenant's rows only (claims made before tenants were recorded on
    them: every tenant's, as then)."""
    return isolation.platform() if tenant_id is None else isolation.tenant(tenant_id)


def fire_claimed_timer(claim: workflow.TimerClaim) -> bool:
    """Fire one claimed timer in its own transaction; True if it fired (False: nothing to do,
    or it failed and was postponed by RETRY_SECONDS)."""
    try:
        with _scope_of(claim.tenant_id), writing():
            fired = workflow.fire_timers(claim)
            db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("timer of instance %s failed; retrying in %s s", claim.instance_id,
                      RETRY_SECONDS)
        with writing():
            workflow.postpone_timers(claim, RETRY_SECONDS)
            db.session.commit()
        metrics.TIMERS.labels("failed").inc()
        return False
    if fired:
        metrics.TIMERS.labels("fired").inc()
        metrics.TIMER_LAG.observe(max((utcnow() - claim.due_at).total_seconds(), 0.0))
    else:
        metrics.TIMERS.labels("skipped").inc()
    return fired


def run_due_timers(limit: int = 100) -> int:
    """Claim the due timers, then fire each once. Returns how many fired."""
    return sum(fire_claimed_timer(claim) for claim in claim_due_timers(limit))


def run_sla_signals(limit: int = 500) -> int:
    """Recompute what admins' SLA edits flagged, then send each due warning and breach once
    (app.sla.signals); returns how many were sent."""
    sent = sla_signals.run(limit=limit)
    db.session.rollback()
    return sent


def deliver_webhooks(limit: int = 50, endpoint_id: int | None = None) -> int:
    """Send due webhook deliveries (of one endpoint, if given); returns how many were sent."""
    sent = webhooks.deliver_due(limit=limit, endpoint_id=endpoint_id)
    if sent:
        metrics.WEBHOOK_SENDS.inc(sent)
    return sent


def deliver_messages(limit: int = 50, channel: str | None = None) -> int:
    """Send due e-mails, SMS and WhatsApp messages (of one channel, if given); returns how many
    were tried."""
    sent = queue.deliver_due((channel,) if channel else MESSAGE_CHANNELS, limit=limit)
    if sent:
        metrics.MESSAGE_SENDS.inc(sent)
    return sent


def train_suggestions(limit: int = 2) -> int:
    """Train the learned suggestion of the companies due one (app.suggestions.training: each
    claimed with a lease, trained on its own requests only); returns how many were trained."""
    from app.suggestions import training

    return training.run(limit=limit)


def run_recurring(limit: int = 100) -> int:
    """File the due occurrences of recurring requests, each once (app.recurring.runner);
    returns how many were filed."""
    from app.recurring.runner import run_due

    return run_due(limit=limit)


def run_pass() -> None:
    """One pass of the runner: timers, SLA signals, recurring requests, webhooks, then
    messages; one failing leaves the others."""
    for job in (run_due_timers, run_sla_signals, run_recurring, deliver_webhooks,
                deliver_messages, train_suggestions):
        try:
            job()
        except Exception:
            log.exception("background %s failed", job.__name__)
        finally:
            db.session.rollback()


def _loop(app, job, stop: threading.Event) -> None:
    """Run ``job`` every TIMER_POLL_SECONDS until ``stop`` is set. Nothing a pass raises ends
    the loop: not the job, not ending the pass's session or app context (a rollback on a
    connection the database server has just closed), so the next pass always comes."""
    interval = app.config["TIMER_POLL_SECONDS"]
    while not stop.wait(interval):
        try:
            with app.app_context():
                try:
                    job()
                finally:
                    db.session.remove()
        except Exception:
            log.exception("background %s failed", job.__name__)


def embedded(app) -> bool:
    """Whether this web process runs the background work itself (no Celery broker set)."""
    return bool(app.config["EMBEDDED_TIMERS"]) and not app.config["CELERY_BROKER_URL"]


def _jobs() -> dict:
    """The runner's threads by name, with the job each runs. Separate threads: a slow webhook
    receiver never delays reminders, automatic closes, SLA warnings or e-mails."""
    return {"background-timers": run_due_timers, "background-sla": run_sla_signals,
            "background-recurring": run_recurring,
            "background-webhooks": deliver_webhooks, "background-messages": deliver_messages,
            # seconds of CPU now and then: apart, so it never delays the others
            "background-suggestions": train_suggestions}


@dataclass
class _Runner:
    stop: threading.Event
    threads: dict[str, threading.Thread] = field(default_factory=dict)

    def running(self) -> bool:
        return all(thread.is_alive() for thread in self.threads.values())


def maybe_start_embedded_runner(app) -> None:
    """Start this process's runner on its first request, and start again any of its threads
    that has ended since: each request checks (one ``is_alive`` per thread), so a thread that
    died (an exception its loop does not catch, such as SystemExit, or a bug in the loop
    itself) costs at most the time until the next request, not the process's life. Work the
    dead thread had claimed waits for its lease (TIMER_LEASE_SECONDS, WEBHOOK_LEASE_SECONDS)."""
    runner = _runner
    if runner is not None and runner.running():
        return
    if app.testing or not embedded(app):
        return
    with _lock:
        _supervise(app)


def _supervise(app) -> None:
    """Start the runner, or the threads of it that are not alive (the caller holds _lock)."""
    global _runner
    if _runner is None:
        _runner = _Runner(threading.Event())
    for name, job in _jobs().items():
        thread = _runner.threads.get(name)
        if thread is not None and thread.is_alive():
            continue
        if thread is not None:
            log.error("background thread %s had ended; starting it again", name)
        thread = threading.Thread(target=_loop, args=(app, job, _runner.stop), name=name,
                                  daemon=True)
        thread.start()
        _runner.threads[name] = thread


def stop_embedded_runner(timeout: float = 30.0) -> bool:
    """Stop this process's embedded runner, if it runs: each thread finishes the pass it is in
    and ends. Waits up to ``timeout`` seconds for each; True when all have ended. A later
    request of an app that runs it starts it again."""
    global _runner
    with _lock:
        if _runner is None:
            return True
        runner, _runner = _runner, None
        runner.stop.set()
        threads = list(runner.threads.values())
        for thread in threads:
            thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)
