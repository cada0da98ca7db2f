"""Process owners' pages of the catalog: the cards on the Procesos page (a template global the
page includes), a template's preview with its diagram, adopting it, and the incident priority
matrix. Thin: ``adoption`` and ``settings`` decide."""

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from app import policy
from app.engine.validation import TASK_ROLES
from app.engine.xml import DiagramError
from app.extensions import db
from app.labels import PRIORITY, ROLE, label
from app.models import PRIORITIES, Category, Tenant
from app.process_catalog import adoption, fields, matrix, names, settings, templates
from app.services import processes, trail
from app.sla.service import default_calendar, usable_calendar
from app.tenancy.quotas import QuotaExceeded
from app.views.common import process_owners_only

bp = Blueprint("process_catalog", __name__, url_prefix="/processes",
               template_folder="templates")
bp.before_request(process_owners_only)

ADOPT_ERRORS = {
    "unknown_template": _l("There is no such template in the catalog."),
    "invalid_key": _l("The process key must start with a letter and use only lowercase "
                      "letters, digits and underscores (2 to 80 characters)."),
    "key_taken": _l("There is already a process called %(key)s: choose another key."),
}


def adopt_message(error: adoption.AdoptError) -> str:
    return str(ADOPT_ERRORS[error.code]) % {"key": error.key}


def locale() -> str:
    return str(get_locale() or "es")


def cards() -> list[dict]:
    """What the Procesos page shows of the catalog, in the reader's language; ``taken``: the
    company already has a process under the template's key (adopted: only another key)."""
    language = locale()
    keys = set(processes.process_keys(current_user.tenant_id))
    return [{"key": t.key, "kind": t.kind, "name": t.name.get(language), "taken": t.key in keys,
             "description": t.description.get(language),
             "needs": [n.get(language) for n in t.needs],
             "teams": [team.name.get(language) for team in t.teams]}
            for t in templates.available()]


@bp.route("/catalog/<template_key>/preview")
def preview(template_key: str):
    template = templates.get(template_key)
    if template is None:
        abort(404)
    g.page_scripts = True  # the diagram viewer (app/static/dist/viewer.js)
    card = next(c for c in cards() if c["key"] == template.key)
    taken = template.key in processes.process_keys(current_user.tenant_id)
    return render_template("process_catalog/preview.html", card=card, taken=taken)


@bp.route("/catalog/<template_key>/diagram.json")
def diagram(template_key: str):
    """The template's diagram for the viewer, its lanes named in the reader's language."""
    template = templates.get(template_key)
    if template is None:
        abort(404)
    xml = template.xml()
    names = {role: str(label(ROLE, role)) for role in TASK_ROLES}
    body = {"xml": trail.lanes_named(xml, f"catalog:{template.key}:{len(xml)}", names),
            "version": None, "completed": [], "flows": [], "stopped": [], "current": [],
            "steps": {}}
    return jsonify(body), 200, {"Cache-Control": "no-store"}


@bp.route("/catalog/<template_key>/adopt", methods=["POST"])
def adopt(template_key: str):
    deploy = request.form.get("deploy") == "1"
    key = (request.form.get("process_key") or "").strip() or None
    try:
        adopted = adoption.adopt(current_user.tenant_id, template_key, current_user,
                                 process_key=key, deploy=deploy)
    except adoption.AdoptError as exc:
        db.session.rollback()
        if exc.code == "unknown_template":
            abort(404)
        flash(adopt_message(exc), "error")
        return redirect(url_for("processes.index") + "#catalog")
    except QuotaExceeded as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("processes.index") + "#catalog")
    except (DiagramError, processes.DeployConflict):
        db.session.rollback()
        flash(_("The template could not be deployed as it is; adopt it as a draft and check "
                "it in the modeler."), "error")
        return redirect(url_for("processes.index") + "#catalog")
    db.session.commit()
    if adopted.definition is not None:
        flash(_("Process %(key)s adopted and deployed (version %(number)s). Choose below which "
                "categories follow it.", key=process_label(adopted.process_key),
                number=adopted.definition.version), "success")
        return redirect(url_for("processes.index") + "#categories")
    flash(_("Process %(key)s adopted as a draft. Edit it and deploy it; then categories can "
            "use it.", key=process_label(adopted.process_key)), "success")
    return redirect(url_for("modeler.page", process_key=adopted.process_key))


