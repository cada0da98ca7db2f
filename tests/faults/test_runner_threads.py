"""The embedded runner survives its threads' faults, on PostgreSQL: an app built like a web
process (no Celery broker, not in testing mode) runs the runner's threads in this process, and
the test makes them fail or die at known points.

- A pass that raises (in its job, or while ending its session) does not end its thread.
- A thread that dies mid-fire (a timer claimed, its step taken but not committed) is started
  again by the next request; the timer's lease (TIMER_LEASE_SECONDS) expires, it is claimed
  again and fires exactly once.
- A thread that dies between sending a webhook and recording it is started again; after the
  delivery's lease (WEBHOOK_LEASE_SECONDS, at least 25 s) the delivery is sent again with the
  same idempotency key and recorded once, as delivered, after two attempts.
"""

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db
from app.models import HistoryEvent, OutboxMessage, ProcessInstance, Tenant, WebhookEndpoint
from app.models.base import utcnow
from app.outbox import queue
from app.services import background, webhooks, workflow
from tests.faults.clients import PASSWORD
from tests.multinode.servers import wait_until
from tests.receiver import Receiver

WEBHOOKS = OutboxMessage.channel == "webhook"  # the outbox rows that are webhook deliveries

pytestmark = pytest.mark.faults

TIMER_LEASE_SECONDS = 2
WEBHOOK_LEASE_SECONDS = 25  # the least webhooks.lease_seconds allows


