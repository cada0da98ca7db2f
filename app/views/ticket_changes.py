"""The director's changes to an open ticket on its pages: reassign and re-plan.

The forms are a partial (``tickets/_director_actions.html``) the request and ticket pages
include by one line; ``director_actions(req)`` gives it what it shows, and only to the
directors of the ticket's service unit while it is open.
"""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app import policy
from app.extensions import db
from app.handlers.assign import workers_of
from app.services import reassignment
from app.views.common import form_values, ticket_or_404

bp = Blueprint("ticket_changes", __name__)


@bp.app_context_processor
def _director_actions():
    def director_actions(req):
        ticket = req.ticket if req is not None else None
        if ticket is None or not current_user.is_authenticated \
                or not policy.can_direct_ticket(current_user, ticket):
            return None
        return {"ticket": ticket, "revision": reassignment.revision(ticket),
                "workers": [w for w in workers_of(ticket.tenant_id, ticket.service_unit_id)
                            if w.id != ticket.worker_id]}

    return {"director_actions": director_actions}


def _back(ticket, anchor: str = ""):
    target = request.form.get("next")
    if target != "ticket":
        return redirect(url_for("requests.detail", request_id=ticket.request_id) + anchor,
                        code=303)
    return redirect(url_for("tickets.detail", ticket_id=ticket.id) + anchor, code=303)


def _change(ticket_id: int, change, done):
    ticket = ticket_or_404(ticket_id)
    try:
        change(current_user, ticket, form_values(request.form))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        for messages in exc.messages.values():
            for message in messages:
                flash(message, "error")
        return _back(ticket, "#director-actions")
    except reassignment.TicketChanged:
        db.session.rollback()
        flash(_("Someone changed this ticket meanwhile. Nothing was changed; look at it "
                "again."), "error")
        return _back(ticket, "#director-actions")
    except reassignment.NotAllowed:
        db.session.rollback()
        flash(_("Only the director of the ticket's service unit may change it."), "error")
        return _back(ticket)
    flash(done(ticket), "success")
    return _back(ticket)


@bp.post("/tickets/<int:ticket_id>/reassign")
@login_required
def reassign(ticket_id: int):
    return _change(ticket_id, reassignment.reassign,
                   lambda t: _("Ticket %(number)s is now %(name)s's.", number=t.number,
                               name=t.worker.name))


@bp.post("/tickets/<int:ticket_id>/replan")
@login_required
def replan(ticket_id: int):
    return _change(ticket_id, reassignment.replan,
                   lambda t: _("Ticket %(number)s: planned dates changed.", number=t.number))
