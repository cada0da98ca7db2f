"""Pages under /classification: the tenant admin's classification rules (ordered, tried on
filing by a diagram's ``classify`` step) and the workers' skills, set by tenant admins and by
directors for the units they direct. Who may not finds nothing here (404). Thin: load by the
person's company and id, check with ``app.policy``, call ``editing`` / ``skills``, commit."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.api.common import paginate
from app.classification import editing, rules, skills
from app.classification.models import ClassificationRule
from app.extensions import db, login_manager
from app.models import PRIORITIES, Category, Unit

bp = Blueprint("classification", __name__, url_prefix="/classification",
               template_folder="templates")
PER_PAGE = 50
FIELD_LINES = 20


@bp.before_request
def _logged_in():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _admins_only() -> None:
    if not policy.can_manage_classification(current_user):
        abort(404)


def _no_store(page, status=200):
    return page, status, {"Cache-Control": "no-store"}


def _page_arg() -> int:
    value = request.args.get("page", type=int)
    return value if value is not None and 1 <= value <= 100_000 else 1


def _id(value) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 10 \
            or not 0 < int(text) <= 2**31 - 1:
        return -1  # not an id: refused as "choose from the list"
    return int(text)


# --- rules -----------------------------------------------------------------------------

def _read_form(form) -> editing.RuleInput:
    """The page's fields: words one per line or separated by commas; field conditions one
    per line as ``name = value``."""
    errors: dict[str, list[str]] = {}
    raw_words = str(form.get("words", ""))[:5000].replace(",", "\n").splitlines()
    conditions = []
    for line in str(form.get("field_conditions", ""))[:5000].splitlines()[:FIELD_LINES]:
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep:
            errors.setdefault("field_conditions", []).append(
                _("Write each field condition as name = value."))
            break
        conditions.append({"name": name.strip(), "value": value.strip()})
    position = _id(form.get("position"))
    if position == -1:
        errors.setdefault("position", []).append(str(editing.MESSAGES["position"]))
        position = None
    return editing.RuleInput(
        name=form.get("name", ""), active=form.get("active") in ("1", "on", "y"),
        words=[w for w in raw_words if w.strip()],
        words_mode=form.get("words_mode", "any"), unit_id=_id(form.get("unit_id")),
        include_subunits=form.get("include_subunits") in ("1", "on", "y"),
        field_conditions=conditions, category_id=_id(form.get("category_id")),
        priority=form.get("priority") or None,
        service_unit_id=_id(form.get("service_unit_id")), position=position, errors=errors)


def _values(row: ClassificationRule | None) -> dict:
    if row is None:
        return {"name": "", "active": True, "words": "", "words_mode": "any", "unit_id": "",
                "include_subunits": True, "field_conditions": "", "category_id": "",
                "priority": "", "service_unit_id": "", "position": ""}
    return {"name": row.name, "active": row.active, "words": "\n".join(row.words or []),
            "words_mode": row.words_mode, "unit_id": row.unit_id or "",
            "include_subunits": row.include_subunits,
            "field_conditions": "\n".join(f"{c['name']} = {c['value']}"
                                          for c in row.field_conditions or []),
            "category_id": row.category_id or "", "priority": row.priority or "",
            "service_unit_id": row.service_unit_id or "", "position": row.position}


def _typed(form) -> dict:
    values = {k: form.get(k, "") for k in ("name", "words", "words_mode", "unit_id",
                                           "field_conditions", "category_id", "priority",
                                           "service_unit_id", "position")}
    values["active"] = form.get("active") in ("1", "on", "y")
    values["include_subunits"] = form.get("include_subunits") in ("1", "on", "y")
    return values


def _editor(row, values, errors=None, status=200):
    tenant_id = current_user.tenant_id
    units = list(db.session.scalars(select(Unit).where(Unit.tenant_id == tenant_id)
                                    .order_by(Unit.name)))
    categories = list(db.session.scalars(select(Category).where(
        Category.tenant_id == tenant_id, Category.active.is_(True)).order_by(Category.name)))
    return _no_store(render_template(
        "classification/rule_form.html", rule=row, values=values, errors=errors or {},
        units=units, service_units=[u for u in units if u.is_service_unit
                                    and u.archived_at is None],
        categories=categories, priorities=PRIORITIES, limits=editing), status)


def _rule_or_404(rule_id: int) -> ClassificationRule:
    row = editing.find(current_user.tenant_id, rule_id) if rule_id <= 2**31 - 1 else None
    if row is None:
        abort(404)
    return row


@bp.get("")
def index():
    if policy.can_manage_classification(current_user):
        return redirect(url_for("classification.rules_index"))
    if policy.can_manage_skills(current_user):
        return redirect(url_for("classification.skills_index"))
    abort(404)


@bp.get("/rules")
def rules_index():
    _admins_only()
    found = paginate(editing.search(current_user.tenant_id),
                     {"page": _page_arg(), "per_page": PER_PAGE}, model=ClassificationRule,
                     load=editing.LIST_LOAD)
    trial = None
    if request.args.get("try"):
        title = request.args.get("title", "")[:200]
        description = request.args.get("description", "")[:10000]
        unit_id = _id(request.args.get("unit_id"))
        outcome = rules.match(current_user.tenant_id, title, description,
                              unit_id if unit_id and unit_id > 0 else None, {})
        trial = {"title": title, "description": description, "unit_id": unit_id,
                 "rule": editing.find(current_user.tenant_id, outcome.rule_id)
                 if outcome else None}
    units = list(db.session.scalars(select(Unit).where(
        Unit.tenant_id == current_user.tenant_id).order_by(Unit.name)))
    return _no_store(render_template("classification/rules.html", found=found, trial=trial,
                                     units=units, total=editing.count(current_user.tenant_id),
                                     limits=editing))


def _refused(row, exc: editing.Refused):
    db.session.rollback()
    if row is not None:
        db.session.refresh(row)
    return _editor(row, _typed(request.form), exc.errors, 422)


@bp.route("/rules/new", methods=["GET", "POST"])
def rule_new():
    _admins_only()
    if request.method == "GET":
        return _editor(None, _values(None))
    try:
        editing.create(current_user, _read_form(request.form))
    except editing.Refused as exc:
        return _refused(None, exc)
    db.session.commit()
    flash(_("The rule was created."), "success")
    return redirect(url_for("classification.rules_index"))


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
def rule_edit(rule_id: int):
    _admins_only()
    row = _rule_or_404(rule_id)
    if request.method == "GET":
        return _editor(row, _values(row))
    try:
        changed = editing.update(current_user, row, _read_form(request.form))
    except editing.Refused as exc:
        return _refused(row, exc)
    db.session.commit()
    flash(_("The rule was saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("classification.rules_index"))


@bp.post("/rules/<int:rule_id>/move")
def rule_move(rule_id: int):
    _admins_only()
    row = _rule_or_404(rule_id)
    step = -1 if request.form.get("direction") == "up" else 1
    editing.move(current_user, row, max(1, row.position + step))
    db.session.commit()
    return redirect(url_for("classification.rules_index"))


@bp.route("/rules/<int:rule_id>/delete", methods=["GET", "POST"])
def rule_delete(rule_id: int):
    _admins_only()
    row = _rule_or_404(rule_id)
    if request.method == "GET":
        return _no_store(render_template("classification/rule_delete.html", rule=row))
    editing.delete(current_user, row)
    db.session.commit()
    flash(_("The rule was deleted."), "success")
    return redirect(url_for("classification.rules_index"))


# --- skills ----------------------------------------------------------------------------

def _managers_only() -> None:
    if not policy.can_manage_skills(current_user):
        abort(404)


@bp.get("/skills")
def skills_index():
    _managers_only()
    units = skills.managed_units(current_user)
    chosen = _id(request.args.get("unit"))
    unit = next((u for u in units if u.id == chosen), units[0] if units else None)
    board = skills.board(unit) if unit is not None else None
    return _no_store(render_template("classification/skills.html", units=units, unit=unit,
                                     board=board))


@bp.post("/skills/<int:unit_id>/<int:user_id>")
def skills_save(unit_id: int, user_id: int):
    _managers_only()
    unit = skills.managed_unit(current_user, unit_id) if unit_id <= 2**31 - 1 else None
    worker = skills.worker_of(unit, user_id) if unit is not None and user_id <= 2**31 - 1 \
        else None
    if worker is None:
        abort(404)
    wanted = [_id(v) for v in request.form.getlist("category_ids")[:skills.MAX_CATEGORIES + 1]]
    try:
        changed = skills.set_skills(current_user, unit, worker, wanted)
    except skills.Refused as exc:
        db.session.rollback()
        flash(" ".join(m for ms in exc.errors.values() for m in ms), "error")
        return redirect(url_for("classification.skills_index", unit=unit.id))
    db.session.commit()
    flash(_("%(name)s's categories were saved.", name=worker.name) if changed
          else _("Nothing changed."), "success")
    return redirect(url_for("classification.skills_index", unit=unit.id))


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.context_processor(lambda: {
        "can_manage_skills": policy.can_manage_skills,
        "can_manage_classification": policy.can_manage_classification})
