"""The three runners run the same pass: the embedded runner's thread, Celery beat's
``mesa.recurring`` (eager here, the clock set by time_machine) and ``flask recurring run``
(tests/recurring/test_pages.py)."""

from datetime import timedelta

import pytest
import time_machine

from app.services import background
from tests.recurring.helpers import filed, make
from tests.recurring.test_runner import NINE


@pytest.fixture
def eager_celery(app, monkeypatch):
    from app.tasks import make_celery

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "memory://")
    celery = make_celery(app)
    celery.conf.task_always_eager = True
    yield celery
    app.extensions.pop("celery", None)


def test_the_embedded_runner_has_a_thread_for_it():
    assert background._jobs()["background-recurring"] is background.run_recurring


def test_the_beat_files_each_occurrence_once(app, demo, eager_celery):
    from app import tasks

    entry = eager_celery.conf.beat_schedule["mesa.recurring"]
    assert entry["schedule"] == app.config["TIMER_POLL_SECONDS"]
    row_id = make().id
    with time_machine.travel(NINE - timedelta(minutes=1), tick=False):
        assert tasks.recurring.delay().get() == 0
    with time_machine.travel(NINE + timedelta(seconds=3), tick=False):
        assert tasks.recurring.delay().get() == 1
        assert tasks.recurring.delay().get() == 0   # the next beat
        assert tasks.recurring.apply().get() == 0   # the same message delivered again
    assert len(filed(row_id)) == 1
