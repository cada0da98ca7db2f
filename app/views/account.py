"""The person's own pages: personal API tokens (create, list, revoke) and login sessions
(list, end one, log out everywhere else)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from app import policy
from app.api import tokens_service
from app.extensions import db
from app.models import ApiToken
from app.services import sessions
from app.views.auth import current_session_id
from app.views.common import scoped_get

bp = Blueprint("account", __name__)

LIFETIMES = {"30": 30 * 24, "90": 90 * 24, "365": 365 * 24}


def _api_user_only():
    """The token pages follow the menu: only people who use the API (policy.can_use_api)."""
    if not policy.can_use_api(current_user):
        abort(404)


def _page(new_token=None, status=200):
    page = render_template("account/tokens.html", tokens=tokens_service.tokens_of(current_user),
                           new_token=new_token, lifetimes=LIFETIMES)
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/account/tokens")
@login_required
def tokens():
    _api_user_only()
    return _page()


@bp.post("/account/tokens")
@login_required
def create_token():
    _api_user_only()
    name = (request.form.get("name") or "").strip()
    lifetime = LIFETIMES.get(request.form.get("days") or "90")
    if not name or len(name) > 100 or lifetime is None:
        flash(_("Give the token a name (at most 100 characters) and a lifetime."), "error")
        return _page(status=422)
    raw, _token = tokens_service.issue(current_user, name, lifetime)
    db.session.commit()
    return _page(new_token=raw)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = scoped_get(ApiToken, token_id)
    if not policy.can_manage_token(current_user, token):
        abort(404)
    tokens_service.revoke(token, current_user)
    db.session.commit()
    flash(_("Token revoked; programs using it can no longer connect."), "success")
    return redirect(url_for("account.tokens"))


@bp.route("/account/sessions")
@login_required
def sessions_page():
    raw = current_session_id()
    rows = [(row, sessions.is_current(row, raw), sessions.browser_of(row.user_agent))
            for row in sessions.live_sessions(current_user)]
    page = render_template("account/sessions.html", rows=rows)
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    row = sessions.find_live(current_user, session_id)
    if row is None:
        abort(404)
    was_current = sessions.is_current(row, current_session_id())
    sessions.end_row(row, "logout")
    db.session.commit()
    if was_current:
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("Session ended; that browser must log in again."), "success")
    return redirect(url_for("account.sessions_page"))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    ended = sessions.end_sessions(current_user, "logout_everywhere", keep=current_session_id())
    db.session.commit()
    flash(ngettext("%(num)d other session ended.", "%(num)d other sessions ended.", ended),
          "success")
    return redirect(url_for("account.sessions_page"))
