"""The embedded background runner, for real: an app built like a web process without Celery
(EMBEDDED_TIMERS on, not in testing mode) starts its threads on its first request; they fire a
due timer and deliver the webhook it causes to a receiver on 127.0.0.1; then they stop. The rest
of the suite runs with the runner off and calls its functions directly."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine

from app import create_app
from app.extensions import db
from app.models import HistoryEvent, OutboxMessage, ServiceRequest
from app.models.base import utcnow
from app.services import background, webhooks
from tests.factories import request_at, user
from tests.receiver import Receiver

WEBHOOKS = OutboxMessage.channel == "webhook"  # the outbox rows that are webhook deliveries

THREADS = {"background-timers", "background-webhooks", "background-messages"}


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    made = Receiver()
    yield made
    made.close()


def web_process_app(app, **config):
    """An app configured like a production web process, on the test database."""
    return create_app({
        "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret",
        "EMBEDDED_TIMERS": True,
        "CELERY_BROKER_URL": "",
        "TIMER_POLL_SECONDS": 0.2,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,  # the receiver listens on loopback
        **config,
    })


@pytest.fixture
def runner_app(app):
    made = []

    def make(**config):
        made.append(web_process_app(app, **config))
        return made[-1]

    yield make
    assert background.stop_embedded_runner(timeout=30)
    for other in made:
        with other.app_context():
            db.engine.dispose()


def runner_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name in THREADS and t.is_alive()}


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot each time
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_runner_fires_a_due_timer_and_delivers_its_webhook_then_stops(
        demo, receiver, runner_app):
    # A request confirmed by nobody for eight days: its automatic close is due.
    with time_machine.travel(utcnow() - timedelta(days=8), tick=False):
        req, _ = request_at("Task_Confirm")
    endpoint = webhooks.create_endpoint(user("admin@acme.test"),
                                        {"url": receiver.url, "events": ["request.closed"]})
    db.session.commit()
    receiver.secret = endpoint.secret
    assert runner_threads() == set()

    web = runner_app()
    assert web.test_client().get("/healthz").status_code == 200  # the first request starts it
    assert runner_threads() == THREADS

    def closed():
        return db.session.get(ServiceRequest, req.id).ticket.status == "closed"

    assert wait_for(closed), "the due automatic close did not fire"
    assert wait_for(lambda: receiver.bodies), "the webhook was not delivered"
    (payload,) = receiver.bodies
    assert payload["event"] == "request.closed" and payload["request"]["id"] == req.id

    def recorded():  # the receiver has the body before the runner records its answer
        return db.session.query(OutboxMessage).filter(
            WEBHOOKS, OutboxMessage.endpoint_id == endpoint.id).one().status == "delivered"

    assert wait_for(recorded), "the delivery was sent but not recorded as delivered"
    assert db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                    action="auto_closed").count() == 1

    assert background.stop_embedded_runner(timeout=30)
    assert runner_threads() == set()
    assert background.stop_embedded_runner() is True  # stopping twice is harmless
    time.sleep(0.5)  # several poll intervals: nothing runs, nothing is sent again
    assert len(receiver.bodies) == 1


@pytest.mark.parametrize("config", [
    {"TESTING": True},
    {"EMBEDDED_TIMERS": False},
    {"CELERY_BROKER_URL": "redis://127.0.0.1:9/0"},
], ids=["testing", "embedded timers off", "celery broker set"])
def test_no_runner_starts_when_something_else_does_the_work(runner_app, config):
    web = runner_app(**config)
    background.maybe_start_embedded_runner(web)
    assert runner_threads() == set()


def test_one_runner_per_process_however_many_requests(demo, runner_app):
    web = runner_app(TIMER_POLL_SECONDS=60)
    client = web.test_client()
    for _ in range(3):
        client.get("/healthz")
    background.maybe_start_embedded_runner(web)
    names = [t.name for t in threading.enumerate() if t.name in THREADS]
    assert sorted(names) == sorted(THREADS)
    assert background.stop_embedded_runner(timeout=5)  # a long interval does not delay it
