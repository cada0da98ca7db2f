"""The checklists' pages: the company's checklists and alerts by severity (process owners and
tenant admins), a task's ticks (each a POST of its own: answered with the task page, or, sent
by dist/checklist.js with ``Accept: application/json``, with the checklist to swap in), and a
request's printable report. Thin: load by the person's company, check with ``app.policy``,
call a service, commit once."""

from flask import (
    Blueprint,
    abort,
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
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app import policy
from app.checklists import alerts, defaults, report, service
from app.checklists import tasks as checklist_tasks
from app.extensions import db
from app.services import processes
from app.views.common import request_or_404, task_or_404

bp = Blueprint("checklists", __name__, template_folder="templates")


def _managers_only():
    if not policy.can_manage_checklists(current_user):
        abort(403)


def _index(alert_errors=None, alert_values=None, status=200):
    rows = service.list_for(current_user.tenant_id)
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.process_key, []).append(row)
    mapping = alert_values or alerts.mapping(current_user.tenant)
    prefix = alerts.TEAM_PREFIX
    team_text = {severity: ", ".join(r[len(prefix):] for r in chosen if r.startswith(prefix))
                 for severity, chosen in mapping.items()}
    return render_template(
        "checklists/index.html", grouped=grouped, mapping=mapping, team_text=team_text,
        severities=alerts.SEVERITIES, severity_labels=alerts.SEVERITY_LABELS,
        roles=alerts.ROLES, alert_errors=alert_errors or {},
        checklist_labels=defaults.CHECKLIST_LABELS), status


@bp.route("/checklists")
@login_required
def index():
    _managers_only()
    return _index()


def _form(row=None, values=None, errors=None, status=200):
    process_keys = processes.process_keys(current_user.tenant_id)
    return render_template("checklists/form.html", row=row, values=values or {},
                           errors=errors or {}, process_keys=process_keys,
                           max_items=service.MAX_ITEMS, max_chars=service.MAX_ITEM_CHARS,
                           checklist_labels=defaults.CHECKLIST_LABELS), status


@bp.route("/checklists/new", methods=["GET", "POST"])
@login_required
def new():
    _managers_only()
    if request.method == "GET":
        return _form(values={"process_key": request.args.get("process_key", "")[:80]})
    values = {k: request.form.get(k, "") for k in ("process_key", "key", "items")}
    try:
        service.check_keys(values["process_key"].strip(), values["key"].strip())
        if service.get(current_user.tenant_id, values["process_key"].strip(),
                       values["key"].strip()) is not None:
            raise ValidationError({"key": [_("This process already has a checklist with "
                                             "that key; edit it instead.")]})
        row, _created = service.save(current_user, values["process_key"].strip(),
                                     values["key"].strip(),
                                     service.items_from_text(values["items"]))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _form(values=values, errors=exc.messages, status=422)
    flash(_("Checklist saved."), "success")
    return redirect(url_for("checklists.index"), code=303)


def _row_or_404(process_key: str, key: str):
    row = service.get(current_user.tenant_id, process_key[:80], key[:40])
    if row is None:
        abort(404)
    return row


@bp.route("/checklists/<process_key>/<key>", methods=["GET", "POST"])
@login_required
def edit(process_key: str, key: str):
    _managers_only()
    row = _row_or_404(process_key, key)
    if request.method == "GET":
        return _form(row, {"items": "\n".join(row.items)})
    values = {"items": request.form.get("items", "")}
    try:
        service.save(current_user, row.process_key, row.key,
                     service.items_from_text(values["items"]))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _form(_row_or_404(process_key, key), values, exc.messages, 422)
    flash(_("Checklist saved. Steps already open keep the items they started with."),
          "success")
    return redirect(url_for("checklists.index"), code=303)


@bp.post("/checklists/<process_key>/<key>/delete")
@login_required
def delete(process_key: str, key: str):
    _managers_only()
    service.delete(current_user, _row_or_404(process_key, key))
    db.session.commit()
    flash(_("Checklist deleted. Steps already open keep their items."), "success")
    return redirect(url_for("checklists.index"), code=303)


