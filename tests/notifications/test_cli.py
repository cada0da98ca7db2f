"""``flask notifications deliver`` and ``flask notifications test-email``."""

from app.extensions import db
from app.models import OutboxMessage
from tests.factories import file


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
