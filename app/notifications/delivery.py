"""Sending a notice's e-mail, SMS and WhatsApp messages: the outbox's senders for those
channels. Each reads the notice and its person afresh (someone deactivated since gets nothing),
composes the wording in their language and hands it to its channel's adapter."""

import dataclasses
import hashlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app

from app.accounts import mail as account_mail
from app.extensions import db
from app.models import Notification, Tenant, User
from app.notifications import reasons
from app.notifications.channels import configured
from app.notifications.channels import email as email_channel
from app.notifications.channels.email import SmtpSettings, send_email
from app.notifications.compose import Composed, compose
from app.outbox import queue
from app.outbox.outcome import Outcome


def _subject_of(claim: queue.Claim) -> tuple[Notification, User, Tenant] | Outcome:
    """The notice, its person and tenant; or why nothing is sent."""
    reason = configured()[claim.channel]
    if reason:
        return Outcome.not_sent(reason)
    notification = db.session.get(Notification, claim.notification_id)
    if notification is None or notification.tenant_id != claim.tenant_id:
        return Outcome.not_sent(reasons.NOTICE_GONE)
    user = db.session.get(User, notification.user_id)
    if user is None or not user.active or user.tenant_id != claim.tenant_id:
        return Outcome.not_sent(reasons.DEACTIVATED)
    return notification, user, db.session.get(Tenant, claim.tenant_id)


def _composed(claim: queue.Claim) -> tuple[Composed, User, Tenant] | Outcome:
    found = _subject_of(claim)
    if isinstance(found, Outcome):
        return found
    notification, user, tenant = found
    return compose(notification, user, tenant, claim.payload.get("template")), user, tenant


def header_text(text: str) -> str:
    """``text`` as one header's words: one line, and no RFC 2047 encoded-word (``=?...?=``)
    a person typed, which Python's e-mail package (before 3.11.10, CVE-2024-6923) would decode
    into raw line breaks, that is, into headers or a body of the sender's choosing."""
    text = " ".join(str(text).split())
    return text.replace("=?", "=\u2060?").replace("?=", "?\u2060=")


def email_message(claim: queue.Claim, composed: Composed, user: User,
                  tenant: Tenant) -> EmailMessage:
    config = current_app.config
    sender = config["MAIL_FROM"]
    domain = sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["Subject"] = header_text(composed.subject)
    # Address objects quote a name as needed: "Julia Ríos (Jefa)" stays whole, not a comment.
    message["From"] = Address(display_name=header_text(
        (tenant.settings or {}).get("mail_sender_name") or tenant.name), addr_spec=sender)
    message["To"] = Address(display_name=header_text(user.name), addr_spec=user.email)
    message["Date"] = formatdate(localtime=False)
    # The same message keeps its id on every attempt: a mail client shows it once.
    message["Message-ID"] = f"<{hashlib.sha256(claim.key.encode()).hexdigest()[:32]}@{domain}>"
    message["List-Unsubscribe"] = f"<{composed.variables['preferences_link']}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(composed.text)
    message.add_alternative(composed.html, subtype="html")
    return message


def send_email_claim(claim: queue.Claim) -> Outcome:
    if claim.notification_id is None and account_mail.is_account_email(claim.event):
        return _send_account_email(claim)
    prepared = _composed(claim)
    if isinstance(prepared, Outcome):
        return prepared
    composed, user, tenant = prepared
    config = current_app.config
    message = email_message(claim, composed, user, tenant)
    db.session.rollback()  # nothing of the database stays open while the server answers
    return send_email(SmtpSettings(
        host=config["SMTP_HOST"], port=config["SMTP_PORT"], username=config["SMTP_USERNAME"],
        password=config["SMTP_PASSWORD"], tls=config["SMTP_TLS"],
        timeout=config["SMTP_TIMEOUT"]), message)


def _smtp_settings() -> SmtpSettings:
    config = current_app.config
    return SmtpSettings(
        host=config["SMTP_HOST"], port=config["SMTP_PORT"], username=config["SMTP_USERNAME"],
        password=config["SMTP_PASSWORD"], tls=config["SMTP_TLS"],
        timeout=config["SMTP_TIMEOUT"])


def _send_account_email(claim: queue.Claim) -> Outcome:
    """An invitation or a password reset (``app.accounts.mail``): no notice, no preferences."""
    reason = configured()["email"]
    if reason:
        return Outcome.not_sent(reason)
    composed = account_mail.compose(claim.payload or {}, claim.tenant_id)
    if isinstance(composed, str):
        return Outcome.not_sent(composed)
    message = account_mail.message_of(claim.key, composed)
    db.session.rollback()  # nothing of the database stays open while the server answers
    return send_email(_smtp_settings(), message)


def send_sms_claim(claim: queue.Claim) -> Outcome:
    from app.notifications.channels.sms import TwilioSettings, send_sms

    prepared = _composed(claim)
    if isinstance(prepared, Outcome):
        return prepared
    composed, user, _tenant = prepared
    phone = user.phone
    if not phone:
        return Outcome.not_sent(reasons.NO_PHONE)
    config = current_app.config
    db.session.rollback()  # nothing of the database stays open while the provider answers
    return _to_current_phone(claim, phone, send_sms(TwilioSettings(
        base_url=config["TWILIO_BASE_URL"], account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"], from_number=config["TWILIO_FROM"],
        messaging_service_sid=config["TWILIO_MESSAGING_SERVICE_SID"]), phone, composed.sms))


def send_whatsapp_claim(claim: queue.Claim) -> Outcome:
    from app.notifications.channels.whatsapp import WhatsAppSettings, send_template
    from app.notifications.whatsapp_templates import template_for

    prepared = _composed(claim)
    if isinstance(prepared, Outcome):
        return prepared
    composed, user, tenant = prepared
    phone = user.phone
    if not phone:
        return Outcome.not_sent(reasons.NO_PHONE)
    chosen = template_for(tenant, claim.payload.get("template") or claim.event)
    if chosen is None:
        return Outcome.not_sent(reasons.NO_WHATSAPP_TEMPLATE)
    parameters = [composed.variables.get(name, "") for name in chosen["parameters"]]
    config = current_app.config
    db.session.rollback()
    return _to_current_phone(claim, phone, send_template(WhatsAppSettings(
        base_url=config["WHATSAPP_BASE_URL"], phone_number_id=config["WHATSAPP_PHONE_NUMBER_ID"],
        access_token=config["WHATSAPP_TOKEN"]), phone, chosen["name"], chosen["language"],
        parameters))


def _to_current_phone(claim: queue.Claim, phone: str, outcome: Outcome) -> Outcome:
    """A message goes to the person's number as it is when it is sent; the log says so when
    they changed it since the message was written."""
    if phone != claim.address:
        return dataclasses.replace(outcome, address=phone)
    return outcome


def _lease() -> float:
    """How long a claimed message is left to its runner: always longer than a send may take
    (the SMTP deadline; the HTTP channels end within twice their timeout), so no second
    runner takes a message that is still being sent."""
    config = current_app.config
    return max(config["MESSAGE_LEASE_SECONDS"],
               config["SMTP_TIMEOUT"] * email_channel.DEADLINE_FACTOR + 30, 60)


for _name, _send in (("email", send_email_claim), ("sms", send_sms_claim),
                     ("whatsapp", send_whatsapp_claim)):
    queue.register(queue.Channel(_name, _send, _lease))
