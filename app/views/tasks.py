"""One page per task: its form(s), completion, claim and release."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
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
from app.extensions import db
from app.handlers.base import TaskContext
from app.handlers.registry import handler_for, handlers_for
from app.notifications import service as notices
from app.services import inbox, workflow
from app.services.history import recent_comments
from app.sqlite import writing
from app.viability import panel
from app.views.common import describe_form, form_values, task_or_404

bp = Blueprint("tasks", __name__)

CONFLICT_MESSAGES = {
    "already_completed": lambda: _("This task was already completed by someone else. "
                                   "Nothing was changed."),
    "claimed": lambda: _("Someone else has taken this task. Nothing was changed."),
}


def _page(task, values=None, errors=None, active=None, status=200, notice=None):
    handlers = handlers_for(task)
    ctx = TaskContext(user=current_user, request=task.request, task=task)
    viability = None
    if panel.shows_panel(current_user, task):
        viability = panel.context(current_user, task, values)
        g.page_scripts = True  # the panel follows the estimate as it is typed
    forms = []
    for handler in handlers:
        prefill = handler.prefill(ctx) if hasattr(handler, "prefill") else {}
        if handler.name == "evaluate" and viability is not None:  # the computed fact
            prefill = {**prefill, "staff_available": viability["assessed"].staff_available}
        mine = active == handler.name
        data = {**prefill, **(values or {})} if mine else prefill
        forms.append({
            "handler": handler,
            "fields": describe_form(handler.schema, data, errors if mine else None,
                                    handler.form_notes(ctx)),
            "errors": (errors or {}).get("_schema", []) if mine else [],
        })
    workload = []
    if "assign" in task.handler_list and task.status == "open":
        workload = inbox.workload(current_user, task.request.service_unit_id)
    return render_template(
        "tasks/task.html", task=task, req=task.request, forms=forms, workload=workload,
        active=active or (handlers[0].name if handlers else None),
        waiting=inbox.candidates(task),
        can_complete=policy.can_complete_task(current_user, task),
        can_claim=policy.can_claim_task(current_user, task),
        can_release=policy.can_release_task(current_user, task),
        notice=notice,
        comments=recent_comments(task.request, viewer=current_user),
        viability=viability,
    ), status


@bp.route("/tasks/<int:task_id>/viability")
@login_required
def viability_panel(task_id: int):
    """The evaluation page's viability panel for the estimate typed so far (fetched by
    ``frontend/viability.js`` as the director types); 404 for whoever may not see it."""
    task = task_or_404(task_id)
    if not panel.shows_panel(current_user, task):
        abort(404)
    response = make_response(render_template(
        "viability/_panel.html", **panel.context(current_user, task, request.args)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tasks/<int:task_id>")
@login_required
def show(task_id: int):
    task = task_or_404(task_id)
    if notices.unread_about_task(current_user, task.id):  # opened: what told of it is read
        db.session.rollback()
        with writing():  # a page view writes only then, in a short transaction of its own
            notices.read_task_notices(current_user, task.id)
            db.session.commit()
        task = task_or_404(task_id)
    return _page(task)


@bp.post("/tasks/<int:task_id>")
@login_required
def complete(task_id: int):
    task = task_or_404(task_id)
    values = form_values(request.form)
    handler_name = values.pop("handler", None) or (task.handler_list or [None])[0]
    values.pop("csrf_token", None)
    try:
        result = workflow.complete(current_user, task, handler_name, values)
        attachments.attach_to_completion(current_user, result.request, handler_name,
                                         request.files.getlist("files"))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _page(task, values, exc.messages, handler_name, 422)
    except workflow.TaskConflict as exc:
        db.session.rollback()
        return _page(task, status=409, notice=CONFLICT_MESSAGES[exc.reason]())
    except workflow.NotAllowed:
        db.session.rollback()
        return _page(task, status=403, notice=_("You may not complete this task."))
    except workflow.WorkflowError:
        db.session.rollback()
        current_app.logger.exception("request %s: step %s (%s) failed in the process",
                                     task.request.number, task.spec_id, handler_name)
        notice = _("The process could not take this step. "
                   "Nothing was changed; tell your administrator.")
        return _page(task, values, None, handler_name, 500, notice=notice)
    flash(_("Done: %(action)s.", action=handler_for(task, handler_name).title), "success")
    if result.stopped:
        flash(_("Your step was saved, but the process stopped at a later step because of an "
                "error in its diagram. The process owner has been told."), "error")
    return redirect(_after_completion(result.request))


def _after_completion(req) -> str:
    """The request's page when the person may still see it; otherwise (a worker whose step
    was their only tie to it) their inbox, where the success message still shows."""
    if policy.can_view_request(current_user, req):
        return url_for("requests.detail", request_id=req.id)
    return url_for("inbox.tasks")


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    task = task_or_404(task_id)
    try:
        workflow.claim(current_user, task)
        db.session.commit()
        flash(_("The task is yours now; others no longer see it in their inbox."), "success")
    except workflow.TaskConflict as exc:
        db.session.rollback()
        return _page(task, status=409, notice=CONFLICT_MESSAGES[exc.reason]())
    except workflow.NotAllowed:
        db.session.rollback()
        return _page(task, status=403, notice=_("You may not take this task."))
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id: int):
    task = task_or_404(task_id)
    try:
        workflow.release(current_user, task)
        db.session.commit()
        flash(_("Task released; others can take it."), "success")
    except workflow.NotAllowed:
        db.session.rollback()
        return _page(task, status=403, notice=_("You do not hold this task."))
    return redirect(url_for("tasks.show", task_id=task.id))
