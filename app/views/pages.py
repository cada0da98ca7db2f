"""Home page and error pages."""

from datetime import date

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.globals import request_ctx
from flask_login import current_user, login_required
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, default_exceptions

from app import db_unavailable, policy
from app.api.errors import from_http_exception, is_api_request, problem
from app.extensions import db
from app.models.base import utcnow

bp = Blueprint("pages", __name__)


@bp.route("/")
@login_required
def home():
    return redirect(url_for("inbox.tasks"))


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


PAGES = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html",
         413: "errors/413.html", 500: "errors/500.html", 503: "errors/503.html"}
RETRY_AFTER_SECONDS = 30


def _error_page(code: int, error: HTTPException | None = None, headers=None):
    """The page for an error ``code``; Werkzeug's plain one for rare codes, and when no link
    can be built (a Host header Werkzeug refused leaves the request without a URL adapter,
    and every page links to others)."""
    template = PAGES.get(code)
    if template is None or request_ctx.url_adapter is None:
        response = (error or default_exceptions[code]()).get_response(request.environ)
        response.headers.update(headers or {})
        return response
    return render_template(template, error=error), code, headers or {}


@bp.app_errorhandler(HTTPException)
def http_error(error):
    """Problem details under /api/, a page elsewhere."""
    if is_api_request():
        return from_http_exception(error)
    return _error_page(error.code, error)


@bp.app_errorhandler(500)
def server_error(error):
    if is_api_request():
        return problem(500, "Something went wrong; nothing was changed.")
    return _error_page(500)


@bp.app_errorhandler(DBAPIError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(error):
    """503 while the database is down, read-only, full or unreadable: the transaction is rolled
    back, one warning is logged (no traceback), and the next request connects afresh
    (``db_unavailable.install``). Any other database error stays a 500."""
    if not db_unavailable.is_unavailable(error):
        raise error
    current_app.logger.warning("database unavailable, answered 503: %s",
                               db_unavailable.describe(error))
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.close()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_api_request():
        return problem(503, "The database is unavailable or refusing changes; nothing was "
                            "changed. Try again in a moment.", headers=headers)
    # The page is drawn for an anonymous visitor: the signed-in person's name, company and
    # roles would be read from the database that just failed. Their session is untouched.
    g._login_user = current_app.login_manager.anonymous_user()
    return _error_page(503, headers=headers)


@bp.app_context_processor
def navigation():
    if not current_user.is_authenticated:
        return {"today": date.today()}
    return {
        "can_use_api": policy.can_use_api,
        "today": date.today(),
        "now": utcnow(),
        "is_head": current_user.has_role("unit_head"),
        "is_director": current_user.has_role("service_director"),
        "is_worker": current_user.has_role("worker"),
        "can_file": current_user.home_unit_id is not None,
    }
