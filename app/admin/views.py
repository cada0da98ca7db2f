"""The tenant admin's pages under /admin: people, units and the audit. Thin: load (by the
admin's tenant and id), call the rule in ``people``/``units``, commit once."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.admin import access, audit_log, people, units
from app.api.common import paginate
from app.extensions import db
from app.models import ROLES, Tenant

bp = Blueprint("tenant_admin", __name__, url_prefix="/admin", template_folder="templates")
PER_PAGE = 25
MAX_ID = 2**31 - 1


bp.before_request(access.tenant_admins_only)


@bp.context_processor
def _labels():
    return {"role_labels": people.ROLE_LABELS, "status_labels": people.STATUS_LABELS,
            "status_of": people.status_of, "shown": audit_log.shown}


def _no_store(page, status=200):
    return page, status, {"Cache-Control": "no-store"}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def _person_or_404(user_id: int):
    user = people.find(current_user.tenant_id, user_id)
    if user is None:
        abort(404)
    return user


def _unit_or_404(unit_id: int):
    unit = units.find(current_user.tenant_id, unit_id)
    if unit is None:
        abort(404)
    return unit


@bp.route("/")
def index():
    return redirect(url_for("tenant_admin.people_index"))


# --- people ----------------------------------------------------------------------------------

@bp.route("/people")
def people_index():
    tenant_id = current_user.tenant_id
    unit_id = _int_arg("unit")
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    status = request.args.get("status") if request.args.get("status") in people.STATUSES \
        else None
    q = (request.args.get("q") or "").strip()[:100]
    page = request.args.get("page", 1, type=int)
    page = page if page and 0 < page <= 100_000 else 1
    found = paginate(people.search(tenant_id, q=q, unit_id=unit_id, role=role, status=status),
                     {"page": page, "per_page": PER_PAGE}, model=people.User,
                     load=people.LIST_LOAD)
    flat, archived = units.tree(tenant_id)
    return _no_store(render_template(
        "admin/people.html", found=found, q=q, unit_id=unit_id, role=role, status=status,
        unit_choices=flat + [(u, 0) for u in archived], roles=ROLES,
        statuses=people.STATUSES))


def _invite_page(values=None, errors=None, status=200):
    flat, _archived = units.tree(current_user.tenant_id)
    return _no_store(render_template(
        "admin/invite.html", values=values or {"rows": [{"role": "requester", "unit_id": ""}]},
        errors=errors or {}, unit_choices=flat, roles=ROLES, unitless=people.UNITLESS_ROLES,
        locales=people.LOCALES), status)


ROLE_ROWS = 4  # role/unit pairs on the invitation form


@bp.route("/people/invite", methods=["GET", "POST"])
def invite():
    if request.method == "GET":
        return _invite_page()
    form = request.form
    rows = [{"role": form.get(f"role-{i}", ""), "unit_id": form.get(f"unit-{i}", "")}
            for i in range(ROLE_ROWS)]
    values = {key: form.get(key, "") for key in ("email", "name", "locale", "phone")}
    values["rows"] = rows
    try:
        user = people.invite(current_user, email=values["email"], name=values["name"],
                             locale=values["locale"], phone=values["phone"],
                             memberships=[(r["role"], r["unit_id"] or None)
                                          for r in rows if r["role"]])
    except ValidationError as exc:
        db.session.rollback()
        return _invite_page(values, exc.messages, 422)
    db.session.commit()
    flash(_("%(name)s was invited: an e-mail with a link to choose a password is on its way "
            "to %(email)s.", name=user.name, email=user.email), "success")
    return redirect(url_for("tenant_admin.person", user_id=user.id))


def _person_page(user, errors=None, form=None, values=None, status=200):
    flat, _archived = units.tree(current_user.tenant_id)
    recent, _more = audit_log.entries(current_user.tenant_id, target_type="user",
                                      target_id=user.id, limit=10)
    return _no_store(render_template(
        "admin/person.html", person=user, errors=errors or {}, failed=form,
        values=values or {}, unit_choices=flat, roles=ROLES, unitless=people.UNITLESS_ROLES,
        locales=people.LOCALES, recent=recent, changes=audit_log.changes), status)


@bp.get("/people/<int:user_id>")
def person(user_id: int):
    return _person_page(_person_or_404(user_id))


def _refused(user, exc: ValidationError, form: str, values=None):
    db.session.rollback()
    db.session.refresh(user)
    return _person_page(user, exc.messages, form, values, 422)


@bp.post("/people/<int:user_id>")
def person_edit(user_id: int):
    user = _person_or_404(user_id)
    values = {key: request.form.get(key, "") for key in ("name", "locale", "phone")}
    try:
        changed = people.update(current_user, user, values)
    except ValidationError as exc:
        return _refused(user, exc, "edit", values)
    db.session.commit()
    flash(_("Saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("tenant_admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/deactivate")
def person_deactivate(user_id: int):
    user = _person_or_404(user_id)
    try:
        done = people.deactivate(current_user, user)
    except ValidationError as exc:
        return _refused(user, exc, "status")
    db.session.commit()
    flash(_("%(name)s can no longer log in; their sessions and API tokens ended. Tasks they "
            "had taken: %(count)s, now back with their group.", name=user.name,
            count=len(done["claims_released"])), "success")
    return redirect(url_for("tenant_admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/reactivate")
def person_reactivate(user_id: int):
    user = _person_or_404(user_id)
    try:
        people.reactivate(current_user, user)
    except ValidationError as exc:
        return _refused(user, exc, "status")
    db.session.commit()
    flash(_("%(name)s can log in again.", name=user.name), "success")
    return redirect(url_for("tenant_admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/invitation")
def person_resend(user_id: int):
    user = _person_or_404(user_id)
    try:
        people.resend_invitation(current_user, user)
    except ValidationError as exc:
        return _refused(user, exc, "status")
    db.session.commit()
    flash(_("A new invitation is on its way; the previous link no longer works."), "success")
    return redirect(url_for("tenant_admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/roles")
def person_role_add(user_id: int):
    user = _person_or_404(user_id)
    values = {"role": request.form.get("role", ""), "unit_id": request.form.get("unit_id", "")}
    try:
        people.add_membership(current_user, user, values["role"], values["unit_id"] or None)
    except ValidationError as exc:
        return _refused(user, exc, "roles", values)
    db.session.commit()
    flash(_("Role added."), "success")
    return redirect(url_for("tenant_admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/roles/<int:membership_id>/delete")
def person_role_remove(user_id: int, membership_id: int):
    user = _person_or_404(user_id)
    membership = people.find_membership(user, membership_id)
    if membership is None:
        abort(404)
    try:
        people.remove_membership(current_user, user, membership)
    except ValidationError as exc:
        return _refused(user, exc, "roles")
    db.session.commit()
    flash(_("Role removed."), "success")
    back = request.form.get("back_unit", type=int)
    if back and units.find(current_user.tenant_id, back) is not None:
        return redirect(url_for("tenant_admin.unit", unit_id=back))
    return redirect(url_for("tenant_admin.person", user_id=user.id))


# --- units -----------------------------------------------------------------------------------

def _units_page(values=None, errors=None, status=200):
    flat, archived = units.tree(current_user.tenant_id)
    return _no_store(render_template(
        "admin/units.html", archived=archived, unit_choices=flat,
        values=values or {}, errors=errors or {}), status)


@bp.get("/units")
def units_index():
    return _units_page()


@bp.post("/units")
def unit_create():
    values = {"name": request.form.get("name", ""),
              "parent_id": request.form.get("parent_id", ""),
              "is_service_unit": request.form.get("is_service_unit") == "1"}
    try:
        unit = units.create(current_user, name=values["name"],
                            parent_id=values["parent_id"] or None,
                            is_service_unit=values["is_service_unit"])
    except ValidationError as exc:
        db.session.rollback()
        return _units_page(values, exc.messages, 422)
    db.session.commit()
    flash(_("Unit %(name)s created.", name=unit.name), "success")
    return redirect(url_for("tenant_admin.unit", unit_id=unit.id))


def _unit_page(unit, errors=None, form=None, values=None, status=200):
    flat, _archived = units.tree(current_user.tenant_id)
    below = units.descendant_ids(unit) | {unit.id}
    parent = units.find(unit.tenant_id, unit.parent_id) if unit.parent_id else None
    return _no_store(render_template(
        "admin/unit.html", unit=unit, parent=parent, errors=errors or {}, failed=form,
        values=values or {}, members=units.members(unit), used=units.in_use(unit),
        parent_choices=[(u, d) for u, d in flat if u.id not in below],
        member_roles=_member_roles(unit)), status)


def _member_roles(unit) -> list[str]:
    roles = ["unit_head", "requester"]
    if unit.is_service_unit:
        roles += ["service_director", "worker"]
    return roles


@bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    return _unit_page(_unit_or_404(unit_id))


def _unit_refused(unit, exc: ValidationError, form: str, values=None):
    db.session.rollback()
    db.session.refresh(unit)
    return _unit_page(unit, exc.messages, form, values, 422)


@bp.post("/units/<int:unit_id>")
def unit_edit(unit_id: int):
    unit = _unit_or_404(unit_id)
    values = {"name": request.form.get("name", ""),
              "is_service_unit": request.form.get("is_service_unit") == "1"}
    try:
        changed = units.update(current_user, unit, values)
    except ValidationError as exc:
        return _unit_refused(unit, exc, "edit", values)
    db.session.commit()
    flash(_("Saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("tenant_admin.unit", unit_id=unit.id))


@bp.post("/units/<int:unit_id>/move")
def unit_move(unit_id: int):
    unit = _unit_or_404(unit_id)
    parent_id = request.form.get("parent_id", "")
    try:
        moved = units.move(current_user, unit, parent_id or None)
    except ValidationError as exc:
        return _unit_refused(unit, exc, "move", {"parent_id": parent_id})
    db.session.commit()
    flash(_("Moved.") if moved else _("Nothing changed."), "success")
    return redirect(url_for("tenant_admin.unit", unit_id=unit.id))


@bp.post("/units/<int:unit_id>/archive")
def unit_archive(unit_id: int):
    unit = _unit_or_404(unit_id)
    try:
        units.archive(current_user, unit)
    except ValidationError as exc:
        return _unit_refused(unit, exc, "status")
    db.session.commit()
    flash(_("The unit is archived: it keeps its history and takes nothing new."), "success")
    return redirect(url_for("tenant_admin.unit", unit_id=unit.id))


@bp.post("/units/<int:unit_id>/unarchive")
def unit_unarchive(unit_id: int):
    unit = _unit_or_404(unit_id)
    try:
        units.unarchive(current_user, unit)
    except ValidationError as exc:
        return _unit_refused(unit, exc, "status")
    db.session.commit()
    flash(_("The unit is in use again."), "success")
    return redirect(url_for("tenant_admin.unit", unit_id=unit.id))


@bp.post("/units/<int:unit_id>/delete")
def unit_delete(unit_id: int):
    unit = _unit_or_404(unit_id)
    name = unit.name
    try:
        units.delete(current_user, unit)
    except ValidationError as exc:
        return _unit_refused(unit, exc, "status")
    db.session.commit()
    flash(_("Unit %(name)s deleted.", name=name), "success")
    return redirect(url_for("tenant_admin.units_index"))


@bp.post("/units/<int:unit_id>/members")
def unit_member_add(unit_id: int):
    unit = _unit_or_404(unit_id)
    values = {"email": request.form.get("email", "").strip(), "role": request.form.get("role")}
    user = people.find_by_email(current_user.tenant_id, values["email"])
    try:
        if user is None:
            raise ValidationError({"email": [_("No person of your company has this address.")]})
        if values["role"] not in _member_roles(unit):
            raise ValidationError({"role": [_("Choose a role from the list.")]})
        people.add_membership(current_user, user, values["role"], unit.id)
    except ValidationError as exc:
        return _unit_refused(unit, exc, "members", values)
    db.session.commit()
    flash(_("%(name)s added.", name=user.name), "success")
    return redirect(url_for("tenant_admin.unit", unit_id=unit.id))


# --- audit -----------------------------------------------------------------------------------

def _day_arg(name: str, errors: dict) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("Write a date as YYYY-MM-DD.")]
        return None


@bp.get("/audit")
def audit():
    tenant = db.session.get(Tenant, current_user.tenant_id)
    errors: dict = {}
    since, until = _day_arg("since", errors), _day_arg("until", errors)
    filters = {
        "action": (request.args.get("action") or "").strip()[:60] or None,
        "actor_id": _int_arg("actor"),
        "target_type": (request.args.get("target_type") or "").strip()[:40] or None,
        "target_id": _int_arg("target_id"),
        "since": since, "until": until,
    }
    rows, next_before = audit_log.entries(tenant.id, before=_int_arg("before"),
                                          tz_name=tenant.timezone, **filters)
    kept = {"action": filters["action"], "actor": filters["actor_id"],
            "target_type": filters["target_type"], "target_id": filters["target_id"],
            "since": request.args.get("since") if since else None,
            "until": request.args.get("until") if until else None}
    return _no_store(render_template(
        "admin/audit.html", rows=rows, next_before=next_before, kept=kept, errors=errors,
        actions=audit_log.actions_of(tenant.id), actors=audit_log.actors_of(tenant.id),
        target_types=audit_log.target_types_of(tenant.id), changes=audit_log.changes),
        422 if errors else 200)
