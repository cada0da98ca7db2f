"""POST /api/v1/tokens (e-mail and password -> bearer token) and GET /api/v1/me."""

from flask import current_app, request
from marshmallow import Schema, fields

from app.api import tokens_service
from app.api.common import Blueprint, caller, require_token
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.services.login import TooManyAttempts, check_credentials
from app.tenancy import isolation

blp = Blueprint("api_tokens", __name__, url_prefix="/api/v1", public=True,
                description="Authentication and the caller")


class Credentials(Schema):
    email = fields.String(required=True, metadata={"example": "director@acme.test"})
    password = fields.String(required=True, load_only=True, metadata={"example": "demo1234"})
    name = fields.String(load_default="api", metadata={"description": "A label for the token"})


class TokenOut(Schema):
    token = fields.String(metadata={"description": "Shown once; store it safely"})
    expires_at = fields.DateTime()
    id = fields.Integer()
    name = fields.String()


class RoleOut(Schema):
    role = fields.String()
    unit_id = fields.Integer(allow_none=True)
    unit = fields.String(allow_none=True)


class MeOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    locale = fields.String(allow_none=True)
    tenant = fields.Dict()
    roles = fields.List(fields.Nested(RoleOut))
    units = fields.List(fields.Integer())


@blp.route("/tokens", methods=["POST"])
@blp.arguments(Credentials)
@blp.response(201, TokenOut)
@blp.alt_response(401, **problem_doc, description="Wrong e-mail or password")
@blp.alt_response(429, **problem_doc, description="Too many failed attempts")
@blp.doc(security=[])
def create_token(data):
    """Exchange e-mail and password for a bearer token"""
    try:
        with isolation.platform():  # whose e-mail is it: not known yet
            user = check_credentials(data["email"], data["password"], request.remote_addr)
    except TooManyAttempts:
        db.session.rollback()
        return problem(429, "Too many failed attempts. Wait a few minutes.")
    if user is None:
        db.session.commit()  # the failed attempt counts
        return problem(401, "Wrong e-mail or password.")
    isolation.enter(user.tenant_id)
    raw, token = tokens_service.issue(user, data["name"],
                                      current_app.config["API_TOKEN_TTL_HOURS"])
    db.session.commit()
    return {"token": raw, "expires_at": token.expires_at, "id": token.id, "name": token.name}


@blp.route("/me")
@blp.response(200, MeOut)
@blp.alt_response(401, **problem_doc, description="No valid token")
def me():
    """The caller: user, tenant, roles and units"""
    denied = require_token()
    if denied is not None:
        return denied
    user = caller()
    return {
        "id": user.id, "name": user.name, "email": user.email, "locale": user.locale,
        "tenant": {"id": user.tenant.id, "slug": user.tenant.slug, "name": user.tenant.name},
        "roles": [{"role": m.role, "unit_id": m.unit_id, "unit": m.unit.name if m.unit else None}
                  for m in user.memberships],
        "units": sorted({m.unit_id for m in user.memberships if m.unit_id}),
    }


@blp.route("/tokens/current", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(401, **problem_doc, description="No valid token")
def revoke_current():
    """Revoke the token this call is made with (log out a program)"""
    denied = require_token()
    if denied is not None:
        return denied
    header = request.headers.get("Authorization", "")
    token = tokens_service.find(header.partition(" ")[2].strip())
    tokens_service.revoke(token, caller())
    db.session.commit()
    return ""
