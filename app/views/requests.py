"""Filing a request, my requests, and the request page with its timeline."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app import policy
from app.attachments import service as attachments
from app.engine.validation import TASK_ROLES
from app.extensions import db
from app.labels import ROLE, STEP, label, when
from app.models import REQUEST_STATUSES
from app.models.base import utcnow
from app.models.request import OPEN_REQUEST_STATUSES
from app.recurring import origin, wording
from app.request_fields import values as request_fields
from app.services import history, inbox, incidents, trail, workflow
from app.services import requests as request_service
from app.services.workflow import WorkflowError
from app.sla import display
from app.sla import service as sla_service
from app.views.common import describe_form, form_values, request_or_404
from app.views.listing import list_context, list_options, page_args

bp = Blueprint("requests", __name__)


@bp.route("/requests")
@login_required
def mine():
    status = request.args.get("status") if request.args.get("status") in REQUEST_STATUSES else None
    options = list_options(inbox.REQUEST_ORDERS, "newest")
    page = inbox.request_page(current_user, page_args(), mine_only=True, status=status,
                              q=request.args.get("q"), **options)
    return render_template("requests/mine.html", items=page.items, status=status,
                           statuses=REQUEST_STATUSES,
                           **list_context(options, inbox.REQUEST_ORDERS, page, page.items))


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new():
    if not policy.can_file_request(current_user):
        flash(_("You do not belong to any unit, so you cannot file requests."), "error")
        return redirect(url_for("pages.home"))
    categories = request_service.categories_for(current_user.tenant_id)
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = form_values(request.form)
        values["fields"] = request_fields.from_page(values)  # the chosen category's fields
        try:
            req = request_service.file_request(current_user, values)
            attachments.attach_uploads(current_user, req, request.files.getlist("files"))
            db.session.commit()
            flash(_("Request %(number)s filed.", number=req.number), "success")
            return redirect(url_for("requests.detail", request_id=req.id))
        except ValidationError as exc:
            db.session.rollback()
            errors, status = exc.messages, 422
        except WorkflowError:
            db.session.rollback()
            current_app.logger.exception("filing a request: the process could not start")
            errors, status = {"_schema": [_("The process could not start. Try again later.")]}, 500
    fields = describe_form(request_service.NewRequestSchema, values, errors)
    return render_template("requests/new.html", fields=fields, categories=categories,
                           errors=errors), status


@bp.post("/requests/<int:request_id>/cancel")
@login_required
def cancel(request_id: int):
    req = request_or_404(request_id)
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        flash(_("Say why you withdraw the request."), "error")
        return redirect(url_for("requests.detail", request_id=req.id))
    try:
        workflow.cancel_request(current_user, req, reason[:2000])
        db.session.commit()
    except workflow.TaskConflict:
        db.session.rollback()
        flash(_("This request can no longer be withdrawn."), "error")
        return redirect(url_for("requests.detail", request_id=req.id), code=303)
    except WorkflowError:
        db.session.rollback()
        current_app.logger.exception("request %s: withdrawing failed in the process",
                                     req.number)
        flash(_("The process could not take this step. Nothing was changed; "
                "tell your administrator."), "error")
        return redirect(url_for("requests.detail", request_id=req.id), code=303)
    flash(_("Request %(number)s withdrawn.", number=req.number), "success")
    return redirect(url_for("requests.detail", request_id=req.id))


@bp.post("/requests/<int:request_id>/comments")
@login_required
def comment(request_id: int):
    req = request_or_404(request_id)
    if request.form.get("insert_canned"):  # "Insert": the page again, the reply after the text
        return _detail_page(req)
    try:
        entry = request_service.add_comment(current_user, req, form_values(request.form))
        attachments.attach_uploads(current_user, req, request.files.getlist("files"),
                                   event=entry)
        db.session.commit()
        flash(_("Comment added."), "success")
    except ValidationError as exc:
        db.session.rollback()
        if not request.form.get("comment", "").strip():
            flash(_("Write a comment first."), "error")
        else:  # a mention of someone who may not see it, an internal note not theirs to write
            for messages in exc.messages.values():
                for message in messages if isinstance(messages, list) else [messages]:
                    flash(str(message), "error")
        return redirect(url_for("requests.detail", request_id=req.id) + "#comment"), 303
    return redirect(url_for("requests.detail", request_id=req.id) + "#history")


@bp.route("/requests/<int:request_id>")
@login_required
def detail(request_id: int):
    return _detail_page(request_or_404(request_id))


def _detail_page(req):
    """The request page; also the answer to the comment form's "Insert" (a canned response
    added to the text typed so far, nothing saved: ``conversation.page_context``)."""
    g.page_scripts = True  # the live diagram (app/static/dist/viewer.js)
    events = history.events_of(req, current_user)
    inbox.with_sla_clocks([req])
    clocks = display.page_clocks(sla_service.clocks_of(req, events, utcnow()))
    waiting = [(task, inbox.candidates(task)) for task in inbox.open_tasks_for_request(req)]
    stopped_at = (incidents.open_of_request(req)
                  if req.instance is not None and req.instance.status == "incident" else [])
    recurring = origin.of_request(req)  # a read only for a request a schedule filed
    # No step open and not stopped, yet not over: its process waits for a timer (a change's
    # implementation window), so the page says until when instead of "nothing pending"
    timer_at = (req.instance.next_timer_at if not waiting and not stopped_at
                and req.instance is not None and req.status in OPEN_REQUEST_STATUSES else None)
    return render_template("requests/detail.html", req=req, events=events, waiting=waiting,
                           stopped_at=stopped_at, clocks=clocks, recurring=recurring,
                           timer_at=timer_at,
                           recurring_words=recurring and wording.describe(
                               recurring.schedule.rule),
                           can_open_schedule=bool(recurring
                                                  and recurring.can_open(current_user)),
                           can_see_incidents=policy.can_own_processes(current_user),
                           can_cancel=policy.can_cancel_request(current_user, req),
                           can_act=lambda t: policy.can_complete_task(current_user, t),
                           can_claim=lambda t: policy.can_claim_task(current_user, t))


@bp.route("/requests/<int:request_id>/diagram.json")
@login_required
def diagram(request_id: int):
    """The request's diagram with its path, for the live viewer on the request page."""
    req = request_or_404(request_id)
    found = trail.trail_of(req)
    if found is None:
        abort(404)
    lane_names = {role: str(label(ROLE, role)) for role in TASK_ROLES}
    body = {
        "xml": trail.lanes_named(found.xml, found.checksum, lane_names),
        "version": found.version,
        "completed": found.completed,
        "flows": found.flows,
        "stopped": found.stopped,
        "current": [
            {"id": step.element_id, "name": str(label(STEP, step.name)),
             "waiting_on": step.waiting_on or [str(label(ROLE, step.role))],
             "taken_by": step.taken_by}
            for step in found.current
        ],
        "steps": {
            element_id: [{"by": done.by, "at": done.at.isoformat() if done.at else None,
                          "when": when(done.at)} for done in done_list]
            for element_id, done_list in found.steps.items()
        },
    }
    return jsonify(body), 200, {"Cache-Control": "no-store"}