@pytest.fixture
def web(database_url, monkeypatch):
    """A web process's app on a fresh database, its runner stopped afterwards."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    app = create_app({
        "TESTING": False, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "faults",
        "EMBEDDED_TIMERS": True, "CELERY_BROKER_URL": "", "TIMER_POLL_SECONDS": 0.2,
        "TIMER_LEASE_SECONDS": TIMER_LEASE_SECONDS,
        "WEBHOOK_LEASE_SECONDS": WEBHOOK_LEASE_SECONDS,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
    })
    with app.app_context():
        yield app
        assert background.stop_embedded_runner(timeout=30)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def runner_thread(name: str) -> threading.Thread | None:
    return next((t for t in threading.enumerate()
                 if t.name == f"background-{name}" and t.is_alive()), None)


def file_request(app) -> int:
    """File a request through the API (the first request also starts the runner)."""
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"email": "ana@acme.test",
                                                "password": PASSWORD}).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    categories = client.get("/api/v1/categories?per_page=100", headers=auth).json["items"]
    filed = client.post("/api/v1/requests", headers=auth, json={
        "title": "Falla del runner", "description": "Prueba", "priority": "normal",
        "category_id": next(c["id"] for c in categories if c["name"] == "Electricidad")})
    assert filed.status_code == 201, filed.json
    return filed.json["id"]


def fresh(query):
    """``query`` run on a new snapshot of the database."""
    db.session.rollback()
    return db.session.execute(query)


def reminders(request_id: int) -> list:
    return fresh(select(HistoryEvent.created_at).where(
        HistoryEvent.request_id == request_id,
        HistoryEvent.action == "reminder_sent")).scalars().all()


def webhooks_to(url: str, events: list[str]) -> None:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    db.session.add(WebhookEndpoint(tenant_id=tenant.id, url=url, secret="faults", events=events,
                                   active=True, description=""))
    db.session.commit()


def remind_after(duration: str) -> None:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    tenant.settings = {**(tenant.settings or {}), "authorization_reminder_after": duration}
    db.session.commit()


def test_a_pass_that_fails_does_not_end_its_thread(web, receiver, monkeypatch):
    webhooks_to(receiver.url, ["request.filed"])
    failures = []
    deliver, remove = webhooks.deliver_due, db.session.remove

    def deliver_failing_twice(**kwargs):  # the job itself fails, then the end of its pass
        if len(failures) < 2:
            failures.append("job")
            raise RuntimeError("a pass that fails")
        return deliver(**kwargs)

    def remove_failing_once():
        if threading.current_thread().name == "background-webhooks" and len(failures) == 2:
            failures.append("session")
            raise OperationalError("ROLLBACK", {}, Exception("the server closed the connection"))
        return remove()

    monkeypatch.setattr(webhooks, "deliver_due", deliver_failing_twice)
    monkeypatch.setattr(db.session, "remove", remove_failing_once)
    file_request(web)
    thread = runner_thread("webhooks")
    assert thread is not None
    wait_until(lambda: sum(receiver.hits.values()) == 1, 20, "the webhook", interval=0.1)
    assert failures == ["job", "job", "session"]
    assert runner_thread("webhooks") is thread  # the same thread all along: it never died
    (status,) = fresh(select(OutboxMessage.status).where(WEBHOOKS)).scalars().all()
    assert status == "delivered"


# A thread that ends on SystemExit is what these tests make happen: not a warning.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_timer_whose_runner_died_mid_fire_fires_once_after_its_lease(web, monkeypatch):
    remind_after("PT1S")
    fire = workflow.fire_timers
    died = threading.Event()

    def fire_then_die(claim):
        fired = fire(claim)  # the step is taken and flushed, not committed
        if not died.is_set():
            died.set()
            raise SystemExit  # ends the thread, as an error its loop does not catch would
        return fired

    monkeypatch.setattr(workflow, "fire_timers", fire_then_die)
    request_id = file_request(web)
    first = runner_thread("timers")
    assert died.wait(20), "the timer was not fired"
    first.join(10)
    assert not first.is_alive()
    lease_ends = fresh(select(ProcessInstance.next_timer_at)
                       .where(ProcessInstance.request_id == request_id)).scalar_one()
    assert reminders(request_id) == []  # rolled back with the thread
    assert lease_ends > utcnow()

    web.test_client().get("/healthz")  # the next request starts the thread again
    again = runner_thread("timers")
    assert again is not None and again is not first

    wait_until(lambda: reminders(request_id), TIMER_LEASE_SECONDS + 20, "the reminder",
               interval=0.1)
    time.sleep(1)  # several more passes: nothing fires twice
    (fired_at,) = reminders(request_id)
    assert fired_at >= lease_ends
    version = fresh(select(ProcessInstance.version)
                    .where(ProcessInstance.request_id == request_id)).scalar_one()
    assert version == 2  # filed (1), one firing


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_webhook_sent_but_not_recorded_is_sent_again_with_its_key(web, receiver,
                                                                   monkeypatch):
    webhooks_to(receiver.url, ["request.filed"])
    record = queue.record
    died = threading.Event()

    def die_before_recording(claim, outcome):
        if not died.is_set():
            died.set()
            raise SystemExit  # sent, answered 204, never recorded
        return record(claim, outcome)

    monkeypatch.setattr(queue, "record", die_before_recording)
    file_request(web)
    first = runner_thread("webhooks")
    assert died.wait(20), "the webhook was not sent"
    first.join(10)
    assert not first.is_alive()
    (key,) = receiver.hits
    delivery = fresh(select(OutboxMessage).where(WEBHOOKS)).scalar_one()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    lease_ends = delivery.next_attempt_at

    web.test_client().get("/healthz")
    again = runner_thread("webhooks")
    assert again is not None and again is not first

    def delivered():
        return fresh(select(OutboxMessage.status).where(WEBHOOKS)).scalar_one() == "delivered"

    wait_until(delivered, WEBHOOK_LEASE_SECONDS + 20, "the second attempt", interval=0.2)
    time.sleep(1)
    delivery = fresh(select(OutboxMessage).where(WEBHOOKS)).scalar_one()
    assert receiver.hits == {key: 2}  # the same key twice: the receiver dedupes on it
    assert (delivery.status, delivery.attempts, delivery.idempotency_key) == (
        "delivered", 2, key)
    assert delivery.delivered_at >= lease_ends
