"""The accounts over the API: change one's password, log out everywhere, and "forgot
password" (public: asking for a reset link, and using it)."""

import time

from flask import current_app, request
from marshmallow import Schema, fields

from app.accounts import links, service
from app.api.common import Blueprint, caller, require_token
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.tenancy import isolation

blp = Blueprint("api_accounts", __name__, url_prefix="/api/v1", public=True,
                description="Your account: password, logging out everywhere, password resets")


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True, metadata={
        "description": "At least PASSWORD_MIN_LENGTH (10) characters, at most 1024; not the "
                       "person's e-mail or name, nor one of the most common passwords"})


class ResetRequestIn(Schema):
    email = fields.String(required=True, metadata={"example": "ana@acme.test"})


class ResetConfirmIn(Schema):
    token = fields.String(required=True, load_only=True, metadata={
        "description": "The token at the end of the e-mailed link (/password/reset/<token>)"})
    new_password = fields.String(required=True, load_only=True)


class AcceptedOut(Schema):
    detail = fields.String()


ASKED = "If the address is an account's, a link to choose a new password is on its way there."


class EndedOut(Schema):
    sessions_ended = fields.Integer()


def _refused(refused: service.Refused):
    return problem(422, "The password was not changed.", errors=refused.errors)


@blp.route("/me/password", methods=["POST"])
@blp.arguments(PasswordChangeIn)
@blp.response(200, EndedOut)
@blp.alt_response(401, **problem_doc, description="No valid token")
@blp.alt_response(422, **problem_doc, description="Wrong current password, or a new one that "
                  "breaks the rules (each field's reasons in `errors`)")
def change_password(data):
    """Change your password: every login session ends and every API token, this one
    included, is revoked (get a new one with POST /api/v1/tokens)"""
    denied = require_token()
    if denied is not None:
        return denied
    try:
        ended = service.change_password(caller(), data["current_password"],
                                        data["new_password"])
    except service.Refused as refused:
        db.session.rollback()
        return _refused(refused)
    db.session.commit()
    return {"sessions_ended": ended}


@blp.route("/me/logout-everywhere", methods=["POST"])
@blp.response(200, EndedOut)
@blp.alt_response(401, **problem_doc, description="No valid token")
def logout_everywhere():
    """End every login session of yours and revoke all your API tokens, this one included"""
    denied = require_token()
    if denied is not None:
        return denied
    ended = service.logout_everywhere(caller())
    db.session.commit()
    return {"sessions_ended": ended}


@blp.route("/password-resets", methods=["POST"])
@blp.arguments(ResetRequestIn)
@blp.response(202, AcceptedOut)
@blp.doc(security=[])
def request_reset(data):
    """Ask for a password reset link by e-mail. Always 202, in the same time, whether or not
    the address is an account's (nothing tells which); requests beyond the limit per address
    are dropped as silently"""
    started = time.perf_counter()
    with isolation.platform():  # whose address is it: not known (and never said)
        service.request_reset(data["email"], request.remote_addr)
    db.session.commit()
    left = started + current_app.config.get("PASSWORD_RESET_MIN_SECONDS", 0.4) \
        - time.perf_counter()
    if left > 0:
        time.sleep(left)
    return {"detail": ASKED}


@blp.route("/password-resets/confirm", methods=["POST"])
@blp.arguments(ResetConfirmIn)
@blp.response(204)
@blp.alt_response(404, **problem_doc, description="Not a link we sent")
@blp.alt_response(410, **problem_doc, description="The link was used, expired, or a newer one "
                  "was sent (`detail` says which)")
@blp.alt_response(422, **problem_doc, description="A new password that breaks the rules")
@blp.doc(security=[])
def confirm_reset(data):
    """Choose a new password with the token of a reset link: the link is used, every login
    session ends and every API token is revoked"""
    with isolation.platform():  # whose link is it: not known yet
        link, why = links.find(data["token"], "reset", lock=True)
    if why == links.UNKNOWN:
        db.session.rollback()
        return problem(404, "This is not a link we sent (or it was copied incompletely).")
    if why is not None:
        db.session.rollback()
        return problem(410, _GONE[why])
    isolation.enter(link.tenant_id)
    try:
        service.reset_password(link, data["new_password"])
    except service.Refused as refused:
        db.session.rollback()
        return _refused(refused)
    db.session.commit()
    return ""


_GONE = {
    links.USED: "The link was used already; ask for a new one (POST /api/v1/password-resets).",
    links.EXPIRED: "The link expired; ask for a new one (POST /api/v1/password-resets).",
    links.SUPERSEDED: "A newer link was sent since; only the newest one works.",
}
