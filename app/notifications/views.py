"""The bell's pages: a person's notices (open, mark read, mark all read) and what they choose
to receive, with their phone number; the API is in ``app.notifications.api``."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.extensions import db
from app.models import Tenant
from app.notifications import reasons, service
from app.notifications.catalog import CHANNEL_LABELS, CHANNELS, GROUP_LABELS, GROUPS
from app.notifications.channels import configured
from app.notifications.compose import titles

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.app_context_processor
def bell():
    """``unread_notices()`` for the top bar: counted only when a page shows the bell."""
    labels = {"channel_label": lambda code: CHANNEL_LABELS.get(code, code),
              "reason_for_person": reasons.for_person, "reason_for_admin": reasons.for_admin}
    if not current_user.is_authenticated:
        return labels
    return {**labels, "unread_notices": lambda: service.unread_count(current_user)}


@bp.route("/notifications")
@login_required
def index():
    before = request.args.get("before", type=int)
    unread_only = request.args.get("unread") == "1"
    rows, more = service.page_of(current_user, before, unread_only=unread_only)
    tenant = db.session.get(Tenant, current_user.tenant_id)
    page = render_template("notifications/index.html", rows=rows, more=more,
                           titles=titles(rows, current_user, tenant), unread_only=unread_only,
                           settled={n.id for n in rows if service.settled(n)})
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/notifications/<int:notification_id>/open")
@login_required
def open_notice(notification_id: int):
    """Mark the notice read and go where it points (a task, a request)."""
    notification = service.find(current_user, notification_id)
    if notification is None:
        abort(404)
    service.mark_read(notification)
    db.session.commit()
    return redirect(service.safe_path(notification))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    notification = service.find(current_user, notification_id)
    if notification is None:
        abort(404)
    service.mark_read(notification)
    db.session.commit()
    return redirect(url_for("notifications.index", unread=request.form.get("unread") or None))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    count = service.mark_all_read(current_user)
    db.session.commit()
    flash(ngettext("%(num)s notification marked as read.",
                   "%(num)s notifications marked as read.", count) if count
          else _("There was nothing unread."), "success")
    return redirect(url_for("notifications.index"))


def _groups() -> list[str]:
    """The groups that concern the person: requests only for who files them, tickets only
    for workers (the others keep their channels, unseen)."""
    shown = []
    for group in GROUPS:
        if group == "requests" and current_user.home_unit_id is None:
            continue
        if group == "tickets" and not current_user.has_role("worker"):
            continue
        shown.append(group)
    return shown


def _preferences_page(chosen, phone, errors=None, status=200):
    page = render_template("notifications/preferences.html", chosen=chosen, phone=phone,
                           errors=errors or {}, groups=_groups(), group_labels=GROUP_LABELS,
                           channels=CHANNELS, channel_labels=CHANNEL_LABELS,
                           unavailable=configured())
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/notifications/preferences")
@login_required
def preferences():
    return _preferences_page(service.preferences_of(current_user), current_user.phone or "")


@bp.post("/notifications/preferences")
@login_required
def save_preferences():
    chosen = {group: request.form.getlist(f"channels-{group}") for group in _groups()}
    phone = (request.form.get("phone") or "").strip()
    errors = {}
    try:
        chosen = service.clean_channels(chosen)
    except ValidationError as exc:
        errors.update(exc.messages)
    try:
        clean_phone = service.clean_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
        clean_phone = None
    if not errors and not clean_phone and any(
            {"sms", "whatsapp"} & set(channels) for channels in chosen.values()):
        errors["phone"] = [_("Text messages and WhatsApp need a phone number.")]
    if errors:
        db.session.rollback()
        return _preferences_page(chosen, phone, errors, 422)
    service.set_preferences(current_user, chosen)
    current_user.phone = clean_phone
    db.session.commit()
    flash(_("Your notification settings were saved."), "success")
    return redirect(url_for("notifications.preferences"))
