"""``GET /api/v1/admin/plan``: the company's plan and its usage against each limit."""

from flask import abort
from marshmallow import Schema, fields

from app import policy
from app.api.common import Blueprint, caller
from app.api.errors import problem_doc
from app.extensions import db
from app.models import Tenant
from app.tenancy import quotas
from app.tenancy.plans import plan_of

blp = Blueprint("api_tenancy", __name__, url_prefix="/api/v1/admin",
                description="The company's plan and its usage (tenant admins)")


class PlanUsageOut(Schema):
    used = fields.Integer(allow_none=True, metadata={
        "description": "Used now (requests: since the 1st of this month in the company's "
                       "time zone; api_access: null)"})
    allowed = fields.Raw(allow_none=True, metadata={
        "description": "The plan's limit; null is unlimited; true/false for api_access"})
    over = fields.Boolean(metadata={"description": "Usage already passes the limit"})


class TenantPlanOut(Schema):
    plan = fields.String(metadata={"example": "profesional"})
    label = fields.String(metadata={"example": "Profesional"})
    status = fields.String(metadata={"description": "active or suspended"})
    usage = fields.Dict(keys=fields.String(), values=fields.Nested(PlanUsageOut), metadata={
        "description": "active_users, requests_per_month, custom_processes, storage_mb, "
                       "api_access"})


@blp.route("/plan")
@blp.response(200, TenantPlanOut)
@blp.alt_response(404, **problem_doc, description="The caller is not a tenant admin")
def plan():
    """The company's plan and its usage against each limit"""
    user = caller()
    if not policy.is_tenant_admin(user):
        abort(404)
    tenant = db.session.get(Tenant, user.tenant_id)
    current = plan_of(tenant)
    return {"plan": current.key, "label": str(current.label), "status": tenant.status,
            "usage": quotas.usage(tenant)}
