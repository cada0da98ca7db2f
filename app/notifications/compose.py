"""A notice's wording for one person: the tenant's template for its event and the person's
language (else the product's), rendered in the sandbox over the notice's values."""

import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup, escape
from sqlalchemy import select

from app.extensions import db
from app.labels import SLA_TARGET, STATUS, STEP, label
from app.models import Notification, NotificationTemplate, Tenant, User
from app.notifications import defaults, sandbox
from app.notifications.catalog import EVENTS
from app.survey import links as survey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    sms: str
    variables: dict


def locale_of(user: User, tenant: Tenant) -> str:
    for locale in (user.locale, tenant.locale):
        if locale in defaults.LOCALES:
            return locale
    return defaults.LOCALES[0]


def wording(tenant_id: int, template: str, locale: str) -> tuple[str, str, str, str]:
    """(subject, text, html, sms) the tenant set for ``template`` in ``locale``; what it left
    empty, the product's default says (its HTML: made from the text)."""
    subject, text, sms = defaults.default(template, locale)
    row = db.session.scalar(select(NotificationTemplate).where(
        NotificationTemplate.tenant_id == tenant_id, NotificationTemplate.event == template,
        NotificationTemplate.locale == locale))
    if row is None:
        return subject, text, "", sms
    return row.subject or subject, row.text or text, row.html or "", row.sms or sms


def wording_key(notification) -> str:
    """Whose wording a notice takes: a diagram's message names it, others are their event's."""
    return (notification.params or {}).get("template") or notification.event


def variables(notification: Notification, user: User, tenant: Tenant, locale: str) -> dict:
    base = current_app.config["PUBLIC_BASE_URL"]
    values = dict(notification.params or {})
    values.pop("template", None)
    with force_locale(locale):
        event = EVENTS.get(notification.event)
        if values.get("step") in STEP:  # the default diagram's steps, in the reader's language
            values["step"] = str(STEP[values["step"]])
        if values.get("sla_target") in SLA_TARGET:  # which target of a service level
            values["sla_target"] = str(SLA_TARGET[values["sla_target"]])
        values.update(
            recipient_name=user.name, tenant_name=tenant.name,
            event=str(event.label) if event else "",
            request_status=str(label(STATUS, values.get("request_status"))),
            link=base + values.pop("path", "/notifications"),
            preferences_link=f"{base}/notifications/preferences")
    return values


def _render(source: str, values: dict, fallback: str, html: bool = False) -> str:
    """``source`` in the sandbox; a tenant's template that cannot render gives way to the
    product's (and the log says so), so a notice is never lost to a typo."""
    try:
        return sandbox.render(source, values, html=html)
    except Exception as exc:  # refused, or failing with these values (a filter's argument)
        log.warning("notification template failed (%s: %s); the product's wording is used",
                    type(exc).__name__, exc)
        return sandbox.render(fallback, values, html=html)


def compose(notification: Notification, user: User, tenant: Tenant,
            template: str | None = None, override: dict | None = None) -> Composed:
    """The notice's messages for ``user``; ``override``: wording being edited, not saved."""
    locale = locale_of(user, tenant)
    key = template or wording_key(notification)
    if override is None:
        subject, text, html, sms = wording(tenant.id, key, locale)
    else:
        subject, text, html, sms = (override[p] for p in ("subject", "text", "html", "sms"))
    d_subject, d_text, d_sms = defaults.default(key, locale)
    values = variables(notification, user, tenant, locale)
    # a requester's confirmation: the link that answers it without logging in (app.survey)
    values.setdefault("survey_link", survey.link_for(notification, user, tenant))
    subject = " ".join(_render(subject, values, d_subject).split())[:250]
    text = _render(text, values, d_text)
    body = Markup(_render(html, values, d_text, html=True)) if html else _html_of(text)
    with force_locale(locale):  # the product's layout; no page context (sent from a runner)
        page = current_app.jinja_env.get_template("notifications/email.html").render(
            body=body, subject=subject, values=values, locale=locale)
    return Composed(subject, text, page, _render(sms, values, d_sms), values)


def _html_of(text: str) -> Markup:
    """The text as HTML paragraphs, its web addresses as links."""
    paragraphs = []
    for block in text.split("\n\n"):
        lines = []
        for line in block.split("\n"):
            words = [Markup('<a href="{0}">{0}</a>').format(w)
                     if w.startswith(("http://", "https://")) else escape(w)
                     for w in line.split(" ")]
            lines.append(Markup(" ").join(words))
        paragraphs.append(Markup("<p>{}</p>").format(Markup("<br>").join(lines)))
    return Markup("\n").join(paragraphs)


def titles(notifications: list[Notification], user: User, tenant: Tenant) -> dict[int, str]:
    """Each notice's subject in the person's language, as its e-mail would say it (one query
    for the tenant's wording, whatever the number of notices)."""
    locale = locale_of(user, tenant)
    own = {row.event: row.subject for row in db.session.scalars(
        select(NotificationTemplate).where(NotificationTemplate.tenant_id == tenant.id,
                                           NotificationTemplate.locale == locale))}
    out = {}
    for notification in notifications:
        key = wording_key(notification)
        fallback = defaults.default(key, locale)[0]
        values = variables(notification, user, tenant, locale)
        source = own.get(key) or fallback
        out[notification.id] = " ".join(_render(source, values, fallback).split())
    return out
