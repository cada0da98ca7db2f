"""Each category's request template over the API: ``GET /api/v1/categories/{id}/fields``
(its fields and the JSON schema of the ``fields`` object ``POST /api/v1/requests`` takes)."""

from flask import abort
from marshmallow import Schema, fields
from sqlalchemy import select

from app.api.common import MAX_ID, Blueprint, caller
from app.api.errors import problem_doc
from app.engine.forms import field_as_json
from app.extensions import db
from app.handlers.form import json_schema
from app.models import Category
from app.request_fields.specs import form_of

blp = Blueprint("api_request_fields", __name__, url_prefix="/api/v1/categories",
                description="Catalog and people")

FIELD_DOC = (
    "A field as diagram forms define them: `name`, `type` (text, longtext, number, date, "
    "choice, boolean), `label`, `required`; `minLength`/`maxLength` (text), `min`/`max` "
    "(number; date as YYYY-MM-DD), `options` [{value, label}] (choice)")


class OptionOut(Schema):
    value = fields.String()
    label = fields.String()


class FieldOut(Schema):
    name = fields.String()
    type = fields.String()
    label = fields.String()
    required = fields.Boolean()
    minLength = fields.Integer()
    maxLength = fields.Integer()
    min = fields.Raw(metadata={"description": "A number, or a date YYYY-MM-DD"})
    max = fields.Raw(metadata={"description": "A number, or a date YYYY-MM-DD"})
    options = fields.List(fields.Nested(OptionOut))


class CategoryFieldsOut(Schema):
    category_id = fields.Integer()
    field_list = fields.List(fields.Nested(FieldOut), data_key="fields", attribute="fields",
                             metadata={"description": FIELD_DOC})
    schema = fields.Dict(metadata={
        "description": "The JSON schema of the `fields` object a request of this category is "
                       "filed with (`POST /api/v1/requests`); `x-order` is the fields' order"})


@blp.route("/<int:category_id>/fields")
@blp.response(200, CategoryFieldsOut)
@blp.alt_response(404, **problem_doc, description="No such active category in the company")
def category_fields(category_id):
    """The extra fields a category asks for when a request is filed, and their JSON schema"""
    category = db.session.scalar(select(Category).where(
        Category.tenant_id == caller().tenant_id, Category.id == category_id,
        Category.active.is_(True))) if 0 < category_id <= MAX_ID else None
    if category is None:
        abort(404)
    form = form_of(category)
    return {"category_id": category.id,
            "fields": [field_as_json(spec) for spec in form.fields],
            "schema": json_schema(form, category.name)}
