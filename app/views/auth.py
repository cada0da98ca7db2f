"""Log in and out, and choose the interface language."""

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import delete, func, select

from app.extensions import db, login_manager
from app.models import LoginAttempt, User
from app.models.base import utcnow

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


ADDRESS_FACTOR = 5  # one address may fail this many times more (several people behind a NAT)


def _too_many_attempts(email: str, address: str) -> bool:
    """Failed logins within the window, per e-mail and per address."""
    window = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    limit = current_app.config["LOGIN_MAX_ATTEMPTS"]
    recent = LoginAttempt.created_at >= window
    by_email = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email, recent))
    by_address = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.address == address, recent))
    return by_email >= limit or by_address >= limit * ADDRESS_FACTOR


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()[:254]
        password = (request.form.get("password") or "")[:1024]
        address = (request.remote_addr or "")[:64]
        if _too_many_attempts(email, address):
            flash(_("Too many failed attempts. Wait a few minutes and try again."), "error")
            return render_template("auth/login.html", email=email), 429
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None or not user.active or not user.check_password(password):
            db.session.add(LoginAttempt(email=email, address=address))
            db.session.commit()
            flash(_("Wrong e-mail or password."), "error")
            return render_template("auth/login.html", email=email), 401
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
        db.session.commit()
        session.clear()
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", email=email)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    code = request.form.get("code")
    if code in ("es", "en"):
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
