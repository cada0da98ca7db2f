"""The channels a notice travels on besides the bell: e-mail (SMTP), SMS (Twilio) and WhatsApp
(Meta's Cloud API), each an adapter that takes settings and a message and returns an
``Outcome``. ``app.notifications.delivery`` registers them with the outbox."""

from flask import current_app

MESSAGE_CHANNELS = ("email", "sms", "whatsapp")


def configured() -> dict[str, str | None]:
    """For each message channel, why it cannot send (None: it can)."""
    config = current_app.config
    return {
        "email": None if config["SMTP_HOST"] else "E-mail is not configured (SMTP_HOST).",
        "sms": None if config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"]
        and (config["TWILIO_FROM"] or config["TWILIO_MESSAGING_SERVICE_SID"])
        else "Text messages are not configured (TWILIO_*).",
        "whatsapp": None if config["WHATSAPP_PHONE_NUMBER_ID"] and config["WHATSAPP_TOKEN"]
        else "WhatsApp is not configured (WHATSAPP_*).",
    }
