"""Process owners' pages: the tenant's processes, versions with what changed, categories'
processes, and moving running requests to the active version (dry run first)."""


from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from app.engine.specs import DiagramError
from app.extensions import db
from app.kinds import service as kinds_service
from app.models import Category, HumanTask, ProcessDefinition, ProcessIncident, ProcessInstance
from app.process_catalog.views import process_label
from app.services import definitions, drafts, processes
from app.views.common import process_owners_only, scoped_get

bp = Blueprint("processes", __name__, url_prefix="/processes")

# What SpiffWorkflow's comparison names, in words a process owner reads.
CHANGE_LABELS = {
    "bpmn_name": _l("name"),
    "extensions": _l("properties (handlers, form, statuses, operation)"),
    "cond_task_specs": _l("conditions of its outgoing flows"),
    "default_task_spec": _l("default flow"),
    "lane": _l("lane (role)"),
    "inputs": _l("incoming flows"),
    "outputs": _l("outgoing flows"),
    "event_definition": _l("timer or event"),
    "cancel_activity": _l("whether it interrupts the task"),
    "form": _l("form fields"),
}


bp.before_request(process_owners_only)


# Notes the product writes itself when it deploys a version.
NOTE_LABELS = {
    "default diagram": _l("default diagram"),
    "reset to the default diagram": _l("reset to the default diagram"),
}
EXPRESSION_LABELS = {"condition": _l("condition"), "timer": _l("timer")}


@bp.context_processor
def _helpers():
    return {"change_label": lambda name: CHANGE_LABELS.get(name, name),
            "note_label": lambda note: NOTE_LABELS.get(note, note),
            "expression_label": lambda what: EXPRESSION_LABELS.get(
                what, what.replace("parameter ", _("parameter") + " "))}


def _versions_or_404(process_key: str) -> list[ProcessDefinition]:
    found = processes.versions(current_user.tenant_id, process_key)
    if not found:
        abort(404)
    return found


def _running_by_version(tenant_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(ProcessInstance.tenant_id == tenant_id,
               ProcessInstance.status.in_(("running", "incident")))
        .group_by(ProcessInstance.definition_id))
    return dict(rows.all())


@bp.route("")
def index():
    tenant_id = current_user.tenant_id
    running = _running_by_version(tenant_id)
    categories = list(db.session.scalars(
        select(Category).where(Category.tenant_id == tenant_id).order_by(Category.name)))
    rows = []
    for key in processes.process_keys(tenant_id):
        found = processes.versions(tenant_id, key)
        rows.append({
            "key": key,
            "active": next((v for v in found if v.is_active), None),
            "versions": len(found),
            "running": sum(running.get(v.id, 0) for v in found),
            "running_old": sum(running.get(v.id, 0) for v in found if not v.is_active),
            "draft": drafts.get_draft(tenant_id, key),
            "categories": [c for c in categories if c.process_key == key],
        })
    open_incidents = db.session.scalar(
        select(func.count()).select_from(ProcessIncident)
        .where(ProcessIncident.tenant_id == tenant_id, ProcessIncident.status == "open"))
    return render_template("processes/index.html", rows=rows, categories=categories,
                           deployed=processes.deployed_keys(tenant_id),
                           open_incidents=open_incidents)


@bp.route("/new", methods=["POST"])
def new_process():
    """Start a new process as a draft, copied from one of the tenant's processes."""
    tenant_id = current_user.tenant_id
    key = (request.form.get("process_key") or "").strip().lower()
    source = request.form.get("copy_from") or definitions.DEFAULT_PROCESS_KEY
    existing = processes.process_keys(tenant_id)
    if not processes.is_process_key(key):
        flash(_("The process key must start with a letter and use only lowercase letters, "
                "digits and underscores (2 to 80 characters)."), "error")
    elif key in existing:
        flash(_("There is already a process called %(key)s.", key=key), "error")
    elif source not in existing:
        abort(400)
    else:
        if source in processes.deployed_keys(tenant_id):
            xml = definitions.active_definition(tenant_id, source).bpmn_xml
        else:  # a process that so far only has a draft
            xml = drafts.get_draft(tenant_id, source).bpmn_xml
        try:
            drafts.save_draft(tenant_id, key, xml, current_user)
        except DiagramError as exc:  # e.g. a draft saved before kinds were checked on save
            db.session.rollback()
            flash(_("%(source)s cannot be copied until its diagram is mended: %(problems)s",
                    source=source, problems="; ".join(message for _eid, message in exc.problems)),
                  "error")
            return redirect(url_for("processes.index"))
        db.session.commit()
        flash(_("Process %(key)s created as a draft from %(source)s. Edit it and deploy it; "
                "then categories can use it.", key=key, source=source), "success")
        return redirect(url_for("modeler.page", process_key=key))
    return redirect(url_for("processes.index"))


