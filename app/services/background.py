"""The embedded background runner: each pass fires due BPMN timers and sends due webhooks.

It runs in a thread of each web process (EMBEDDED_TIMERS); ``flask timers run`` and
``flask webhooks deliver`` do the same work from the command line. Safe with several processes:
each timer's instance is claimed with a row lock and a version check, each webhook delivery with
a lease (see app.services.webhooks).
"""

import logging
import threading
import time

from app.extensions import db
from app.services import webhooks, workflow
from app.sqlite import writing

log = logging.getLogger(__name__)
_started = False
RETRY_SECONDS = 600  # a failing instance waits this long, so it cannot starve the others
_lock = threading.Lock()


def run_due_timers(limit: int = 100) -> int:
    """Fire every due timer once; each instance in its own transaction. Returns how many fired."""
    fired = 0
    ids = workflow.due_instance_ids(limit=limit)
    db.session.rollback()
    for instance_id in ids:
        try:
            with writing():
                if workflow.fire_timers(instance_id):
                    fired += 1
                db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("timer of instance %s failed; retrying in %s s", instance_id,
                          RETRY_SECONDS)
            with writing():
                workflow.postpone_timers(instance_id, RETRY_SECONDS)
                db.session.commit()
    return fired


def run_pass() -> None:
    """One pass of the runner: timers first, then webhooks; one failing leaves the other be."""
    for job in (run_due_timers, webhooks.deliver_due):
        try:
            job()
        except Exception:
            log.exception("background %s failed", job.__name__)
        finally:
            db.session.rollback()


def _loop(app, job) -> None:
    interval = app.config["TIMER_POLL_SECONDS"]
    while True:
        time.sleep(interval)
        with app.app_context():
            try:
                job()
            except Exception:
                log.exception("background %s failed", job.__name__)
            finally:
                db.session.remove()


def maybe_start_embedded_runner(app) -> None:
    global _started
    if _started or not app.config["EMBEDDED_TIMERS"] or app.testing:
        return
    with _lock:
        if _started:
            return
        _started = True
        # Separate threads: a slow webhook receiver never delays reminders or automatic close.
        for name, job in (("timers", run_due_timers), ("webhooks", webhooks.deliver_due)):
            threading.Thread(target=_loop, args=(app, job), name=f"background-{name}",
                             daemon=True).start()
