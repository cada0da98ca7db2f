"""The accounts' pages: choose a first password from an invitation, forgot and reset a
password, change it, log out everywhere.

The pages a link opens carry its token in their address: they are never cached, send no
Referer, and log their path without it (``g.log_path``)."""

import time

from flask import (
    Blueprint,
    current_app,
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

from app.accounts import links, passwords, service
from app.extensions import db
from app.services import sessions
from app.tenancy import isolation
from app.views.auth import SESSION_KEY, current_session_id

bp = Blueprint("accounts", __name__, template_folder="templates")

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(template: str, status: int = 200, **context):
    context.setdefault("errors", {})
    context.setdefault("min_length", passwords.min_length())
    return render_template(template, **context), status, PRIVATE


# -- change password, log out everywhere -----------------------------------------------------------

@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    if request.method == "GET":
        return _page("account/password.html")
    try:
        ended = service.change_password(
            current_user, request.form.get("current_password"),
            request.form.get("new_password"), request.form.get("new_password_again"),
            keep_session=current_session_id())
    except service.Refused as refused:
        db.session.rollback()
        return _page("account/password.html", 422, errors=refused.errors)
    db.session.commit()
    flash(_("Password changed. Other browsers were logged out (%(num)d) and your API tokens "
            "no longer work.", num=ended), "success")
    return redirect(url_for("accounts.change_password"))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    service.logout_everywhere(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out everywhere: every browser, and every program with one of your "
            "API tokens."), "info")
    return redirect(url_for("auth.login"))


# -- forgot password -------------------------------------------------------------------------------

@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot():
    minutes = current_app.config.get("RESET_LINK_MINUTES", 30)
    if request.method == "GET":
        return _page("accounts/forgot.html", email="", sent=False, minutes=minutes)
    started = time.perf_counter()
    email = (request.form.get("email") or "").strip()[:254]
    with isolation.platform():  # whose address is it: not known (and never said)
        service.request_reset(email, request.remote_addr)
    db.session.commit()
    _wait_until(started + current_app.config.get("PASSWORD_RESET_MIN_SECONDS", 0.4))
    return _page("accounts/forgot.html", email=email, sent=True, minutes=minutes)


def _wait_until(moment: float) -> None:
    """Answer no sooner than ``moment``: a known address (a link written) and an unknown one
    (nothing written) take the same time."""
    left = moment - time.perf_counter()
    if left > 0:
        time.sleep(left)


# -- links: reset, welcome -------------------------------------------------------------------------

def _link_or_dead(purpose: str, token: str, lock: bool = False):
    """The usable link of the token (its tenant's work from here on), or the page saying why
    not (410; 404 for a token we never made)."""
    g.log_path = links.path_of(purpose, "<token>")  # the request log never sees the token
    with isolation.platform():  # whose link is it: not known yet
        link, why = links.find(token, purpose, lock=lock)
    if why is not None:
        db.session.rollback()
        status = 404 if why == links.UNKNOWN else 410
        return None, _page("accounts/link_dead.html", status, reason=why, purpose=purpose)
    isolation.enter(link.tenant_id)
    return link, None


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    link, dead = _link_or_dead("reset", token, lock=request.method == "POST")
    if dead:
        return dead
    if request.method == "GET":
        return _page("accounts/reset.html", person=link.user)
    try:
        service.reset_password(link, request.form.get("new_password"),
                               request.form.get("new_password_again"))
    except service.Refused as refused:  # nothing was changed
        return _page("accounts/reset.html", 422, person=link.user, errors=refused.errors)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Your password was changed and you were logged out everywhere. Log in with the "
            "new one."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str):
    link, dead = _link_or_dead("invite", token, lock=request.method == "POST")
    if dead:
        return dead
    if request.method == "GET":
        return _page("accounts/welcome.html", person=link.user)
    try:
        user = service.accept_invitation(link, request.form.get("new_password"),
                                         request.form.get("new_password_again"))
    except service.Refused as refused:  # nothing was changed
        return _page("accounts/welcome.html", 422, person=link.user, errors=refused.errors)
    raw = sessions.start(user, request.user_agent.string, request.remote_addr)
    db.session.commit()
    session.clear()  # nothing of an earlier visit (or another person's login) carries over
    login_user(user)
    g.who = (user.tenant_id, user.id)
    session[SESSION_KEY] = raw
    flash(_("Welcome! Your password is saved; next time, log in with your e-mail and it."),
          "success")
    return redirect(url_for("pages.home"))
