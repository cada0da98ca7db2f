"""The public survey page ``/survey/<token>``: no login; it shows the request's number and
title only, asks for a rating and a comment, and confirms the service as the requester.

A link that cannot be used (not ours or altered, for a task that is not an open confirmation,
answered already, expired) gets one page saying so and nothing else: 404 for a link we did not
make, 410 for one used or expired. The form carries the CSRF token of the visitor's session like
every form; posts are counted per request and per address (``login.over_limit``), so guessing
and hammering are bounded. Like the account links' pages, it is never cached, sends no Referer
and logs its path without the token. It speaks the requester's language (as their e-mails do),
whoever opens it."""

from flask import Blueprint, g, render_template, request
from flask_babel import force_locale
from marshmallow import ValidationError

from app.extensions import db
from app.handlers.confirm import ConfirmSchema
from app.services import login, workflow
from app.survey import service, tokens
from app.tenancy import isolation
from app.views.common import describe_form

bp = Blueprint("survey", __name__, template_folder="templates")

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex"}
# Posts counted per request (and five times as many per address) in the login window
MAX_POSTS = 10
FORM_KEYS = ("rating", "comment")


def _page(template: str, status: int = 200, **context):
    return render_template(template, **context), status, PRIVATE


def _dead(reason: str):
    db.session.rollback()
    return _page("survey/dead.html", 404 if reason == service.UNKNOWN else 410, reason=reason)


def _over_limit(claim: tokens.Claim) -> bool:
    """Count this post; True when the request's or the address's posts reached the limit.
    Committed at once, so a refused answer is counted too."""
    with isolation.platform():  # counters are no tenant's rows
        over = login.over_limit("survey", f"{claim.tenant_id}:{claim.request_id}",
                                request.remote_addr or "", MAX_POSTS)
        db.session.commit()
    return over


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token: str):
    g.log_path = "/survey/<token>"  # the request log never sees the token
    try:
        claim = tokens.read(token)
    except tokens.BadToken:
        return _dead(service.UNKNOWN)
    if request.method == "POST" and _over_limit(claim):
        return _page("survey/dead.html", 429, reason="too_many")
    isolation.enter(claim.tenant_id)  # the signature says whose it is
    language = service.language_of(claim)
    if language is None:
        return _answer(claim)
    g.locale = language  # the page's <html lang>
    with force_locale(language):  # the page, its answers and errors: the requester's language
        return _answer(claim)


def _answer(claim: tokens.Claim):
    try:
        found = service.find(claim)
    except service.Dead as dead:
        return _dead(dead.reason)
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in FORM_KEYS}
        try:
            service.answer(found, values)
        except service.Dead as dead:
            return _dead(dead.reason)
        except ValidationError as exc:
            db.session.rollback()
            errors, status = exc.messages, 422
        except workflow.WorkflowError:
            db.session.rollback()
            return _page("survey/dead.html", 503, reason="failed")
        else:
            number = found.request.number
            db.session.commit()
            return _page("survey/done.html", number=number)
    return _page("survey/answer.html", status, number=found.request.number,
                 title=found.request.title, errors=errors,
                 fields=describe_form(ConfirmSchema, values, errors))
