"""How a plan limit (``QuotaExceeded``) is answered wherever it is raised: the transaction
rolls back (nothing changes); under ``/api/`` a 403 problem+json with the stable ``type``
(``quotas.PROBLEM_TYPE``), ``limit``, ``allowed`` and ``used``; a page's script calling with
JSON (the modeler) gets ``{"error": ...}`` as its other errors; a page gets a clear page.
Also: before every page, a suspended company's people see the suspension page
(``access.page_refusal``)."""

from urllib.parse import urlsplit

from flask import jsonify, render_template, request

from app.api.errors import PROBLEM_JSON, is_api_request
from app.extensions import db
from app.inputs import same_site_path
from app.tenancy.quotas import QuotaExceeded


def problem_response(body: dict, status: int = 403):
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    return response


def _back() -> str | None:
    """The page the person came from, if it is one of this site's."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return same_site_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def quota_exceeded(error: QuotaExceeded):
    db.session.rollback()
    if is_api_request():
        return problem_response(error.problem_body())
    if request.is_json:
        body = error.problem_body()
        return jsonify(error=body["detail"], type=body["type"], limit=body["limit"],
                       allowed=body["allowed"], used=body["used"]), 403
    return render_template("tenancy/plan_limit.html", error=error, back=_back()), 403


def tenant_suspended(error):
    from app.tenancy import access

    db.session.rollback()
    if is_api_request() or request.is_json:
        return problem_response(access.suspended_body(error.tenant))
    return access.suspended_page(error.tenant)


def register(app) -> None:
    from app.tenancy import access

    app.register_error_handler(QuotaExceeded, quota_exceeded)
    app.register_error_handler(access.TenantSuspended, tenant_suspended)
    app.before_request(access.page_refusal)
