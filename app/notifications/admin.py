"""The tenant admin's notification pages: the tenant's default channels and sender name, the
wording of each notice (edited with a preview), the WhatsApp template of each event, and the
log of sent messages (with their status, and sending again what failed)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import policy
from app.admin import audit
from app.extensions import db, login_manager
from app.models import OutboxMessage, Tenant
from app.notifications import reasons, service, whatsapp_templates, wording
from app.notifications.catalog import CHANNEL_LABELS, CHANNELS, EVENTS, GROUP_LABELS, GROUPS
from app.notifications.channels import MESSAGE_CHANNELS, configured
from app.notifications.defaults import LOCALES
from app.outbox import queue
from app.views.common import MAX_ID

bp = Blueprint("notifications_admin", __name__, url_prefix="/admin/notifications",
               template_folder="templates")
LOG_PAGE = 50
LOCALE_LABELS = {"es": "Español", "en": "English"}


@bp.before_request
def _tenant_admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_manage_notifications(current_user):
        abort(404)
    return None


def _tenant() -> Tenant:
    return db.session.get(Tenant, current_user.tenant_id)


def _key_or_404(key: str, locale: str) -> None:
    if locale not in LOCALES or not wording.is_known(key):
        abort(404)
    if key.startswith("custom.") and key not in wording.custom_keys(current_user.tenant_id) \
            and request.method == "GET" and not request.args.get("new"):
        abort(404)


def _settings_page(errors=None, status=200, sender=None, typed=None):
    tenant = _tenant()
    settings = tenant.settings or {}
    page = render_template(
        "notifications/admin.html", defaults=service.tenant_defaults(tenant),
        groups=GROUPS, group_labels=GROUP_LABELS, channels=CHANNELS,
        channel_labels=CHANNEL_LABELS, events=EVENTS, locales=LOCALES,
        locale_labels=LOCALE_LABELS, customized=wording.customized(tenant.id),
        custom_keys=wording.custom_keys(tenant.id),
        whatsapp={**(settings.get("whatsapp_templates") or {}), **(typed or {})},
        sender=sender if sender is not None else settings.get("mail_sender_name", ""),
        configured=configured(), errors=errors or {})
    return page, status, {"Cache-Control": "no-store"}


@bp.route("")
def index():
    return _settings_page()


@bp.get("/defaults")
@bp.get("/custom")
@bp.get("/whatsapp/<key>")
def back_to_index(key: str | None = None):
    """A form's address opened again (a reload after an error): back to the page."""
    return redirect(url_for("notifications_admin.index"))


@bp.post("/defaults")
def save_defaults():
    tenant = _tenant()
    sender = (request.form.get("sender") or "").strip()
    try:
        chosen = service.clean_channels(
            {group: request.form.getlist(f"channels-{group}") for group in GROUPS})
    except ValidationError as exc:
        db.session.rollback()
        return _settings_page(exc.messages, 422, sender)
    if len(sender) > 100 or any(c in sender for c in "\r\n<>\"@") or "=?" in sender \
            or not sender.isprintable():
        db.session.rollback()
        return _settings_page({"sender": [_("Only the name, without an address: no < > \" "
                                            "or @, at most 100 characters.")]}, 422, sender)
    before = {"channels": service.tenant_defaults(tenant),
              "mail_sender_name": (tenant.settings or {}).get("mail_sender_name", "")}
    service.set_tenant_defaults(tenant, chosen)
    tenant.settings = {**(tenant.settings or {}), "mail_sender_name": sender}
    after = {"channels": service.tenant_defaults(tenant), "mail_sender_name": sender}
    if after != before:
        audit.record(tenant.id, current_user, "notifications.defaults_changed", "tenant",
                     tenant.id, target_label=tenant.name, before=before, after=after)
    db.session.commit()
    flash(_("The defaults were saved; each person's own choices still apply."), "success")
    return redirect(url_for("notifications_admin.index"))


@bp.post("/whatsapp/<key>")
def save_whatsapp(key: str):
    if not wording.is_known(key):
        abort(404)
    tenant = _tenant()
    chosen = dict((tenant.settings or {}).get("whatsapp_templates") or {})
    if request.form.get("name", "").strip():
        typed = {"name": request.form.get("name", ""),
                 "language": request.form.get("language", ""),
                 "parameters": (request.form.get("parameters") or "").replace(",", " ").split()}
        try:
            chosen[key] = whatsapp_templates.clean(typed)
        except ValueError as exc:
            db.session.rollback()
            return _settings_page({f"whatsapp-{key}": [str(exc)]}, 422, typed={key: typed})
    else:
        chosen.pop(key, None)
    before = ((tenant.settings or {}).get("whatsapp_templates") or {}).get(key)
    tenant.settings = {**(tenant.settings or {}), "whatsapp_templates": chosen}
    if chosen.get(key) != before:
        audit.record(tenant.id, current_user, "notifications.whatsapp_template_changed",
                     "notification_template", None, target_label=key,
                     before={"template": before}, after={"template": chosen.get(key)})
    db.session.commit()
    flash(_("The WhatsApp template was saved."), "success")
    return redirect(url_for("notifications_admin.index") + "#whatsapp")


@bp.post("/custom")
def new_custom():
    try:
        key = wording.new_custom_key(current_user.tenant_id, request.form.get("name", ""))
    except ValidationError as exc:
        db.session.rollback()
        return _settings_page({"custom": exc.messages.get("name", [])}, 422)
    return redirect(url_for("notifications_admin.template", key=key, locale=LOCALES[0], new=1))


