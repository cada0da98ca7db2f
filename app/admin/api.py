"""The tenant admin's API: people, units and the audit under ``/api/v1/admin``. The same rules
(``people``, ``units``) and policy as the pages; anyone but a tenant admin gets 404."""

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from app import policy
from app.admin import audit_log, people, units
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_responses
from app.extensions import db
from app.models import Tenant, Unit

blp = Blueprint("api_admin", __name__, url_prefix="/api/v1/admin",
                description="Tenant administration: people, units, audit (tenant admins only)")


@blp.before_request
def _tenant_admins_only():
    from flask import g

    user = g.get("api_user")
    if user is not None and not policy.can_administer_tenant(user):
        return problem(404, "Not found.")
    return None


_doc = problem_responses(blp, {
    403: "A plan limit is reached (type: the plan-limit problem)",
    404: "Not a tenant admin, or no such item in the caller's company",
    409: "Refused by a rule (e.g. the last administrator, a unit in use)",
    422: "Invalid data: messages by field",
}, always=(404,))


def _refused(exc: ValidationError):
    """A service's refusal: 409 when a rule refuses the whole action, else 422 by field."""
    db.session.rollback()
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    if set(messages) == {"_schema"}:
        return problem(409, " ".join(str(m) for m in messages["_schema"]))
    return problem(422, "The data sent is not valid.", errors=messages)


def _not_found(what: str = "No such item."):
    return problem(404, what)


# --- schemas ---------------------------------------------------------------------------------

class AdminMembershipOut(Schema):
    id = fields.Integer()
    role = fields.String()
    unit_id = fields.Integer(allow_none=True)
    unit_name = fields.String(allow_none=True)


class AdminPersonOut(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    locale = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "active, invited or inactive"})
    created_at = fields.DateTime()
    memberships = fields.List(fields.Nested(AdminMembershipOut))


class AdminPeopleArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the name or e-mail"})
    unit_id = Id(metadata={"description": "Holding any role in this unit"})
    role = fields.String(validate=validate.OneOf(people.ROLES))
    status = fields.String(validate=validate.OneOf(people.STATUSES))


class AdminMembershipIn(Schema):
    role = fields.String(required=True, validate=validate.Length(max=30),
                         metadata={"description": "One of " + ", ".join(people.ROLES)})
    unit_id = Id(allow_none=True, load_default=None, metadata={
        "description": "The unit, for a unit-bound role; null for tenant_admin and "
                       "process_owner"})


class AdminInviteIn(Schema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(max=200))
    locale = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=5),
                           metadata={"description": "es or en; null: the company's"})
    phone = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=30),
                          metadata={"description": "E.164, e.g. +573001234567"})
    memberships = fields.List(fields.Nested(AdminMembershipIn), load_default=list,
                              validate=validate.Length(max=50))


class AdminPersonPatch(Schema):
    name = fields.String(validate=validate.Length(max=200))
    locale = fields.String(allow_none=True, validate=validate.Length(max=5))
    phone = fields.String(allow_none=True, validate=validate.Length(max=30))


class AdminDeactivatedOut(AdminPersonOut):
    sessions_ended = fields.Integer()
    claims_released = fields.List(fields.Integer(), metadata={
        "description": "The tasks they had taken, back with their group"})


class AdminUnitOut(Schema):
    id = fields.Integer()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    is_service_unit = fields.Boolean()
    archived_at = fields.DateTime(allow_none=True)


class AdminUsageOut(Schema):
    requests = fields.Integer()
    people = fields.Integer()
    children = fields.Integer()
    categories = fields.Integer()
    tasks = fields.Integer()


class AdminUnitMemberOut(Schema):
    membership_id = fields.Integer()
    role = fields.String()
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    active = fields.Boolean()


class AdminUnitDetail(AdminUnitOut):
    in_use = fields.Nested(AdminUsageOut)
    members = fields.List(fields.Nested(AdminUnitMemberOut))


class AdminUnitsArgs(PageArgs):
    archived = fields.Boolean(metadata={"description": "Only archived (true) or in use (false)"})


class AdminUnitIn(Schema):
    name = fields.String(required=True, validate=validate.Length(max=200))
    parent_id = Id(allow_none=True, load_default=None)
    is_service_unit = fields.Boolean(load_default=False)


class AdminUnitPatch(Schema):
    name = fields.String(validate=validate.Length(max=200))
    is_service_unit = fields.Boolean()


class AdminMoveIn(Schema):
    parent_id = Id(required=True, allow_none=True,
                   metadata={"description": "The new parent; null: a top unit"})


class AdminUnitMemberIn(Schema):
    user_id = Id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(
        ("unit_head", "requester", "service_director", "worker")))


