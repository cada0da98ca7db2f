"""The person's own page: personal API tokens (create, list, revoke)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import policy
from app.api import tokens_service
from app.extensions import db
from app.models import ApiToken
from app.views.common import scoped_get

bp = Blueprint("account", __name__)

LIFETIMES = {"30": 30 * 24, "90": 90 * 24, "365": 365 * 24}


def _page(new_token=None, status=200):
    page = render_template("account/tokens.html", tokens=tokens_service.tokens_of(current_user),
                           new_token=new_token, lifetimes=LIFETIMES)
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/account/tokens")
@login_required
def tokens():
    return _page()


@bp.post("/account/tokens")
@login_required
def create_token():
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
    tokens_service.revoke(token)
    db.session.commit()
    flash(_("Token revoked; programs using it can no longer connect."), "success")
    return redirect(url_for("account.tokens"))
