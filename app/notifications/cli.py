"""``flask notifications deliver [--loop]`` and ``flask notifications test-email ADDRESS``."""

import time
import uuid

import click
from flask import current_app
from flask.cli import AppGroup

from app.notifications.channels import configured

group = AppGroup("notifications", help="Send queued e-mails, SMS and WhatsApp messages; check "
                                       "the e-mail settings.")


@group.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running, polling every --every seconds.")
@click.option("--every", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--limit", default=50, show_default=True, help="Most messages per pass.")
@click.option("--channel", type=click.Choice(["email", "sms", "whatsapp"]),
              help="Only this channel (default: all three).")
def deliver(loop, every, limit, channel):
    """Send the due messages, at most --limit (or keep doing it with --loop)."""
    from app.services.background import deliver_messages

    while True:
        sent = deliver_messages(limit=limit, channel=channel)
        click.echo(f"sent {sent} message(s)")
        if not loop:
            return
        if sent < limit:  # a full pass means more are waiting: go on at once
            time.sleep(every)


@group.command("test-email")
@click.argument("address")
def test_email(address):
    """Send one message to ADDRESS with the SMTP settings, and say what the server answered."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    from app.notifications.channels.email import SmtpSettings, send_email

    reason = configured()["email"]
    if reason:
        raise click.ClickException(reason)
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = "Mesa de Servicios: prueba de correo / e-mail test"
    message["From"] = config["MAIL_FROM"]
    message["To"] = address
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:8])
    message.set_content(
        "Si lee esto, Mesa de Servicios puede enviar correos.\n"
        "If you read this, Mesa de Servicios can send e-mail.\n\n"
        f"SMTP: {config['SMTP_HOST']}:{config['SMTP_PORT']} ({config['SMTP_TLS']})\n")
    outcome = send_email(SmtpSettings(
        host=config["SMTP_HOST"], port=config["SMTP_PORT"], username=config["SMTP_USERNAME"],
        password=config["SMTP_PASSWORD"], tls=config["SMTP_TLS"],
        timeout=config["SMTP_TIMEOUT"]), message)
    if not outcome.delivered:
        raise click.ClickException(f"not sent: {outcome.error}")
    click.echo(f"sent to {address} via {config['SMTP_HOST']}:{config['SMTP_PORT']} "
               f"(server answered {outcome.status})")
