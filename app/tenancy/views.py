"""The tenant admin's page of usage against the plan (``/admin/plan``), and the page people of
a suspended company see (``app.tenancy.suspension``)."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from app import policy
from app.extensions import db, login_manager
from app.models import Tenant
from app.tenancy import quotas
from app.tenancy.plans import PLANS, plan_of

bp = Blueprint("tenancy", __name__, template_folder="templates")


@bp.get("/admin/plan")
def plan():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.is_tenant_admin(current_user):
        abort(404)
    tenant = db.session.get(Tenant, current_user.tenant_id)
    return render_template("tenancy/plan.html", tenant=tenant, plan=plan_of(tenant),
                           usage=quotas.usage(tenant), labels=quotas.LIMIT_LABELS,
                           plans=PLANS.values())
