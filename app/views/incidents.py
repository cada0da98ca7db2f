"""Process owners' page of incidents: steps that failed at run time, and retrying them."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ProcessIncident
from app.services import incidents, workflow
from app.views.common import process_owners_only

bp = Blueprint("incidents", __name__, url_prefix="/processes/incidents")
bp.before_request(process_owners_only)

STATUSES = ("open", "resolved")


@bp.route("")
def index():
    status = request.args.get("status", "open")
    if status not in STATUSES:
        abort(404)
    number = request.args.get("page", 1, type=int)  # bounded: it becomes an OFFSET
    page = db.paginate(
        incidents.of_tenant(current_user.tenant_id, status).options(
            joinedload(ProcessIncident.request), joinedload(ProcessIncident.definition),
            joinedload(ProcessIncident.resolved_by)),
        page=number if number is not None and 0 < number <= 100_000 else 1,
        per_page=incidents.PAGE, max_per_page=incidents.PAGE, error_out=False)
    return render_template("processes/incidents.html", page=page, status=status)


@bp.post("/<int:incident_id>/retry")
def retry(incident_id: int):
    incident = incidents.get(current_user.tenant_id, incident_id)
    if incident is None:
        abort(404)
    number = incident.request.number
    try:
        went_on = workflow.retry_incident(current_user, incident)
        db.session.commit()
    except workflow.TaskConflict:
        db.session.rollback()
        flash(_("This incident is no longer open."), "info")
        return redirect(url_for("incidents.index"), code=303)
    except workflow.WorkflowError:
        db.session.rollback()
        flash(_("The request %(number)s could not be loaded to retry it; nothing was changed.",
                number=number), "error")
        return redirect(url_for("incidents.index"), code=303)
    if went_on:
        flash(_("The step of %(number)s went through; the request goes on.", number=number),
              "success")
    else:
        flash(_("The step of %(number)s failed again; see the error below. Fix the diagram, "
                "deploy it, move the request to the new version, then retry.", number=number),
              "error")
    return redirect(url_for("incidents.index"), code=303)
