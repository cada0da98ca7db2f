"""How a plan limit (``QuotaExceeded``) and a suspended company are answered, wherever they
are raised: the transaction rolls back (nothing changes); under ``/api/`` a 403 problem+json
with a stable ``type``; on pages a clear page."""

from flask import jsonify, render_template

from app.api.errors import PROBLEM_JSON, is_api_request
from app.extensions import db
from app.tenancy.quotas import QuotaExceeded


def problem_response(body: dict, status: int = 403):
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    return response


def quota_exceeded(error: QuotaExceeded):
    db.session.rollback()
    if is_api_request():
        return problem_response(error.problem_body())
    return render_template("tenancy/plan_limit.html", error=error), 403


def register(app) -> None:
    app.register_error_handler(QuotaExceeded, quota_exceeded)
