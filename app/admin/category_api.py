"""The catalog as its tenant admin keeps it, over the API: /api/v1/admin/categories."""

from flask import abort
from marshmallow import Schema, ValidationError, fields, validate

from app import policy
from app.admin import categories
from app.api.common import MAX_ID, Blueprint, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.models import PRIORITIES, Category, Tenant

blp = Blueprint("api_admin_categories", __name__, url_prefix="/api/v1/admin/categories",
                description="Tenant administration: the service categories")


@blp.before_request
def _tenant_admins_only():
    if not policy.can_administer_tenant(caller()):
        return problem(404, "Not found.")  # as the pages: nothing here for others
    return None


FIELDS_DOC = (
    "The extra fields a request of this category is filed with, in order, as diagram forms "
    "define them: {name, type (text, longtext, number, date, choice, boolean), label, "
    "required, minLength, maxLength (text), min, max (number; date YYYY-MM-DD), options "
    "[{value, label}] (choice)}")


class Names(Schema):
    es = fields.String(validate=validate.Length(max=categories.NAME_MAX),
                       metadata={"description": "The name in Spanish"})
    en = fields.String(validate=validate.Length(max=categories.NAME_MAX),
                       metadata={"description": "The name in English"})


class AdminCategoryOut(Schema):
    id = fields.Integer()
    name = fields.String(metadata={"description": "The name in the company's language"})
    names = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "The name per language (es, en)"})
    description = fields.String()
    service_unit_id = fields.Integer()
    default_priority = fields.String()
    process_key = fields.String()
    active = fields.Boolean()
    request_fields = fields.List(fields.Dict(), metadata={"description": FIELDS_DOC})


class CategoryIn(Schema):
    names = fields.Nested(Names, metadata={
        "description": "The name per language; the company's language is required"})
    description = fields.String(validate=validate.Length(max=categories.DESCRIPTION_MAX))
    service_unit_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "A service unit of the company, not archived"})
    default_priority = fields.String(validate=validate.OneOf(PRIORITIES))
    process_key = fields.String(validate=validate.Length(max=80), metadata={
        "description": "A process the company has deployed (see GET /api/v1/processes)"})
    active = fields.Boolean(metadata={"description": "Offered for new requests"})
    request_fields = fields.List(fields.Dict(), metadata={"description": FIELDS_DOC + (
        "; replaces the whole list; checked as the modeler checks a form's fields (names are "
        "identifiers, not a name the process or the request uses; at most 30 fields, 100 "
        "options). Requests already filed keep their answers")})


class CategoryCreate(CategoryIn):
    names = fields.Nested(Names, required=True)
    service_unit_id = fields.Integer(required=True,
                                     validate=validate.Range(min=1, max=MAX_ID))


class AdminCategoryArgs(PageArgs):
    active = fields.Boolean(metadata={"description": "Only active (true) or inactive (false)"})


def _tenant() -> Tenant:
    return db.session.get(Tenant, caller().tenant_id)


def _category_or_404(category_id: int) -> Category:
    category = categories.get(caller().tenant_id, category_id) \
        if 0 < category_id <= MAX_ID else None
    if category is None:
        abort(404)
    return category


def _refused(exc: ValidationError):
    db.session.rollback()
    return problem(422, "Some values are not valid.", errors=exc.messages)


@blp.route("")
@blp.arguments(AdminCategoryArgs, location="query")
@blp.response(200, page_schema(AdminCategoryOut, "AdminCategoryPage"))
@blp.alt_response(404, **problem_doc, description="Not a tenant admin")
def list_categories(args):
    """The company's categories, active and not, by name"""
    return paginate(categories.of_tenant(caller().tenant_id, active=args.get("active")), args)


@blp.route("", methods=["POST"])
@blp.arguments(CategoryCreate)
@blp.response(201, AdminCategoryOut)
@blp.alt_response(404, **problem_doc, description="Not a tenant admin")
@blp.alt_response(422, **problem_doc, description="A name taken or missing, a unit that is not "
                  "a service unit of the company, a process not deployed")
def create_category(data):
    """Create a category (an audit entry records it)"""
    try:
        category = categories.create(caller(), _tenant(), data)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return category


@blp.route("/<int:category_id>")
@blp.response(200, AdminCategoryOut)
@blp.alt_response(404, **problem_doc, description="No such category in the company")
def get_category(category_id):
    """One category"""
    return _category_or_404(category_id)


@blp.route("/<int:category_id>", methods=["PATCH"])
@blp.arguments(CategoryIn)
@blp.response(200, AdminCategoryOut)
@blp.alt_response(404, **problem_doc, description="No such category in the company")
@blp.alt_response(422, **problem_doc, description="Invalid values; nothing changed")
def update_category(data, category_id):
    """Change what is given (names replace both languages); an audit entry records the
    before and after"""
    category = _category_or_404(category_id)
    try:
        categories.update(caller(), _tenant(), category, data)
    except ValidationError as exc:
        return _refused(exc)
    db.session.commit()
    return category