class AdminAuditArgs(Schema):
    before = Id(metadata={"description": "Entries older than this id (the next page)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    action = fields.String(validate=validate.Length(max=60))
    actor_id = Id()
    target_type = fields.String(validate=validate.Length(max=40))
    target_id = Id()
    since = fields.Date(metadata={"description": "From this day (company's time zone)"})
    until = fields.Date(metadata={"description": "To this day, included"})


class AdminAuditOut(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.String()
    action = fields.String()
    target_type = fields.String()
    target_id = fields.Integer(allow_none=True)
    target_label = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class AdminAuditPage(Schema):
    items = fields.List(fields.Nested(AdminAuditOut))
    next_before = fields.Integer(allow_none=True, metadata={
        "description": "Pass as 'before' for the next page; null: no more"})


# --- people ----------------------------------------------------------------------------------

def _person(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "locale": user.locale,
            "phone": user.phone, "status": people.status_of(user),
            "created_at": user.created_at,
            "memberships": [{"id": m.id, "role": m.role, "unit_id": m.unit_id,
                             "unit_name": m.unit.name if m.unit else None}
                            for m in sorted(user.memberships, key=lambda m: (m.role, m.id))]}


def _person_or_none(user_id: int):
    return people.find(caller().tenant_id, user_id)


@blp.route("/people")
@blp.arguments(AdminPeopleArgs, location="query")
@blp.response(200, page_schema(AdminPersonOut, "AdminPersonPage"))
@_doc()
def list_people(args):
    """The company's people, by name, with search and filters"""
    stmt = people.search(caller().tenant_id, q=args.get("q"), unit_id=args.get("unit_id"),
                         role=args.get("role"), status=args.get("status"))
    page = paginate(stmt, args, model=people.User, load=people.LIST_LOAD)
    page["items"] = [_person(u) for u in page["items"]]
    return page


@blp.route("/people", methods=["POST"])
@blp.arguments(AdminInviteIn)
@blp.response(201, AdminPersonOut)
@_doc(403, 422)
def invite_person(data):
    """Invite a person by e-mail (they choose their password through a single-use link)"""
    try:
        user = people.invite(caller(), email=data["email"], name=data["name"],
                             locale=data["locale"], phone=data["phone"],
                             memberships=[(m["role"], m["unit_id"])
                                          for m in data["memberships"]])
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _person(user)


@blp.route("/people/<int:user_id>")
@blp.response(200, AdminPersonOut)
@_doc()
def get_person(user_id):
    """One person of the company"""
    user = _person_or_none(user_id)
    return _person(user) if user is not None else _not_found("No such person.")


@blp.route("/people/<int:user_id>", methods=["PATCH"])
@blp.arguments(AdminPersonPatch)
@blp.response(200, AdminPersonOut)
@_doc(422)
def patch_person(data, user_id):
    """Change a person's name, language or phone"""
    user = _person_or_none(user_id)
    if user is None:
        return _not_found("No such person.")
    try:
        people.update(caller(), user, data)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _person(user)


@blp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@blp.response(200, AdminDeactivatedOut)
@_doc(409)
def deactivate_person(user_id):
    """Deactivate: no login, sessions and tokens end, taken tasks go back to their group"""
    user = _person_or_none(user_id)
    if user is None:
        return _not_found("No such person.")
    try:
        done = people.deactivate(caller(), user)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return {**_person(user), **done}


@blp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@blp.response(200, AdminPersonOut)
@_doc(403, 409)
def reactivate_person(user_id):
    """Let a deactivated person log in again (counts against the plan's active users)"""
    user = _person_or_none(user_id)
    if user is None:
        return _not_found("No such person.")
    try:
        people.reactivate(caller(), user)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _person(user)


@blp.route("/people/<int:user_id>/invitation", methods=["POST"])
@blp.response(200, AdminPersonOut)
@_doc(409)
def resend_invitation(user_id):
    """Send the invitation again (the previous link stops working)"""
    user = _person_or_none(user_id)
    if user is None:
        return _not_found("No such person.")
    try:
        people.resend_invitation(caller(), user)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _person(user)


@blp.route("/people/<int:user_id>/memberships", methods=["POST"])
@blp.arguments(AdminMembershipIn)
@blp.response(201, AdminPersonOut)
@_doc(422)
def add_membership(data, user_id):
    """Give a person a role (in a unit of the company, for a unit-bound role)"""
    user = _person_or_none(user_id)
    if user is None:
        return _not_found("No such person.")
    try:
        people.add_membership(caller(), user, data["role"], data["unit_id"])
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _person(user)


@blp.route("/people/<int:user_id>/memberships/<int:membership_id>", methods=["DELETE"])
@blp.response(200, AdminPersonOut)
@_doc(409)
def remove_membership(user_id, membership_id):
    """Take a role away (never the last active administrator's)"""
    user = _person_or_none(user_id)
    membership = people.find_membership(user, membership_id) if user is not None else None
    if membership is None:
        return _not_found("No such role of this person.")
    try:
        people.remove_membership(caller(), user, membership)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _person(user)


# --- units -----------------------------------------------------------------------------------

def _unit_or_none(unit_id: int):
    return units.find(caller().tenant_id, unit_id)


def _unit_detail(unit) -> dict:
    return {"id": unit.id, "name": unit.name, "parent_id": unit.parent_id,
            "is_service_unit": unit.is_service_unit, "archived_at": unit.archived_at,
            "in_use": units.in_use(unit),
            "members": [{"membership_id": m.id, "role": m.role, "user_id": m.user.id,
                         "name": m.user.name, "email": m.user.email, "active": m.user.active}
                        for m in units.members(unit)]}


@blp.route("/units")
@blp.arguments(AdminUnitsArgs, location="query")
@blp.response(200, page_schema(AdminUnitOut, "AdminUnitPage"))
@_doc()
def list_units(args):
    """The company's units by name (``parent_id`` makes the tree)"""
    stmt = select(Unit).where(Unit.tenant_id == caller().tenant_id) \
        .order_by(func.lower(Unit.name), Unit.id)
    if "archived" in args:
        stmt = stmt.where(Unit.archived_at.is_not(None) if args["archived"]
                          else Unit.archived_at.is_(None))
    return paginate(stmt, args)


@blp.route("/units", methods=["POST"])
@blp.arguments(AdminUnitIn)
@blp.response(201, AdminUnitDetail)
@_doc(422)
def create_unit(data):
    """Create a unit, at the top or inside another unit of the company"""
    try:
        unit = units.create(caller(), **data)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _unit_detail(unit)


@blp.route("/units/<int:unit_id>")
@blp.response(200, AdminUnitDetail)
@_doc()
def get_unit(unit_id):
    """One unit, with who holds roles in it and what refers to it"""
    unit = _unit_or_none(unit_id)
    return _unit_detail(unit) if unit is not None else _not_found("No such unit.")


@blp.route("/units/<int:unit_id>", methods=["PATCH"])
@blp.arguments(AdminUnitPatch)
@blp.response(200, AdminUnitDetail)
@_doc(409, 422)
def patch_unit(data, unit_id):
    """Rename a unit or change its service-unit flag"""
    unit = _unit_or_none(unit_id)
    if unit is None:
        return _not_found("No such unit.")
    try:
        units.update(caller(), unit, data)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _unit_detail(unit)


@blp.route("/units/<int:unit_id>/move", methods=["POST"])
@blp.arguments(AdminMoveIn)
@blp.response(200, AdminUnitDetail)
@_doc(409, 422)
def move_unit(data, unit_id):
    """Move a unit (with its sub-units) under another unit of the company, or to the top"""
    unit = _unit_or_none(unit_id)
    if unit is None:
        return _not_found("No such unit.")
    try:
        units.move(caller(), unit, data["parent_id"])
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _unit_detail(unit)


def _unit_action(unit_id, action):
    unit = _unit_or_none(unit_id)
    if unit is None:
        return _not_found("No such unit.")
    try:
        action(caller(), unit)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _unit_detail(unit)


@blp.route("/units/<int:unit_id>/archive", methods=["POST"])
@blp.response(200, AdminUnitDetail)
@_doc(409)
def archive_unit(unit_id):
    """Archive a unit: it keeps its history and takes nothing new"""
    return _unit_action(unit_id, units.archive)


@blp.route("/units/<int:unit_id>/unarchive", methods=["POST"])
@blp.response(200, AdminUnitDetail)
@_doc(409)
def unarchive_unit(unit_id):
    """Put an archived unit back in use"""
    return _unit_action(unit_id, units.unarchive)


@blp.route("/units/<int:unit_id>", methods=["DELETE"])
@blp.response(204)
@_doc(409)
def delete_unit(unit_id):
    """Delete a unit nothing refers to (else archive it)"""
    unit = _unit_or_none(unit_id)
    if unit is None:
        return _not_found("No such unit.")
    try:
        units.delete(caller(), unit)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return None


@blp.route("/units/<int:unit_id>/members", methods=["POST"])
@blp.arguments(AdminUnitMemberIn)
@blp.response(201, AdminUnitDetail)
@_doc(422)
def add_unit_member(data, unit_id):
    """Give a person of the company a role in this unit (head, staff, director, worker)"""
    unit = _unit_or_none(unit_id)
    if unit is None:
        return _not_found("No such unit.")
    user = _person_or_none(data["user_id"])
    if user is None:
        return problem(422, "The data sent is not valid.",
                       errors={"user_id": ["No person of your company has this id."]})
    try:
        people.add_membership(caller(), user, data["role"], unit.id)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return _unit_detail(unit)


# --- audit -----------------------------------------------------------------------------------

@blp.route("/audit")
@blp.arguments(AdminAuditArgs, location="query")
@blp.response(200, AdminAuditPage)
@_doc()
def list_audit(args):
    """The company's audit entries, newest first (keyset: pass ``next_before`` as ``before``)"""
    tenant = db.session.get(Tenant, caller().tenant_id)
    rows, next_before = audit_log.entries(
        tenant.id, before=args.get("before"), action=args.get("action"),
        actor_id=args.get("actor_id"), target_type=args.get("target_type"),
        target_id=args.get("target_id"), since=args.get("since"), until=args.get("until"),
        tz_name=tenant.timezone, limit=args["limit"])
    return {"items": rows, "next_before": next_before}
