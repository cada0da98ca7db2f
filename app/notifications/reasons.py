"""Why a message was not sent, in the reader's language.

The outbox keeps the reason as the product wrote it (in English, with the setting to look at):
a person reads it on their notices without the settings' names, a tenant admin on the log with
them. A provider's own answer (``SMTP 550: ...``, ``Twilio 21211: ...``) is shown as it came.
"""

from flask_babel import lazy_gettext as _l

NOT_CONFIGURED = {
    "email": "E-mail is not configured (SMTP_HOST).",
    "sms": "Text messages are not configured (TWILIO_*).",
    "whatsapp": "WhatsApp is not configured (WHATSAPP_*).",
}
NO_PHONE = "No phone number on the person's profile."
DEACTIVATED = "The person's account is deactivated."
NOTICE_GONE = "The notice no longer exists."
NO_WHATSAPP_TEMPLATE = "No WhatsApp template is set for this event."
MAYBE_DELIVERED = ("No answer from the SMTP server after the message was sent; it may have "
                   "been delivered, so it is not sent again.")

# reason -> (what a person reads, what the tenant admin reads)
_LABELS = {
    NOT_CONFIGURED["email"]: (_l("e-mail is not available on this service"),
                              _l("E-mail is not configured on the server (SMTP_HOST).")),
    NOT_CONFIGURED["sms"]: (_l("text messages are not available on this service"),
                            _l("Text messages are not configured on the server (TWILIO_*).")),
    NOT_CONFIGURED["whatsapp"]: (_l("WhatsApp is not available on this service"),
                                 _l("WhatsApp is not configured on the server (WHATSAPP_*).")),
    NO_PHONE: (_l("there is no phone number on your profile"),
               _l("There is no phone number on the person's profile.")),
    DEACTIVATED: (_l("the account is deactivated"), _l("The person's account is deactivated.")),
    NOTICE_GONE: (_l("the notification no longer exists"),
                  _l("The notification no longer exists.")),
    NO_WHATSAPP_TEMPLATE: (_l("no WhatsApp template is set for this event"),
                           _l("No WhatsApp template is set for this event (see WhatsApp "
                              "templates).")),
    MAYBE_DELIVERED: (_l("the server did not confirm it; it may have arrived"),
                      _l("The server took the message but did not confirm it; it may have "
                         "arrived, so it is not sent again.")),
    "The runner stopped during the last attempt.": (
        _l("it could not be sent"), _l("The sender stopped during the last attempt.")),
}


def for_person(reason: str | None) -> str:
    if not reason:
        return ""
    labels = _LABELS.get(reason)
    return str(labels[0]) if labels else reason


def for_admin(reason: str | None) -> str:
    if not reason:
        return ""
    labels = _LABELS.get(reason)
    return str(labels[1]) if labels else reason
