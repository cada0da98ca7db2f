"""The channels a notice travels on besides the bell: e-mail (SMTP), SMS (Twilio) and WhatsApp
(Meta's Cloud API), each an adapter that takes settings and a message and returns an
``Outcome``. ``app.notifications.delivery`` registers them with the outbox."""

from flask import current_app

MESSAGE_CHANNELS = ("email", "sms", "whatsapp")


def configured() -> dict[str, str | None]:
    """For each message channel, why it cannot send (None: it can)."""
    from app.notifications.reasons import NOT_CONFIGURED

    config = current_app.config
    ready = {
        "email": bool(config["SMTP_HOST"]),
        "sms": bool(config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"]
                    and (config["TWILIO_FROM"] or config["TWILIO_MESSAGING_SERVICE_SID"])),
        "whatsapp": bool(config["WHATSAPP_PHONE_NUMBER_ID"] and config["WHATSAPP_TOKEN"]),
    }
    return {channel: None if ok else NOT_CONFIGURED[channel] for channel, ok in ready.items()}