def _posted_mapping() -> dict:
    """The alerts form: per severity, the roles ticked and the teams typed (comma separated)."""
    posted = {}
    for severity in alerts.SEVERITIES:
        chosen = [r for r in request.form.getlist(f"{severity}-roles") if r in alerts.ROLES]
        teams = [t.strip() for t in request.form.get(f"{severity}-teams", "")[:500].split(",")]
        chosen += [f"{alerts.TEAM_PREFIX}{t}" for t in teams if t]
        posted[severity] = chosen
    return posted


@bp.post("/checklists/alerts")
@login_required
def save_alerts():
    _managers_only()
    posted = _posted_mapping()
    try:
        alerts.save(current_user, posted)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _index(exc.messages, posted, 422)
    flash(_("Alerts by severity saved."), "success")
    return redirect(url_for("checklists.index") + "#alerts", code=303)


# --- a task's ticks ---------------------------------------------------------------------------

def _wants_json() -> bool:
    """A tick sent by the page's script (fetch, ``Accept: application/json``)."""
    return request.accept_mimetypes.best == "application/json"


TICK_ERRORS = {
    400: lambda: _("The page's security token has expired. Reload the page and tick again."),
    403: lambda: _("This step is no longer yours to tick (someone else may have taken it). "
                   "Reload the page."),
    404: lambda: _("This item no longer exists. Reload the page."),
    409: lambda: _("This task is closed; its checklist no longer changes."),
}


@bp.errorhandler(HTTPException)
def _tick_error(error):
    """A refused tick sent by the script gets its reason as JSON (shown beside the box);
    every other answer of this blueprint is the app's error page, as everywhere."""
    if request.endpoint != "checklists.tick" or not _wants_json():
        from app.views.pages import http_error

        return http_error(error)
    code = 400 if isinstance(error, CSRFError) else error.code
    message = TICK_ERRORS.get(code, lambda: _("The tick was not saved. Reload the page."))()
    return jsonify(error=message), error.code


@bp.post("/tasks/<int:task_id>/checklist/<int:position>")
@login_required
def tick(task_id: int, position: int):
    task = task_or_404(task_id)
    ticked = request.form.get("ticked") == "1"
    try:
        item = checklist_tasks.tick(current_user, task, position, ticked)
        if item is None:
            abort(404)
        db.session.commit()
    except checklist_tasks.TickRefused as exc:
        db.session.rollback()
        if exc.status == 403 or _wants_json():
            abort(exc.status)
        flash(_("This task is closed; its checklist no longer changes."), "error")
        return redirect(url_for("tasks.show", task_id=task_id), code=303)
    if _wants_json():
        cl = task_checklist(task)
        return jsonify(position=position, ticked=item.ticked_at is not None,
                       progress={"ticked": cl["progress"].ticked, "total": cl["progress"].total},
                       html=render_template("checklists/_checklist.html", task=task, cl=cl))
    return redirect(url_for("tasks.show", task_id=task_id) + f"#item-{position}", code=303)


def task_checklist(task) -> dict | None:
    """What the task page shows of a task's checklist (a template global): None when the
    task has none. When the person may tick it, the page runs dist/checklist.js (the CSP then
    lets the app's own scripts run)."""
    rows = checklist_tasks.items(task)
    if not rows:
        return None
    can_tick = checklist_tasks.can_tick(current_user, task)
    if can_tick:
        g.page_scripts = True
    return {"items": rows, "progress": checklist_tasks.progress(rows), "can_tick": can_tick,
            "label": defaults.CHECKLIST_LABELS.get(rows[0].checklist_key,
                                                   rows[0].checklist_key)}


# --- the report -------------------------------------------------------------------------------

@bp.route("/requests/<int:request_id>/report")
@login_required
def request_report(request_id: int):
    req = request_or_404(request_id)
    found = report.build(current_user, req)
    if found is None:
        abort(404)
    return render_template("checklists/report.html", report=found, req=req,
                           severity_labels=alerts.SEVERITY_LABELS,
                           hidden=found.hidden)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.add_template_global(task_checklist, "task_checklist")
    app.add_template_global(lambda v: str(alerts.SEVERITY_LABELS.get(v, v)), "severity_label")
