"""Categories, units and people the caller may see."""

from flask import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app import policy
from app.api.common import MAX_ID, Blueprint, Id, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.models import Category, Membership, Unit, User
from app.services import processes

blp = Blueprint("api_catalog", __name__, url_prefix="/api/v1", description="Catalog and people")


def _label(category) -> str:
    user = caller()
    return category.label(user.locale or user.tenant.locale)


class CategoryOut(Schema):
    id = fields.Integer()
    name = fields.Function(_label, metadata={"type": "string",
                                             "description": "In the caller's language"})
    description = fields.String()
    service_unit_id = fields.Integer()
    default_priority = fields.String()
    process_key = fields.String()


class CategoryPatch(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=80))


class UnitOut(Schema):
    id = fields.Integer()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    is_service_unit = fields.Boolean()


class UserOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    roles = fields.List(fields.Dict(), attribute="listed_roles", metadata={
        "description": "The person's roles in the units the caller shares with them (all of "
                       "them for a company admin)"})


class CategoryArgs(PageArgs):
    service_unit_id = Id()


@blp.route("/categories")
@blp.arguments(CategoryArgs, location="query")
@blp.response(200, page_schema(CategoryOut, "CategoryPage"))
def categories(args):
    """Active service categories of the caller's company"""
    stmt = select(Category).where(Category.tenant_id == caller().tenant_id,
                                  Category.active.is_(True))
    if args.get("service_unit_id"):
        stmt = stmt.where(Category.service_unit_id == args["service_unit_id"])
    return paginate(stmt.order_by(Category.name, Category.id), args)


@blp.route("/categories/<int:category_id>", methods=["PATCH"])
@blp.arguments(CategoryPatch)
@blp.response(200, CategoryOut)
@blp.alt_response(404, **problem_doc, description="No such category, or not a process owner")
@blp.alt_response(422, **problem_doc, description="The process is not deployed")
def update_category(data, category_id):
    """Choose the process a category's new requests follow (process owners); requests already
    filed keep theirs"""
    user = caller()
    if not policy.can_own_processes(user) or not 0 < category_id <= MAX_ID:
        abort(404)
    category = db.session.scalar(select(Category).where(
        Category.tenant_id == user.tenant_id, Category.id == category_id))
    if category is None:
        abort(404)
    try:
        processes.set_category_process(category, data["process_key"], caller())
    except processes.UnknownProcess:
        db.session.rollback()
        return problem(422, "That process has no deployed version.",
                       {"process_key": ["Deploy the process before a category uses it."]})
    db.session.commit()
    return category


class UnitArgs(PageArgs):
    service_units_only = fields.Boolean(load_default=False)


@blp.route("/units")
@blp.arguments(UnitArgs, location="query")
@blp.response(200, page_schema(UnitOut, "UnitPage"))
def units(args):
    """Units of the caller's company"""
    stmt = select(Unit).where(Unit.tenant_id == caller().tenant_id)
    if args["service_units_only"]:
        stmt = stmt.where(Unit.is_service_unit.is_(True))
    return paginate(stmt.order_by(Unit.name, Unit.id), args)


class UserArgs(PageArgs):
    role = fields.String()
    unit_id = Id()


@blp.route("/users")
@blp.arguments(UserArgs, location="query")
@blp.response(200, page_schema(UserOut, "UserPage"))
def users(args):
    """People the caller works with: their units' members, the workers of units they direct"""
    user = caller()
    stmt = select(User).where(User.tenant_id == user.tenant_id, User.active.is_(True))
    shared = None  # every unit, for a company admin
    if not policy.is_tenant_admin(user):
        shared = {m.unit_id for m in user.memberships if m.unit_id}
        shared |= policy.headed_unit_ids(user)
        stmt = stmt.where(or_(
            User.id == user.id,
            User.id.in_(select(Membership.user_id).where(
                Membership.tenant_id == user.tenant_id, Membership.unit_id.in_(shared))),
        ))
    if args.get("role") or args.get("unit_id"):
        # Filters match memberships the caller may see, so they cannot be used to learn who
        # holds which role in a unit the caller does not share.
        member = select(Membership.user_id).where(Membership.tenant_id == user.tenant_id)
        if shared is not None:
            member = member.where(Membership.unit_id.in_(shared))
        if args.get("role"):
            member = member.where(Membership.role == args["role"])
        if args.get("unit_id"):
            member = member.where(Membership.unit_id == args["unit_id"])
        stmt = stmt.where(User.id.in_(member))
    page = paginate(stmt.options(selectinload(User.memberships)).order_by(User.name, User.id),
                    args)
    for person in page["items"]:
        person.listed_roles = [
            {"role": m.role, "unit_id": m.unit_id} for m in person.memberships
            if shared is None or person.id == user.id or m.unit_id in shared]
    return page
