"""Who of a company may use the service now: a suspended company's people see one page (why,
whom to contact) wherever they go, and its API calls are refused; a plan without API access
refuses API calls too. Nothing of the company's data is touched: resuming restores all.

Problem types (stable; documented in the README):

- ``SUSPENDED_TYPE``: the company is suspended (403, with ``reason``);
- ``quotas.PROBLEM_TYPE``: the plan has no API access (403, ``limit`` = ``api_access``).

Background work of a suspended company waits: its due timers are not claimed and its queued
messages (e-mail, SMS, WhatsApp, webhooks) are not sent (``not_suspended`` in the claim
queries); both go on at resume, timers that fell due meanwhile firing then.
"""

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from app.models import Tenant
from app.tenancy.plans import plan_of
from app.tenancy.quotas import QuotaExceeded

SUSPENDED_TYPE = "https://mesa-de-servicios.org/problems/tenant-suspended"
SUSPENDED = "suspended"
# What a suspended company's people may still do: log out, change language, static files
OPEN_ENDPOINTS = {"auth.logout", "auth.language", "auth.login", "static", "pages.favicon"}


class TenantSuspended(Exception):
    """An action of a suspended company's person (e.g. issuing an API token): refused, and
    answered as the suspension page or problem (``app.tenancy.errors``)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        super().__init__(f"tenant {tenant.slug} is suspended")


def is_suspended(tenant: Tenant | None) -> bool:
    return tenant is not None and tenant.status == SUSPENDED


def require_active(tenant: Tenant) -> None:
    """Raise TenantSuspended when ``tenant`` is suspended."""
    if is_suspended(tenant):
        raise TenantSuspended(tenant)


def not_suspended(tenant_id_column):
    """A SQL condition: the row's tenant is not suspended (for background claim queries)."""
    return tenant_id_column.not_in(select(Tenant.id).where(Tenant.status == SUSPENDED))


def contact() -> str:
    """Whom a suspended company's people should write to (setting OPERATOR_CONTACT)."""
    return current_app.config.get("OPERATOR_CONTACT") or ""


def suspended_body(tenant: Tenant) -> dict:
    from flask_babel import gettext as _

    return {"type": SUSPENDED_TYPE, "title": "Company suspended", "status": 403,
            "detail": _("Your company's access to the service is suspended. Nothing of its "
                        "data is lost; it comes back when access is resumed."),
            "reason": tenant.suspended_reason or "", "contact": contact()}


def api_refusal(user):
    """The API answer for ``user``'s company when it may not use the API now, else None."""
    from app.tenancy.errors import problem_response

    tenant = user.tenant
    if is_suspended(tenant):
        return problem_response(suspended_body(tenant))
    if not plan_of(tenant).api_access:
        return problem_response(QuotaExceeded("api_access", False, None).problem_body())
    return None


def page_refusal():
    """Before every page: a suspended company's people see the suspension page (403)."""
    if request.path.startswith("/api/") or request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.endpoint and request.endpoint.startswith("ops."):
        return None  # health checks and metrics are the platform's, not the company's
    if not current_user.is_authenticated:
        return None
    tenant = current_user.tenant
    if not is_suspended(tenant):
        return None
    return suspended_page(tenant)


def suspended_page(tenant: Tenant):
    page = render_template("tenancy/suspended.html", tenant=tenant, contact=contact())
    return page, 403, {"Cache-Control": "no-store"}
