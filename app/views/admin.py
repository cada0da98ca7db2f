"""Tenant administration: webhook endpoints and their delivery log."""

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from app import policy
from app.extensions import db, login_manager
from app.labels import OUTBOX_BADGE, OUTBOX_STATUS
from app.models import WEBHOOK_EVENTS, OutboxMessage, WebhookEndpoint
from app.services import webhooks
from app.views.common import scoped_get

bp = Blueprint("admin", __name__, url_prefix="/admin")

EVENT_LABELS = {
    "request.filed": _l("A request is filed"),
    "request.authorized": _l("The unit head authorizes it"),
    "request.rejected": _l("It is rejected"),
    "request.approved": _l("The service unit approves it"),
    "request.returned": _l("It is returned to the requester for more information"),
    "ticket.assigned": _l("A ticket is assigned to a worker"),
    "ticket.started": _l("The work starts"),
    "ticket.on_hold": _l("The work is put on hold"),
    "ticket.resumed": _l("The work resumes"),
    "ticket.finished": _l("The work is finished"),
    "ticket.reopened": _l("The requester says it is not solved: the work goes back"),
    "ticket.reassigned": _l("The director gives the ticket to another worker"),
    "ticket.replanned": _l("The director changes the ticket's planned dates"),
    "request.confirmed": _l("The requester confirms and rates it"),
    "request.closed": _l("It closes itself without the requester's confirmation"),
    "request.commented": _l("Someone comments on it (public comments only: internal notes "
                            "are never sent)"),
    "sla.warning": _l("It nears a service-level due time (the warning threshold)"),
    "sla.breached": _l("It goes past a service-level due time"),
}


@bp.before_request
def _tenant_admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_manage_webhooks(current_user):
        abort(404)
    return None


@bp.context_processor
def _labels():
    return {"event_labels": EVENT_LABELS, "delivery_status": OUTBOX_STATUS,
            "delivery_badge": OUTBOX_BADGE, "pretty_json": _pretty_json}


def _pretty_json(payload) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)


MAX_ID = 2**31 - 1  # ids are 32-bit integers: PostgreSQL refuses larger ones in a query


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    if endpoint_id > MAX_ID:
        abort(404)
    return scoped_get(WebhookEndpoint, endpoint_id)


@bp.route("/webhooks")
def webhooks_index():
    return render_template("admin/webhooks.html",
                           endpoints=webhooks.endpoints_of(current_user.tenant_id))


@bp.route("/webhooks/new", methods=["GET", "POST"])
def webhook_new():
    values, errors, status = {"events": []}, {}, 200
    if request.method == "POST":
        values = {"url": request.form.get("url", ""),
                  "description": request.form.get("description", ""),
                  "events": request.form.getlist("events")}
        try:
            endpoint = webhooks.create_endpoint(current_user, values)
            db.session.commit()
            flash(_("Endpoint registered. Configure the receiver with the secret below."),
                  "success")
            return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint.id))
        except ValidationError as exc:
            db.session.rollback()
            errors, status = exc.messages, 422
    return render_template("admin/webhook_new.html", values=values, errors=errors,
                           events=WEBHOOK_EVENTS), status


@bp.route("/webhooks/<int:endpoint_id>")
def webhook_detail(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    before = request.args.get("before", type=int)
    before = before if before and 0 < before <= MAX_ID else None
    deliveries, older = webhooks.log_of(endpoint, before)
    response = render_template("admin/webhook.html", endpoint=endpoint, deliveries=deliveries,
                               older=older, before=before, can_retry=webhooks.can_retry)
    return response, 200, {"Cache-Control": "no-store"}  # the page shows the secret


@bp.post("/webhooks/<int:endpoint_id>/active")
def webhook_active(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    active = request.form.get("active") == "1"
    webhooks.set_active(endpoint, active, current_user)
    db.session.commit()
    flash(_("Endpoint enabled.") if active else
          _("Endpoint disabled: events are no longer queued for it."), "success")
    return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint.id))


@bp.post("/webhooks/<int:endpoint_id>/delete")
def webhook_delete(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    webhooks.delete_endpoint(endpoint, current_user)
    db.session.commit()
    flash(_("Endpoint deleted, with its delivery log."), "success")
    return redirect(url_for("admin.webhooks_index"))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/retry")
def delivery_retry(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if delivery_id > MAX_ID:
        abort(404)
    delivery = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.tenant_id == current_user.tenant_id,
        OutboxMessage.endpoint_id == endpoint.id,
        OutboxMessage.id == delivery_id))
    if delivery is None:
        abort(404)
    if webhooks.retry(delivery, current_user):
        db.session.commit()
        flash(_("Delivery queued again; the background worker sends it on its next pass.")
              if endpoint.active else
              _("Delivery queued again; it is sent once the endpoint is enabled."), "success")
    else:
        db.session.rollback()
        flash(_("Only failed deliveries can be retried."), "error")
    return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint.id))