def _editor(key, locale, values, errors=None, shown=None, status=200):
    page = render_template(
        "notifications/template.html", key=key, locale=locale, values=values,
        errors=errors or {}, preview=shown, events=EVENTS, locales=LOCALES,
        locale_labels=LOCALE_LABELS, variables=wording.sandbox.VARIABLES,
        filters=sorted(f for f in wording.sandbox.FILTERS if len(f) > 1),  # not d, e
        is_custom=key.startswith("custom."),
        saved=wording.row_of(current_user.tenant_id, key, locale) is not None)
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/templates/<key>/<locale>")
def template(key: str, locale: str):
    _key_or_404(key, locale)
    values = wording.current(current_user.tenant_id, key, locale)
    return _editor(key, locale, values, shown=wording.preview(
        current_user, _tenant(), key, locale, values))


@bp.post("/templates/<key>/<locale>")
def save_template(key: str, locale: str):
    _key_or_404(key, locale)
    values = {part: request.form.get(part, "") for part in wording.LIMITS}
    action = request.form.get("action")
    if action == "reset":
        before = _wording_of(key, locale)
        if wording.reset(current_user.tenant_id, key, locale):
            audit.record(current_user.tenant_id, current_user, "notifications.wording_reset",
                         "notification_template", None, target_label=f"{key} ({locale})",
                         before=before)
        db.session.commit()
        if not key.startswith("custom."):
            flash(_("The product's wording is back."), "success")
            return redirect(url_for("notifications_admin.template", key=key, locale=locale))
        if key in wording.custom_keys(current_user.tenant_id):
            flash(_("This language of the message was deleted."), "success")
            other = next(lang for lang in LOCALES if lang != locale)
            return redirect(url_for("notifications_admin.template", key=key, locale=other))
        flash(_("The message %(key)s was deleted; a diagram that sends it stops with an "
                "incident.", key=key), "success")
        return redirect(url_for("notifications_admin.index"))
    try:
        shown = wording.preview(current_user, _tenant(), key, locale, values)
    except ValidationError as exc:
        db.session.rollback()
        return _editor(key, locale, values, exc.messages, status=422)
    if action == "preview":
        db.session.rollback()
        return _editor(key, locale, values, shown=shown)
    before = _wording_of(key, locale)
    row = wording.save(current_user, key, locale, values)
    after = {part: getattr(row, part) for part in wording.LIMITS}
    if after != before:
        audit.record(current_user.tenant_id, current_user, "notifications.wording_changed",
                     "notification_template", row.id, target_label=f"{key} ({locale})",
                     before=before, after=after)
    db.session.commit()
    flash(_("The wording was saved: messages from now on use it, and so do the titles in "
            "the bell."), "success")
    return redirect(url_for("notifications_admin.template", key=key, locale=locale))


def _wording_of(key: str, locale: str) -> dict | None:
    """The tenant's own wording of ``key`` in ``locale`` for an audit entry (None: the
    product's)."""
    row = wording.row_of(current_user.tenant_id, key, locale)
    return {part: getattr(row, part) for part in wording.LIMITS} if row is not None else None


@bp.route("/log")
def log():
    before = request.args.get("before", type=int)
    channel = request.args.get("channel")
    status = request.args.get("status")
    query = (select(OutboxMessage)
             .where(OutboxMessage.tenant_id == current_user.tenant_id,
                    OutboxMessage.channel.in_(MESSAGE_CHANNELS))
             .options(selectinload(OutboxMessage.notification))
             .order_by(OutboxMessage.id.desc()).limit(LOG_PAGE + 1))
    if before and 0 < before <= MAX_ID:
        query = query.where(OutboxMessage.id < before)
    if channel in MESSAGE_CHANNELS:
        query = query.where(OutboxMessage.channel == channel)
    if status in ("pending", "delivered", "failed", "unsent"):
        query = query.where(OutboxMessage.status == status)
    rows = list(db.session.scalars(query))
    page = render_template("notifications/log.html", rows=rows[:LOG_PAGE],
                           older=len(rows) > LOG_PAGE, channel=channel, status=status,
                           channels=MESSAGE_CHANNELS, events=EVENTS)
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/log/<int:message_id>/resend")
def resend(message_id: int):
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.tenant_id == current_user.tenant_id, OutboxMessage.id == message_id,
        OutboxMessage.channel.in_(MESSAGE_CHANNELS))) if 0 < message_id <= MAX_ID else None
    if message is None:
        abort(404)
    back = url_for("notifications_admin.log", channel=_kept("channel", MESSAGE_CHANNELS),
                   status=_kept("status", ("pending", "delivered", "failed", "unsent")))
    reason = configured()[message.channel]
    status = message.status
    if reason:
        flash(_("It cannot be sent: %(reason)s", reason=reasons.for_admin(reason)), "error")
    elif queue.resend(message):
        audit.record(current_user.tenant_id, current_user, "notifications.message_resent",
                     "outbox_message", message.id,
                     target_label=f"{message.channel}: {message.address}",
                     before={"status": status}, after={"status": message.status})
        db.session.commit()
        flash(_("Queued again; it is sent within a minute."), "success")
    else:
        flash(_("Only a failed or unsent message can be sent again."), "error")
    return redirect(back)


def _kept(name: str, allowed) -> str | None:
    value = request.form.get(name)
    return value if value in allowed else None
