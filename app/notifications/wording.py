"""A tenant's own wording of its notices: read, saved (checked in the sandbox first), reset to
the product's, previewed with sample values; and its own messages (``custom.*``) that a
diagram's ``notify`` task sends."""

import re
from types import SimpleNamespace

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from app.extensions import db
from app.models import NotificationTemplate, Tenant, User
from app.models.base import utcnow
from app.notifications import defaults, sandbox
from app.notifications.catalog import CUSTOM_PREFIX, EVENTS

CUSTOM_KEY = re.compile(r"^custom\.[a-z0-9_]{1,40}$")
LIMITS = {"subject": 300, "text": sandbox.MAX_SOURCE, "html": sandbox.MAX_SOURCE, "sms": 500}
SAMPLE = {
    "request_number": "SOL-2026-000042", "request_title": "Cambiar bombillo de la sala 3",
    "request_status": "in_service", "ticket_number": "TKT-2026-000017",
    "step": "Autorizar solicitud", "actor_name": "Jefe de Finanzas",
    "worker_name": "Técnico Uno", "comment": "Falta el repuesto; llega el lunes.",
    "path": "/requests/42", "sla_target": "resolution",
    "sla_due": "2026-12-11 09:00 (America/Bogota)",
    "summary_period": "noviembre de 2026", "summary_scope": "Servicios Generales",
    "filed": "42", "completed": "37", "backlog": "12", "on_time": "86 %",
    "sla_decision": "95 % (38/40)", "sla_start": "90 % (36/40)",
    "sla_resolution": "81 % (30/37)", "mean_rating": "4,3 / 5 (25)",
    "severity": "critical",
}


def is_known(key: str) -> bool:
    return key in EVENTS or bool(CUSTOM_KEY.match(key))


def custom_keys(tenant_id: int) -> list[str]:
    """The tenant's own messages, by key."""
    return sorted(set(db.session.scalars(select(NotificationTemplate.event).where(
        NotificationTemplate.tenant_id == tenant_id,
        NotificationTemplate.event.startswith(CUSTOM_PREFIX)))))


def row_of(tenant_id: int, key: str, locale: str) -> NotificationTemplate | None:
    return db.session.scalar(select(NotificationTemplate).where(
        NotificationTemplate.tenant_id == tenant_id, NotificationTemplate.event == key,
        NotificationTemplate.locale == locale))


def customized(tenant_id: int) -> set[tuple[str, str]]:
    """(key, locale) of every wording the tenant rewrote."""
    return set(db.session.execute(select(NotificationTemplate.event, NotificationTemplate.locale)
                                  .where(NotificationTemplate.tenant_id == tenant_id)).all())


def current(tenant_id: int, key: str, locale: str) -> dict:
    """What the editor shows: the tenant's wording, else the product's."""
    subject, text, sms = defaults.default(key, locale)
    row = row_of(tenant_id, key, locale)
    if row is None:
        return {"subject": subject, "text": text, "html": "", "sms": sms}
    return {"subject": row.subject, "text": row.text, "html": row.html, "sms": row.sms}


def clean(form: dict) -> dict:
    """The four parts as they may be saved, or ValidationError naming each problem."""
    values = {part: str(form.get(part) or "").replace("\r\n", "\n") for part in LIMITS}
    errors = {}
    for part in ("subject", "text"):
        if not values[part].strip():
            errors[part] = [_("Required.")]
    for part, limit in LIMITS.items():
        if part in errors:
            continue
        if len(values[part]) > limit:
            errors[part] = [_("At most %(n)s characters.", n=limit)]
            continue
        try:
            sandbox.check(values[part])
            for sample in (SAMPLE, {}):  # with values, and with none (a step without a ticket)
                sandbox.render(values[part], sample, html=part == "html")
        except sandbox.TemplateRefused as exc:
            errors[part] = [str(exc)]
        except Exception as exc:  # it parses, but fails with values (a filter's argument)
            errors[part] = [_("This wording cannot be written out (%(error)s); check the "
                              "filters and their arguments.", error=type(exc).__name__)]
    if errors:
        raise ValidationError(errors)
    return values


def save(user: User, key: str, locale: str, form: dict) -> NotificationTemplate:
    values = clean(form)
    row = row_of(user.tenant_id, key, locale)
    if row is None:
        row = NotificationTemplate(tenant_id=user.tenant_id, event=key, locale=locale)
        db.session.add(row)
    for part, value in values.items():
        setattr(row, part, value)
    row.updated_by_id = user.id
    row.updated_at = utcnow()
    db.session.flush()
    return row


def reset(tenant_id: int, key: str, locale: str) -> bool:
    row = row_of(tenant_id, key, locale)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def new_custom_key(tenant_id: int, name: str) -> str:
    """``custom.<name>`` for a new message of the tenant's, or ValidationError."""
    key = f"{CUSTOM_PREFIX}{(name or '').strip().lower()}"
    if not CUSTOM_KEY.match(key):
        raise ValidationError({"name": [_("Use 1 to 40 lowercase letters, digits or _.")]})
    if key in custom_keys(tenant_id):
        raise ValidationError({"name": [_("There is already a message with that name.")]})
    return key


def preview(user: User, tenant: Tenant, key: str, locale: str, form: dict) -> dict:
    """The parts rendered with sample values, as ``user`` would read them (or ValidationError)."""
    from app.notifications.compose import compose

    values = clean(form)
    notice = SimpleNamespace(event=key if key in EVENTS else "process.message", params=SAMPLE)
    reader = SimpleNamespace(name=user.name, locale=locale, email=user.email)
    composed = compose(notice, reader, tenant, override=values)
    return {"subject": composed.subject, "text": composed.text, "html": composed.html,
            "sms": composed.sms}
