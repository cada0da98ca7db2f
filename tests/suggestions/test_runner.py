"""The job through the runners: the embedded runner's own thread trains a due company; the
Celery beat schedule has the task, which runs the same pass."""

from sqlalchemy import select

from app.extensions import db
from app.services import background
from app.suggestions.models import SuggestionModel
from tests.services.test_embedded_runner import runner_app, wait_for  # noqa: F401
from tests.suggestions.conftest import tenant_id


def trained_row():
    return db.session.scalar(select(SuggestionModel).where(
        SuggestionModel.tenant_id == tenant_id("acme"), SuggestionModel.status == "trained"))


def test_the_embedded_runner_trains_a_due_company(history, runner_app):  # noqa: F811
    history("acme", 250)
    web = runner_app(SUGGESTIONS_SWEEP_SECONDS=0)
    assert web.test_client().get("/healthz").status_code == 200  # the first request starts it
    assert background._runner.threads["background-suggestions"].is_alive()
    assert wait_for(lambda: trained_row() is not None, seconds=60), "no training ran"
    row = trained_row()
    assert row.training_rows >= 250 and row.lease_until is None
    assert background.stop_embedded_runner(timeout=30)


def test_the_celery_schedule_runs_the_same_pass(app, history):
    from app import create_app, tasks

    configured = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                             "TESTING": True, "SECRET_KEY": "test-secret",
                             "CELERY_BROKER_URL": "memory://"})
    schedule = tasks.make_celery(configured).conf.beat_schedule
    assert schedule["mesa.train_suggestions"]["task"] == "mesa.train_suggestions"
    with configured.app_context():
        db.engine.dispose()
    history("acme", 250)
    assert tasks.train_suggestions.run() == 1
    assert trained_row() is not None
