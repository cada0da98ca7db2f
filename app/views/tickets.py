"""The ticket page."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.services import history, inbox
from app.views.common import ticket_or_404

bp = Blueprint("tickets", __name__)


@bp.route("/tickets/<int:ticket_id>")
@login_required
def detail(ticket_id: int):
    ticket = ticket_or_404(ticket_id)
    waiting = [(task, inbox.candidates(task))
               for task in inbox.open_tasks_for_request(ticket.request)]
    return render_template("tickets/detail.html", ticket=ticket, req=ticket.request,
                           waiting=waiting,
                           events=history.events_of(ticket.request, current_user))
