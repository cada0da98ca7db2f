"""The company's settings over the API: /api/v1/admin/settings and its logo."""

from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields

from app import policy
from app.admin import settings
from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.models import Tenant

blp = Blueprint("api_admin_settings", __name__, url_prefix="/api/v1/admin/settings",
                description="Tenant administration: the company's settings")


@blp.before_request
def _tenant_admins_only():
    if not policy.can_administer_tenant(caller()):
        return problem(404, "Not found.")  # as the pages: nothing here for others
    return None


class SettingsBase(Schema):
    name = fields.String(metadata={"description": "The company's name"})
    locale = fields.String(metadata={"description": "Default language: es or en"})
    timezone = fields.String(metadata={"description": "An IANA time zone, e.g. America/Bogota"})
    request_number_prefix = fields.String(metadata={
        "description": "Prefix of new request numbers (1-10 letters, digits, dashes)"})
    ticket_number_prefix = fields.String(metadata={
        "description": "Prefix of new ticket numbers (1-10 letters, digits, dashes)"})
    authorization_reminder_after = fields.String(metadata={
        "description": "ISO 8601 duration before the unit head is reminded, e.g. PT48H"})
    auto_close_after = fields.String(metadata={
        "description": "ISO 8601 duration before an unconfirmed finished request closes"})
    currency = fields.String(metadata={
        "description": "ISO 4217 code of budgets, rates and costs, e.g. COP, USD, EUR"})
    survey_link_days = fields.Integer(strict=True, metadata={
        "description": "Days the link of a confirmation's e-mail works to rate the service "
                       "without logging in (1-90, default 7)"})
    over_budget_approval = fields.Boolean(metadata={
        "description": "The default process sends a request the director approves over its "
                       "budget to a tenant admin for a second approval"})


class SettingsOut(SettingsBase):
    logo_url = fields.String(allow_none=True, metadata={
        "description": "The logo for the company's signed-in people (a page URL, not the API)"})


class SettingsIn(SettingsBase):
    """Any subset; what is absent stays."""


class LogoIn(Schema):
    logo = Upload(required=True, metadata={"description": "A PNG or JPEG, at most 256 KB"})


def _tenant() -> Tenant:
    return db.session.get(Tenant, caller().tenant_id)


def _out(tenant: Tenant) -> dict:
    version = tenant.setting("logo_version")
    return {**settings.current(tenant),
            "logo_url": url_for("company.logo", version=version, _external=True)
            if version else None}


@blp.route("")
@blp.response(200, SettingsOut)
@blp.alt_response(404, **problem_doc, description="Not a tenant admin")
def get_settings():
    """The company's settings"""
    return _out(_tenant())


@blp.route("", methods=["PUT"])
@blp.arguments(SettingsIn)
@blp.response(200, SettingsOut)
@blp.alt_response(404, **problem_doc, description="Not a tenant admin")
@blp.alt_response(422, **problem_doc, description="Invalid values; nothing changed")
def put_settings(data):
    """Change the settings given (an audit entry records the before and after)"""
    tenant = _tenant()
    try:
        values = settings.clean(tenant, data)
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "Some values are not valid.", errors=exc.messages)
    settings.apply(caller(), tenant, values)
    db.session.commit()
    return _out(tenant)


@blp.route("/logo", methods=["PUT"])
@blp.arguments(LogoIn, location="files")
@blp.response(200, SettingsOut)
@blp.alt_response(422, **problem_doc, description="Not a PNG or JPEG, too large, damaged")
def put_logo(files):
    """Upload the logo (multipart/form-data, field ``logo``): its type is told by its bytes"""
    data = files["logo"].stream.read(settings.LOGO_MAX_BYTES + 1)
    try:
        logo = settings.check_logo(data)
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The logo was not accepted.", errors=exc.messages)
    tenant = _tenant()
    settings.set_logo(caller(), tenant, logo)
    db.session.commit()
    return _out(tenant)


@blp.route("/logo", methods=["DELETE"])
@blp.response(200, SettingsOut)
def delete_logo():
    """Remove the logo"""
    tenant = _tenant()
    settings.remove_logo(caller(), tenant)
    db.session.commit()
    return _out(tenant)
