"""Claiming due timers: a lease per claim and the instance's version make every timer fire
exactly once, with runners racing, dying after a claim, or arriving late; the Celery tasks use
the same claims (run eagerly here, on the suite's database)."""

import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from prometheus_client import REGISTRY

from app.extensions import db
from app.models import HistoryEvent, ProcessInstance
from app.services import workflow
from app.services.background import claim_due_timers, fire_claimed_timer, run_due_timers
from app.sqlite import writing
from tests.factories import open_task, request_at, user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=48)
LEASE = 120  # the default TIMER_LEASE_SECONDS


def reminders(req) -> int:
    db.session.rollback()
    return db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                    action="reminder_sent").count()


def instance_of(req) -> ProcessInstance:
    db.session.rollback()
    return db.session.query(ProcessInstance).filter_by(request_id=req.id).one()


def sample(name, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_claim_leases_the_timer_and_fires_it_once(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_Authorize")
        assert claim_due_timers() == []                      # not due yet
        clock.move_to(DUE + timedelta(minutes=1))
        (claim,) = claim_due_timers()
        assert (claim.instance_id, claim.due_at) == (instance_of(req).id, DUE)
        assert instance_of(req).next_timer_at == DUE + timedelta(minutes=1, seconds=LEASE)
        assert claim_due_timers() == []                      # leased: nobody else takes it
        fired_before = sample("mesa_timers_total", outcome="fired")
        lag_before = sample("mesa_timer_lag_seconds_sum")
        assert fire_claimed_timer(claim) is True
        assert fire_claimed_timer(claim) is False            # the same message again
        assert reminders(req) == 1
        assert instance_of(req).next_timer_at is None
        assert sample("mesa_timers_total", outcome="fired") == fired_before + 1
        assert sample("mesa_timer_lag_seconds_sum") == pytest.approx(lag_before + 60)


def test_a_runner_that_dies_after_claiming_leaves_the_timer_to_another(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_Authorize")
        clock.move_to(DUE + timedelta(seconds=1))
        (lost,) = claim_due_timers()                          # ...and its runner dies
        clock.move_to(DUE + timedelta(seconds=LEASE - 1))
        assert run_due_timers() == 0                          # the lease still holds
        clock.move_to(DUE + timedelta(seconds=LEASE + 2))
        assert run_due_timers() == 1                          # claimed again, fired
        assert fire_claimed_timer(lost) is False              # the dead runner's late message
        assert run_due_timers() == 0
        assert reminders(req) == 1


def test_a_step_taken_after_the_claim_makes_the_claim_stale(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, task = request_at("Task_Authorize")
        clock.move_to(DUE + timedelta(seconds=5))
        (claim,) = claim_due_timers()
        with writing():
            workflow.complete(user("jefe.finanzas@acme.test"), task, "authorize",
                              {"decision": "authorize"})
            db.session.commit()
        assert fire_claimed_timer(claim) is False
        assert reminders(req) == 0                            # authorized: no reminder due
        assert claim_due_timers() == []


def test_two_workers_racing_on_one_claim_fire_it_once(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_Authorize")
        clock.move_to(DUE + timedelta(seconds=5))
        (claim,) = claim_due_timers()
        # The dispatcher queued it twice (or two dispatchers claimed in turn): both run at once.
        barrier = threading.Barrier(2)
        fired = [None, None]

        def work(index):
            with app.app_context():
                barrier.wait()
                fired[index] = fire_claimed_timer(claim)
                db.session.remove()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(fired) == [False, True]
        assert reminders(req) == 1


def test_claims_take_the_oldest_first_and_respect_the_limit(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        first, _ = request_at("Task_Authorize")
        clock.move_to(T0 + timedelta(minutes=10))
        second, _ = request_at("Task_Authorize")
        clock.move_to(T0 + timedelta(days=3))
        (claim,) = claim_due_timers(limit=1)
        assert claim.instance_id == instance_of(first).id
        (claim,) = claim_due_timers(limit=1)
        assert claim.instance_id == instance_of(second).id


@pytest.fixture
def eager_celery(app, monkeypatch):
    """The Celery app built from the test app, running tasks inline (no broker needed)."""
    from app.tasks import make_celery

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "memory://")
    celery = make_celery(app)
    celery.conf.task_always_eager = True
    yield celery
    app.extensions.pop("celery", None)


def test_the_celery_dispatcher_claims_and_fires_each_timer_once(app, demo, eager_celery):
    from app import tasks

    with time_machine.travel(T0, tick=False) as clock:
        waiting, _ = request_at("Task_Authorize")
        unconfirmed, _ = request_at("Task_Confirm")
        clock.move_to(T0 + timedelta(days=8))
        assert tasks.dispatch_timers() == 2
        assert tasks.dispatch_timers() == 0
        assert reminders(waiting) == 1
        db.session.refresh(unconfirmed)
        assert unconfirmed.ticket.status == "closed"
        assert db.session.query(HistoryEvent).filter_by(
            request_id=unconfirmed.id, action="auto_closed").count() == 1
        # a message delivered twice by the broker does nothing the second time
        claim_version = instance_of(waiting).version - 1
        assert tasks.fire_timer(instance_of(waiting).id, claim_version, DUE.isoformat()) is False
        assert open_task(waiting, "Task_Authorize") is not None


def test_the_celery_dispatcher_fans_webhooks_out_per_endpoint(app, demo, eager_celery,
                                                               monkeypatch):
    from app import tasks
    from tests.api.test_webhooks import Receiver, register

    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    receiver = Receiver()
    try:
        register(receiver, events=["request.filed"])
        request_at("Task_Authorize")
        request_at("Task_Authorize")
        assert tasks.dispatch_outbox() == 1               # one endpoint, two deliveries
        assert [p["event"] for p in receiver.accepted()] == ["request.filed"] * 2
        assert tasks.dispatch_outbox() == 0
    finally:
        receiver.close()


def test_one_worker_at_a_time_sends_to_an_endpoint(app, demo, eager_celery, monkeypatch):
    """On a Redis broker a slow receiver holds one worker slot: a second delivery task for the
    same endpoint returns at once while the first one sends."""
    from app import tasks
    from app.models import WebhookEndpoint
    from app.ops.health import redis_client
    from tests.api.test_webhooks import Receiver, register
    from tests.multinode.servers import redis_server

    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as workdir, redis_server(Path(workdir)) as url:
        monkeypatch.setitem(app.config, "CELERY_BROKER_URL", url)
        try:
            register(receiver, events=["request.filed"])
            request_at("Task_Authorize")
            endpoint_id = db.session.query(WebhookEndpoint.id).scalar()
            sending = redis_client(url).lock(f"mesa:webhooks:endpoint:{endpoint_id}",
                                             timeout=60)
            assert sending.acquire(blocking=False)  # another worker is sending to it
            assert tasks.deliver_webhooks(endpoint_id) == 0
            assert receiver.accepted() == []
            sending.release()
            assert tasks.deliver_webhooks(endpoint_id) == 1
            assert [p["event"] for p in receiver.accepted()] == ["request.filed"]
            assert sending.acquire(blocking=False)  # the task gave the slot back
            sending.release()
        finally:
            receiver.close()


def test_make_celery_needs_a_broker(app):
    from app.tasks import make_celery

    assert not app.config["CELERY_BROKER_URL"]
    with pytest.raises(RuntimeError, match="CELERY_BROKER_URL"):
        make_celery(app)