@bp.route("/categories/<int:category_id>", methods=["POST"])
def category_process(category_id: int):
    category = scoped_get(Category, category_id)
    key = request.form.get("process_key") or ""
    try:
        processes.set_category_process(category, key, current_user)
    except processes.UnknownProcess:
        db.session.rollback()
        flash(_("Only a deployed process can be chosen for a category."), "error")
        return redirect(url_for("processes.index"))
    db.session.commit()
    flash(_("New requests in %(category)s will follow %(key)s; requests already filed keep "
            "their process.", category=category.name, key=process_label(key)), "success")
    return redirect(url_for("processes.index"))


VERSIONS_PAGE = 10  # each version shown compiles it and the one before: a page bounds the cost


@bp.route("/<process_key>/versions")
def versions(process_key: str):
    found = _versions_or_404(process_key)
    pages = max(1, -(-len(found) // VERSIONS_PAGE))
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= pages:
        abort(404)
    shown = found[(page - 1) * VERSIONS_PAGE:page * VERSIONS_PAGE]
    running = _running_by_version(current_user.tenant_id)
    changes, expressions = {}, {}
    after = found[(page - 1) * VERSIONS_PAGE + 1:page * VERSIONS_PAGE + 1]
    for newer, older in zip(shown, after, strict=False):
        changes[newer.version] = processes.diff(older, newer)
        expressions[newer.version] = processes.expression_changes(older, newer)
    has_default = (definitions.PROCESSES_DIR / f"{process_key}.bpmn").is_file()
    return render_template("processes/versions.html", key=process_key, versions=shown,
                           running=running, changes=changes, expressions=expressions,
                           has_default=has_default, page=page, pages=pages,
                           active=next((v for v in found if v.is_active), None),
                           draft_kind=kinds_service.draft_kind(current_user.tenant_id,
                                                               process_key))


@bp.route("/<process_key>/versions/<int:number>.bpmn")
def export_version(process_key: str, number: int):
    found = processes.version(current_user.tenant_id, process_key, number)
    if found is None:
        abort(404)
    return Response(found.bpmn_xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{process_key}-v{number}.bpmn"'})


@bp.route("/<process_key>/reset", methods=["POST"])
def reset(process_key: str):
    _versions_or_404(process_key)
    try:
        definition = processes.reset_to_default(current_user.tenant_id, current_user,
                                                process_key)
    except FileNotFoundError:
        abort(404)
    except processes.DeployConflict:
        db.session.rollback()
        flash(_("Someone deployed this process at the same moment; check the versions and "
                "try again."), "error")
        return redirect(url_for("processes.versions", process_key=process_key))
    db.session.commit()
    flash(_("The default diagram is now version %(number)s.", number=definition.version),
          "success")
    return redirect(url_for("processes.versions", process_key=process_key))


@bp.route("/<process_key>/migrate", methods=["GET", "POST"])
def migrate(process_key: str):
    found = _versions_or_404(process_key)
    active = next(v for v in found if v.is_active)
    moved = request.method == "POST"
    if moved:
        checks = processes.move_all(current_user, current_user.tenant_id, process_key)
        db.session.commit()
        count = sum(1 for c in checks if c.movable)
        flash(ngettext("%(num)s request moved to version %(number)s.",
                       "%(num)s requests moved to version %(number)s.", count,
                       number=active.version), "success" if count else "info")
    else:
        checks = processes.plan(current_user.tenant_id, process_key)
    return render_template("processes/migrate.html", key=process_key, active=active,
                           checks=checks, moved=moved, waiting=_waiting_at(checks))


def _waiting_at(checks) -> dict[int, list[str]]:
    """The steps each request waits at, in one query."""
    ids = [c.request.id for c in checks]
    waiting: dict[int, list[str]] = {}
    if ids:
        rows = db.session.execute(
            select(HumanTask.request_id, HumanTask.name)
            .where(HumanTask.tenant_id == current_user.tenant_id,
                   HumanTask.request_id.in_(ids), HumanTask.status == "open")
            .order_by(HumanTask.id))
        for request_id, name in rows:
            waiting.setdefault(request_id, []).append(name)
    return waiting
