"""Background work: due BPMN timers and due webhook deliveries, wherever it runs.

Two runners call the functions here, never both for one deployment:

- the embedded runner (default): threads of each web process, started on the first request
  (``EMBEDDED_TIMERS``), or the ``flask timers run`` / ``flask webhooks deliver`` loops;
- Celery workers (``CELERY_BROKER_URL`` set): the periodic tasks in ``app.tasks`` claim the due
  work and queue one task per timer and per webhook endpoint.

Any number of runners may run at once. A due timer is claimed with a lease (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL) and fired under a check of the instance's version, so it fires exactly
once; a runner that dies mid-way leaves the lease to expire and the timer is claimed again.
Webhook deliveries are claimed one by one with a lease of their own (app.services.webhooks).
"""

import logging
import threading

from flask import current_app

from app.extensions import db
from app.models.base import utcnow
from app.ops import metrics
from app.services import webhooks, workflow
from app.sqlite import writing

log = logging.getLogger(__name__)
RETRY_SECONDS = 600  # a failing instance waits this long, so it cannot starve the others
_lock = threading.Lock()
# The embedded runner of this process while it runs: the event that stops it, and its threads.
_runner: tuple[threading.Event, list[threading.Thread]] | None = None


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


def fire_claimed_timer(claim: workflow.TimerClaim) -> bool:
    """Fire one claimed timer in its own transaction; True if it fired (False: nothing to do,
    or it failed and was postponed by RETRY_SECONDS)."""
    try:
        with writing():
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


def deliver_webhooks(limit: int = 50, endpoint_id: int | None = None) -> int:
    """Send due webhook deliveries (of one endpoint, if given); returns how many were sent."""
    sent = webhooks.deliver_due(limit=limit, endpoint_id=endpoint_id)
    if sent:
        metrics.WEBHOOK_SENDS.inc(sent)
    return sent


def run_pass() -> None:
    """One pass of the runner: timers first, then webhooks; one failing leaves the other be."""
    for job in (run_due_timers, deliver_webhooks):
        try:
            job()
        except Exception:
            log.exception("background %s failed", job.__name__)
        finally:
            db.session.rollback()


def _loop(app, job, stop: threading.Event) -> None:
    interval = app.config["TIMER_POLL_SECONDS"]
    while not stop.wait(interval):
        with app.app_context():
            try:
                job()
            except Exception:
                log.exception("background %s failed", job.__name__)
            finally:
                db.session.remove()


def embedded(app) -> bool:
    """Whether this web process runs the background work itself (no Celery broker set)."""
    return bool(app.config["EMBEDDED_TIMERS"]) and not app.config["CELERY_BROKER_URL"]


def maybe_start_embedded_runner(app) -> None:
    global _runner
    if _runner is not None or app.testing or not embedded(app):
        return
    with _lock:
        if _runner is not None:
            return
        stop = threading.Event()
        # Separate threads: a slow webhook receiver never delays reminders or automatic close.
        threads = [threading.Thread(target=_loop, args=(app, job, stop), name=f"background-{name}",
                                    daemon=True)
                   for name, job in (("timers", run_due_timers), ("webhooks", deliver_webhooks))]
        for thread in threads:
            thread.start()
        _runner = (stop, threads)


def stop_embedded_runner(timeout: float = 30.0) -> bool:
    """Stop this process's embedded runner, if it runs: each thread finishes the pass it is in
    and ends. Waits up to ``timeout`` seconds for each; True when all have ended. A later
    request of an app that runs it starts it again."""
    global _runner
    with _lock:
        if _runner is None:
            return True
        stop, threads = _runner
        stop.set()
        for thread in threads:
            thread.join(timeout)
        _runner = None
    return not any(thread.is_alive() for thread in threads)
