"""Log in and out, and choose the interface language.

Each login starts a server-side session (``services.sessions``) whose id travels in the signed
cookie under ``SESSION_KEY``; the person is loaded through it on every page request.
"""


from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db, login_manager
from app.inputs import same_site_path
from app.services import sessions
from app.services.login import TooManyAttempts, check_credentials
from app.tenancy import isolation

bp = Blueprint("auth", __name__)
SESSION_KEY = "_sid"  # the raw id of the server-side session, in the signed cookie


def current_session_id() -> str | None:
    return session.get(SESSION_KEY)


@login_manager.user_loader
def load_user(user_id: str):
    """The person of the cookie's live server-side session (one query), else None.

    Flask-Login also calls this for a "remember me" cookie; such a cookie brings no session id,
    so it never logs anyone in (this app sets none)."""
    with isolation.platform():  # whose cookie is it: not known yet
        user = sessions.load(user_id, current_session_id())
    if user is not None:
        isolation.enter(user.tenant_id)
        g.who = (user.tenant_id, user.id)  # for the request log, without a query after commit
    return user


def _safe_next(target: str | None) -> str:
    """Where to send a person after logging in or choosing a language: the ``next`` they came
    with if it is a path of this site (``inputs.same_site_path``), else the home page."""
    return same_site_path(target) or url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()[:254]
        try:
            with isolation.platform():  # whose e-mail is it: not known yet
                user = check_credentials(email, request.form.get("password"),
                                         request.remote_addr)
        except TooManyAttempts:
            db.session.rollback()
            flash(_("Too many failed attempts. Wait a few minutes and try again."), "error")
            return render_template("auth/login.html", email=email), 429
        if user is None:
            db.session.commit()  # the failed attempt counts
            flash(_("Wrong e-mail or password."), "error")
            return render_template("auth/login.html", email=email), 401
        isolation.enter(user.tenant_id)
        raw = sessions.start(user, request.user_agent.string, request.remote_addr)
        db.session.commit()
        session.clear()  # nothing of the anonymous visit (or an earlier login) carries over
        login_user(user)
        g.who = (user.tenant_id, user.id)
        session[SESSION_KEY] = raw
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", email=email)


@bp.post("/logout")
@login_required
def logout():
    sessions.end(current_user, current_session_id(), "logout")
    db.session.commit()
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
