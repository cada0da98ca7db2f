"""The runners of messages besides the embedded one: ``flask notifications deliver``, ``flask
notifications test-email`` and the Celery tasks."""

import pytest

from app.extensions import db
from app.models import OutboxMessage
from tests.factories import file, request_at


def test_deliver_sends_what_is_due_and_says_how_many(app, demo, smtp_server):
    file("ana@acme.test")
    due = db.session.query(OutboxMessage).filter_by(channel="email", status="pending").count()
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["notifications", "deliver"])
    assert result.exit_code == 0 and f"sent {due} message(s)" in result.output
    assert len(smtp_server.messages) == due
    again = app.test_cli_runner().invoke(args=["notifications", "deliver", "--channel", "sms"])
    assert again.exit_code == 0 and "sent 0 message(s)" in again.output


def test_test_email_sends_one_message_and_reports_the_answer(app, smtp_server):
    result = app.test_cli_runner().invoke(args=["notifications", "test-email", "ops@example.com"])
    assert result.exit_code == 0, result.output
    assert "sent to ops@example.com via 127.0.0.1" in result.output
    assert "answered 250" in result.output
    (message,) = smtp_server.messages
    assert message["To"] == "ops@example.com" and "prueba de correo" in str(message["Subject"])


def test_test_email_says_why_it_cannot(app, smtp_server):
    smtp_server.refuse_next("554 5.7.1 Relay denied")
    result = app.test_cli_runner().invoke(args=["notifications", "test-email", "ops@example.com"])
    assert result.exit_code != 0 and "SMTP 554: 5.7.1 Relay denied" in result.output


def test_test_email_without_settings_says_what_to_set(app):
    result = app.test_cli_runner().invoke(args=["notifications", "test-email", "ops@example.com"])
    assert result.exit_code != 0 and "SMTP_HOST" in result.output


@pytest.fixture
def eager_celery(app, monkeypatch):
    """The Celery app built from the test app, running tasks inline (no broker needed)."""
    from app.tasks import make_celery

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "memory://")
    celery = make_celery(app)
    celery.conf.task_always_eager = True
    yield celery
    app.extensions.pop("celery", None)


def test_the_celery_dispatcher_fans_messages_out_per_channel(app, demo, smtp_server,
                                                             eager_celery):
    """E-mails waiting in the outbox get one ``mesa.deliver_messages`` task for the e-mail
    channel, which sends each once; a name that is no channel sends nothing."""
    from app import tasks

    request_at("Task_Authorize")
    request_at("Task_Authorize")
    due = db.session.query(OutboxMessage).filter_by(channel="email", status="pending").count()
    assert due >= 2
    db.session.rollback()
    assert tasks.dispatch_outbox() == 1               # one queue: the e-mail channel
    assert len(smtp_server.messages) == due
    assert tasks.dispatch_outbox() == 0
    assert tasks.deliver_messages("fax") == 0