@bp.route("/priority-matrix", methods=["GET", "POST"])
def priority_matrix():
    """The incident template's matrix (impact x urgency -> priority) and the first line's
    time per priority before escalation."""
    tenant = db.session.get(Tenant, current_user.tenant_id)
    values = settings.current(tenant)
    problems: dict = {}
    status = 200
    if request.method == "POST":
        sent_matrix = {impact: {urgency: request.form.get(f"m-{impact}-{urgency}", "")
                                for urgency in matrix.LEVELS} for impact in matrix.LEVELS}
        sent_escalation = {p: request.form.get(f"e-{p}", "") for p in PRIORITIES}
        try:
            changed = settings.apply(current_user, tenant, sent_matrix, sent_escalation)
        except matrix.MatrixError as exc:
            db.session.rollback()
            problems, status = exc.problems, 422
            values = {"matrix": sent_matrix, "escalation_after": sent_escalation,
                      "is_default": False}
            flash(_("Nothing was saved: check the marked cells."), "error")
        else:
            db.session.commit()
            flash(_("Priority matrix saved; incidents filed from now on use it.") if changed
                  else _("Nothing changed."), "success" if changed else "info")
            return redirect(url_for("process_catalog.priority_matrix"))
    prioritizing = fields.prioritizing_keys(tenant.id)
    categories = sorted(db.session.scalars(select(Category).where(
        Category.tenant_id == tenant.id, Category.active.is_(True))),
        key=lambda c: (c.process_key not in prioritizing, c.name.lower()))
    return render_template("process_catalog/matrix.html", values=values, problems=problems,
                           categories=categories, has_fields=fields.has_them,
                           prioritizing=prioritizing,
                           business_calendar=_usable_default_calendar(tenant.id),
                           may_edit_categories=policy.can_administer_tenant(current_user),
                           levels=matrix.LEVELS, impact_labels=matrix.IMPACT_LABELS,
                           urgency_labels=matrix.URGENCY_LABELS,
                           priorities=PRIORITIES, priority_labels=PRIORITY,
                           settings_keys=(settings.MATRIX_KEY, settings.ESCALATION_KEY)), status


def _usable_default_calendar(tenant_id: int):
    """The default business calendar the escalation would count on (None: calendar time)."""
    row = default_calendar(tenant_id)
    return row if row is not None and usable_calendar(row) is not None else None


@bp.route("/priority-matrix/fields", methods=["POST"])
def add_fields():
    """Add the fields impact and urgency to a category (a tenant admin's edit of it)."""
    if not policy.can_administer_tenant(current_user):
        abort(403)
    category_id = request.form.get("category_id", type=int)
    category = None if not category_id or not 0 < category_id < 2**31 else db.session.scalar(
        select(Category).where(Category.tenant_id == current_user.tenant_id,
                               Category.id == category_id))
    if category is None:
        abort(404)
    if category.process_key not in fields.prioritizing_keys(current_user.tenant_id):
        flash(_("%(category)s follows a process that does not prioritize by impact and "
                "urgency: the fields would have no effect. Nothing was changed.",
                category=category.name), "error")
        return redirect(url_for("process_catalog.priority_matrix") + "#fields")
    tenant = db.session.get(Tenant, current_user.tenant_id)
    try:
        added = fields.add_to(current_user, tenant, category)
    except ValidationError:
        db.session.rollback()
        flash(_("The fields could not be added to %(category)s; edit its fields under "
                "Categories.", category=category.name), "error")
    else:
        db.session.commit()
        flash(_("%(category)s now asks for impact and urgency when an incident is filed.",
                category=category.name) if added else
              _("%(category)s already asks for impact and urgency.", category=category.name),
              "success" if added else "info")
    return redirect(url_for("process_catalog.priority_matrix") + "#fields")


def process_names() -> dict[str, str]:
    """Process key -> name, for the signed-in person's company in their language (once per
    page: kept on ``g``)."""
    if not current_user.is_authenticated:
        return {}
    if "process_names" not in g:
        g.process_names = names.titles(current_user.tenant_id, locale())
    return g.process_names


def process_label(key: str) -> str:
    """A process as messages name it: "Incidente (incident)", or the key without a name."""
    name = process_names().get(key)
    return _("%(name)s (%(key)s)", name=name, key=key) if name else key


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.add_template_global(process_names, "process_names")
    app.add_template_global(process_label, "process_label")
    app.add_template_global(cards, "process_catalog_cards")
    app.add_template_global(matrix.level_label, "level_label")
