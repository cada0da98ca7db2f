"""Home page and error pages."""

from datetime import date

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("pages", __name__)


@bp.route("/")
@login_required
def home():
    return redirect(url_for("inbox.tasks"))


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.app_errorhandler(404)
def not_found(_error):
    return render_template("errors/404.html"), 404


@bp.app_errorhandler(403)
def forbidden(_error):
    return render_template("errors/403.html"), 403


@bp.app_errorhandler(400)
def bad_request(error):
    return render_template("errors/400.html", error=error), 400


@bp.app_errorhandler(413)
def too_large(_error):
    return render_template("errors/413.html"), 413


@bp.app_errorhandler(500)
def server_error(_error):
    return render_template("errors/500.html"), 500


@bp.app_context_processor
def navigation():
    if not current_user.is_authenticated:
        return {"today": date.today()}
    return {
        "today": date.today(),
        "is_head": current_user.has_role("unit_head"),
        "is_director": current_user.has_role("service_director"),
        "is_worker": current_user.has_role("worker"),
        "can_file": current_user.home_unit_id is not None,
    }
