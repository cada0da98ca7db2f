"""The account e-mails (an invitation, a password reset): queued in the one outbox (channel
``email``, no notice row) and written by its e-mail sender when their turn comes.

The message carries the link's id and nonce, never the token (``links``): the sender makes the
token again, and sends nothing for a link that can no longer be used (used, expired, replaced
by a newer one, the person deactivated), so a message retried or sent again by a tenant admin
never carries a dead link, and a live link exists only in the recipient's mailbox."""

import hashlib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup, escape
from sqlalchemy import select

from app.accounts import links
from app.accounts.models import AccountLink
from app.accounts.wording import BUTTON, FOOTER, NOBODY, wording
from app.extensions import db
from app.models import OutboxMessage, Tenant, User

EVENTS = {"invite": "account.invite", "reset": "account.reset"}
LINK_GONE = "The link in this message can no longer be used; a new one must be asked for."
DEACTIVATED = "The person's account is deactivated."


def is_account_email(event: str | None) -> bool:
    return event in EVENTS.values()


def queue(link: AccountLink, nonce: str, user: User, actor_label: str | None = None) -> None:
    """The e-mail of ``link`` for ``user``, in the outbox (sent after commit). Flushes only."""
    payload = {"link_id": link.id, "nonce": nonce}
    if actor_label:
        payload["by"] = actor_label[:200]
    db.session.add(OutboxMessage(
        tenant_id=user.tenant_id, channel="email", event=EVENTS[link.purpose],
        address=user.email, idempotency_key=f"account-link:{link.id}", payload=payload))
    db.session.flush()


@dataclass(frozen=True)
class AccountEmail:
    subject: str
    text: str
    html: str
    user: User
    tenant: Tenant


def locale_of(user: User, tenant: Tenant) -> str:
    for locale in (user.locale, tenant.locale):
        if locale in ("es", "en"):
            return locale
    return "es"


def _expires(link: AccountLink, tenant: Tenant, locale: str) -> str:
    try:
        zone = ZoneInfo(tenant.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return format_datetime(link.expires_at, "d MMM y, HH:mm", tzinfo=zone, locale=locale) + (
        f" ({zone.key})")


def _inviter(link: AccountLink, payload: dict, locale: str) -> str:
    if payload.get("by"):
        return str(payload["by"])
    if link.created_by_id:
        person = db.session.scalar(select(User).where(User.tenant_id == link.tenant_id,
                                                      User.id == link.created_by_id))
        if person is not None:
            return person.name
    return NOBODY[locale]


def compose(claim_payload: dict, tenant_id: int) -> AccountEmail | str:
    """The e-mail of the link the payload names, or why it is not sent."""
    link_id, nonce = claim_payload.get("link_id"), claim_payload.get("nonce")
    if not isinstance(link_id, int) or not isinstance(nonce, str):
        return LINK_GONE
    link = db.session.scalar(select(AccountLink).where(AccountLink.tenant_id == tenant_id,
                                                       AccountLink.id == link_id))
    if link is None or links.why_not_usable(link) is not None:
        return LINK_GONE
    token = links.token_of(nonce)
    if hashlib.sha256(token.encode()).hexdigest() != link.token_hash:
        return LINK_GONE  # SECRET_KEY changed since: this token would not open the link
    user = db.session.scalar(select(User).where(User.tenant_id == tenant_id,
                                                User.id == link.user_id))
    if user is None or not user.active:
        return DEACTIVATED
    tenant = db.session.get(Tenant, tenant_id)
    locale = locale_of(user, tenant)
    event = EVENTS[link.purpose]
    url = links.url_of(link.purpose, token)
    values = {"recipient_name": user.name, "tenant_name": tenant.name, "link": url,
              "inviter": _inviter(link, claim_payload, locale),
              "expires": _expires(link, tenant, locale)}
    subject_source, text_source = wording(event, locale)
    subject = " ".join(subject_source.format(**values).split())[:250]
    text = text_source.format(**values)
    escaped = {name: escape(value) for name, value in values.items()}
    paragraphs = [Markup("<p>{}</p>").format(Markup("<br>").join(
        Markup(line).format(**escaped) for line in _escape_braces(block).split("\n")))
        for block in text_source.split("\n\n") if "{link}" not in block]
    with force_locale(locale):
        page = current_app.jinja_env.get_template("accounts/email.html").render(
            subject=subject, body=Markup("\n").join(paragraphs), link=url,
            button=BUTTON[locale][event], footer=FOOTER[locale], tenant_name=tenant.name,
            locale=locale)
    return AccountEmail(subject, text, page, user, tenant)


def _escape_braces(source: str) -> str:
    """The wording as a Markup format string: its own text escaped, its fields kept."""
    return str(escape(source))


def message_of(key: str, email: AccountEmail) -> EmailMessage:
    from app.notifications.delivery import header_text

    config = current_app.config
    sender = config["MAIL_FROM"]
    domain = sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["Subject"] = header_text(email.subject)
    message["From"] = Address(display_name=header_text(
        (email.tenant.settings or {}).get("mail_sender_name") or email.tenant.name),
        addr_spec=sender)
    message["To"] = Address(display_name=header_text(email.user.name),
                            addr_spec=email.user.email)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
