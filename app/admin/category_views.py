"""The tenant admin's catalog pages: /admin/categories (list, new, edit). Thin: load by the
admin's tenant and id, call ``categories``, commit once."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.admin import access, categories
from app.api.common import paginate
from app.extensions import db
from app.models import PRIORITIES, Category, Tenant
from app.request_fields import editor
from app.request_fields import specs as request_field_specs
from app.services.requests import PRIORITY_CHOICES

bp = Blueprint("admin_categories", __name__, url_prefix="/admin/categories",
               template_folder="templates")
PER_PAGE = 25
MAX_ID = 2**31 - 1
STATES = ("active", "inactive")


bp.before_request(access.tenant_admins_only)


def _tenant() -> Tenant:
    return db.session.get(Tenant, current_user.tenant_id)


def _category_or_404(category_id: int) -> Category:
    category = categories.get(current_user.tenant_id, category_id) \
        if 0 < category_id <= MAX_ID else None
    if category is None:
        abort(404)
    return category


@bp.route("")
def index():
    state = request.args.get("state") if request.args.get("state") in STATES else None
    page = request.args.get("page", 1, type=int)
    page = page if page and 0 < page <= 100_000 else 1
    stmt = categories.of_tenant(current_user.tenant_id,
                                active=None if state is None else state == "active")
    found = paginate(stmt, {"page": page, "per_page": PER_PAGE})
    return render_template("admin/categories.html", found=found, state=state,
                           priorities=dict(PRIORITY_CHOICES), tenant=_tenant()), \
        200, {"Cache-Control": "no-store"}


def _form_values() -> dict:
    form = request.form
    unit = form.get("service_unit_id", "")
    return {
        "names": {lang: form.get(f"name_{lang}", "") for lang in categories.LOCALES},
        "description": form.get("description", ""),
        "service_unit_id": int(unit) if unit.isascii() and unit.isdigit() and len(unit) < 11
        else None,  # "²" is a digit to isdigit(), not to int()
        "default_priority": form.get("default_priority", ""),
        "process_key": form.get("process_key", ""),
        "active": form.get("active") == "yes",
        "request_fields": editor.rows_from_form(form),
    }


def _editor(category: Category | None, values: dict, errors=None, status=200, blank=None):
    tenant = _tenant()
    field_rows = editor.rows_for_page(values.get("request_fields") or [],
                                      editor.BLANK_ROWS if blank is None else blank)
    page = render_template(
        "admin/categories_form.html", category=category, values=values, errors=errors or {},
        tenant=tenant, units=categories.service_units(tenant.id),
        process_keys=categories.process_keys(tenant.id), priorities=PRIORITIES,
        priority_labels=dict(PRIORITY_CHOICES), locales=categories.LOCALES,
        field_rows=field_rows, field_types=list(request_field_specs.TYPE_LABELS.items()))
    return page, status, {"Cache-Control": "no-store"}


def _values_of(category: Category) -> dict:
    names = dict(category.names or {})
    names.setdefault(_tenant().locale, category.name)
    return {"names": names, "description": category.description,
            "service_unit_id": category.service_unit_id,
            "default_priority": category.default_priority,
            "process_key": category.process_key, "active": category.active,
            "request_fields": list(category.request_fields or [])}


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        units = categories.service_units(current_user.tenant_id)
        return _editor(None, {"names": {}, "active": True, "default_priority": "normal",
                              "service_unit_id": units[0].id if len(units) == 1 else None,
                              "process_key": "service_request"})
    values = _form_values()
    if request.form.get("rf-add"):  # more empty field blocks; nothing saved yet
        return _editor(None, values, blank=editor.BLANK_ROWS + 3)
    try:
        category = categories.create(current_user, _tenant(), values)
    except ValidationError as exc:
        db.session.rollback()
        return _editor(None, values, exc.messages, 422)
    db.session.commit()
    flash(_("The category %(name)s was created.", name=category.name), "success")
    return redirect(url_for("admin_categories.index"))


@bp.route("/<int:category_id>", methods=["GET", "POST"])
def edit(category_id: int):
    category = _category_or_404(category_id)
    if request.method == "GET":
        return _editor(category, _values_of(category))
    values = _form_values()
    if request.form.get("rf-add"):  # more empty field blocks; nothing saved yet
        return _editor(category, values, blank=editor.BLANK_ROWS + 3)
    try:
        changed = categories.update(current_user, _tenant(), category, values)
    except ValidationError as exc:
        db.session.rollback()
        return _editor(category, values, exc.messages, 422)
    db.session.commit()
    flash(_("The category %(name)s was saved.", name=category.name) if changed
          else _("Nothing changed."), "success")
    return redirect(url_for("admin_categories.index"))
