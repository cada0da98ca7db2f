"""The Celery path of SLA signals: the beat task ``mesa.sla_signals`` runs the same pass as the
embedded runner, so a warning and a breach go out once each, whether the task runs again, is
delivered twice by the broker, or races another runner (tasks run eagerly here, on the suite's
database; time moved by the test)."""

import pytest
import time_machine

from app.sla import signals
from tests.sla import sla_helpers
from tests.sla.test_signals import (
    DIRECTOR,
    DUE,
    HEAD,
    MINUTE,
    WARN,
    deliveries,
    endpoint,
    file_at,
    history,
    messages,
    race,
    told,
)


@pytest.fixture
def eager_celery(app, monkeypatch):
    """The Celery app built from the test app, running tasks inline (no broker needed)."""
    from app.tasks import make_celery

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "memory://")
    celery = make_celery(app)
    celery.conf.task_always_eager = True
    yield celery
    app.extensions.pop("celery", None)


def test_the_beat_runs_the_sla_pass_every_poll(app, eager_celery):
    entry = eager_celery.conf.beat_schedule["mesa.sla_signals"]
    assert entry["task"] == "mesa.sla_signals"
    assert entry["schedule"] == app.config["TIMER_POLL_SECONDS"]


def test_the_celery_task_sends_the_warning_and_the_breach_once_each(app, demo, eager_celery):
    from app import tasks

    sla_helpers.targets(decision=240)
    endpoint(["sla.warning", "sla.breached"])
    req = file_at()
    with time_machine.travel(WARN - MINUTE, tick=False):
        assert tasks.sla_signals.delay().get() == 0
    with time_machine.travel(WARN, tick=False):
        assert tasks.sla_signals.delay().get() == 1
        assert tasks.sla_signals.delay().get() == 0      # the next beat
        assert tasks.sla_signals.apply().get() == 0      # the same message delivered again
    with time_machine.travel(DUE + MINUTE, tick=False):
        assert tasks.sla_signals.delay().get() == 1
        assert tasks.sla_signals.delay().get() == 0
    assert len(history(req, "sla_warning")) == 1 and len(history(req, "sla_breached")) == 1
    assert told(req, "sla.warning") == [HEAD] and told(req, "sla.breached") == [DIRECTOR]
    assert messages(req, "sla.warning") == [(HEAD, "email")]
    assert messages(req, "sla.breached") == [(DIRECTOR, "email")]
    assert len(deliveries("sla.warning")) == 1 and len(deliveries("sla.breached")) == 1


def test_a_celery_worker_racing_another_runner_sends_once(app, demo, eager_celery):
    from app import tasks

    sla_helpers.targets(decision=240)
    req = file_at()
    turn = iter([lambda: tasks.sla_signals.delay().get(), signals.run])
    sent = race(app, DUE + MINUTE, lambda: next(turn)())
    assert sorted(sent) == [0, 1]
    assert len(history(req, "sla_breached")) == 1 and told(req, "sla.breached") == [DIRECTOR]
    assert history(req, "sla_warning") == []
