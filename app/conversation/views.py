"""The conversation's pages: follow / unfollow a request (buttons on its page), the requests I
follow, a canned response's text for a request, and the canned responses' admin pages (tenant
admins and service directors). Thin: load by the person's company and id, check with
``app.policy`` / ``canned``, call a service, commit once. What the request page's partials
show comes from the ``conversation(req)`` template global (``page_context``)."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app import policy
from app.api.common import paginate
from app.conversation import canned, followers, mentions
from app.extensions import db
from app.notifications.sandbox import TemplateRefused
from app.views.common import describe_form, form_values, request_or_404

bp = Blueprint("conversation", __name__, template_folder="templates")
PER_PAGE = 25


def _page_arg() -> int:
    value = request.args.get("page", type=int)
    return value if value is not None and 1 <= value <= 100_000 else 1


def _back(req, anchor="history"):
    return redirect(url_for("requests.detail", request_id=req.id) + f"#{anchor}", code=303)


# --- the request page's partials -------------------------------------------------------------

def page_context(req) -> dict:
    """What the request page's conversation partials show ``current_user``: whether they may
    write internal notes, the canned responses they may insert (and the text of the one they
    chose, ``?canned=<id>``), who they may mention, and whether they follow it. Computed once
    per page."""
    cached = g.setdefault("conversation_pages", {})
    if req.id not in cached:
        cached[req.id] = _page_context(req)
    return cached[req.id]


def _typed() -> tuple[str, bool, set[int]]:
    """What the comment form held when its "Insert" was pressed (a POST answered with the page):
    the text, the internal-note box, the people to mention; nothing on a GET."""
    if request.method != "POST":
        return "", False, set()
    mentioned = {int(v) for v in request.form.getlist("mention_ids") if v.isdigit()}
    return (request.form.get("comment", ""), request.form.get("internal") == "true",
            mentioned)


def _page_context(req) -> dict:
    may_internal = policy.can_see_internal(current_user, req)
    usable = canned.usable_for(current_user, req) if may_internal else []
    typed, internal, mentioned = _typed()
    prefill, chosen, refused = typed, request.values.get("canned", type=int), None
    if chosen:
        row = next((c for c in usable if c.id == chosen), None)
        if row is not None:
            try:
                reply = canned.render(row, req, current_user)
                prefill = f"{typed.rstrip()}\n\n{reply}" if typed.strip() else reply
            except TemplateRefused as exc:
                refused = str(exc)
    return {
        "may_internal": may_internal, "canned": usable, "chosen": chosen,
        "prefill": prefill, "refused": refused,
        "internal_checked": internal and may_internal, "mentioned": mentioned,
        "mentionable": [p for p in mentions.mentionable(req) if p.id != current_user.id],
        "following": followers.is_following(current_user, req),
        "may_manage_canned": canned.can_manage_any(current_user),
    }


# --- following -------------------------------------------------------------------------------

@bp.post("/requests/<int:request_id>/follow")
@login_required
def follow(request_id: int):
    req = request_or_404(request_id)
    followers.follow(current_user, req)
    db.session.commit()
    flash(_("You follow %(number)s: its news reach you as notices.", number=req.number),
          "success")
    return _back(req, "follow")


@bp.post("/requests/<int:request_id>/unfollow")
@login_required
def unfollow(request_id: int):
    req = request_or_404(request_id)
    followers.unfollow(current_user, req)
    db.session.commit()
    flash(_("You no longer follow %(number)s.", number=req.number), "success")
    return _back(req, "follow")


@bp.route("/following")
@login_required
def following():
    found = paginate(followers.following_query(current_user),
                     {"page": _page_arg(), "per_page": PER_PAGE})
    return render_template("conversation/following.html", found=found)


# --- canned responses on a request -----------------------------------------------------------

@bp.route("/requests/<int:request_id>/canned/<int:canned_id>")
@login_required
def rendered(request_id: int, canned_id: int):
    """A canned response's text for the request, as plain text (for scripts); the page itself
    inserts it without one (``?canned=<id>``)."""
    req = request_or_404(request_id)
    row = canned.usable(current_user, req, canned_id)
    if row is None:
        abort(404)
    try:
        text = canned.render(row, req, current_user)
    except TemplateRefused as exc:
        return str(exc), 422, {"Content-Type": "text/plain; charset=utf-8"}
    return text, 200, {"Content-Type": "text/plain; charset=utf-8",
                       "Cache-Control": "no-store"}


# --- keeping canned responses ----------------------------------------------------------------

def _managers_only() -> None:
    if not canned.can_manage_any(current_user):
        abort(404)


def _form_page(row=None, values=None, errors=None, status=200):
    units = canned.manageable_units(current_user)
    return render_template(
        "conversation/canned_form.html", row=row, values=values or {}, errors=errors or {},
        units=units, company_wide=policy.is_tenant_admin(current_user),
        variables=canned.VARIABLES, variable_help=canned.VARIABLE_HELP,
        fields=describe_form(canned.CannedSchema, values, errors)), status


@bp.route("/canned-responses")
@login_required
def canned_index():
    _managers_only()
    found = paginate(canned.manageable_query(current_user),
                     {"page": _page_arg(), "per_page": PER_PAGE})
    return render_template("conversation/canned.html", found=found)


@bp.route("/canned-responses/new", methods=["GET", "POST"])
@login_required
def canned_new():
    _managers_only()
    if request.method == "GET":
        return _form_page()
    values = form_values(request.form)
    try:
        row = canned.create(current_user, values)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _form_page(values=values, errors=exc.messages, status=422)
    flash(_("Canned response “%(title)s” saved.", title=row.title), "success")
    return redirect(url_for("conversation.canned_index"), code=303)


@bp.route("/canned-responses/<int:canned_id>", methods=["GET", "POST"])
@login_required
def canned_edit(canned_id: int):
    _managers_only()
    row = canned.get_manageable(current_user, canned_id)
    if row is None:
        abort(404)
    if request.method == "GET":
        return _form_page(row, {"title": row.title, "body": row.body,
                                "service_unit_id": row.service_unit_id or ""})
    values = form_values(request.form)
    values.setdefault("service_unit_id", "")
    try:
        canned.update(current_user, row, {**values, "service_unit_id":
                                          values["service_unit_id"] or None})
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        row = canned.get_manageable(current_user, canned_id)
        return _form_page(row, values, exc.messages, 422)
    flash(_("Canned response “%(title)s” saved.", title=row.title), "success")
    return redirect(url_for("conversation.canned_index"), code=303)


@bp.post("/canned-responses/<int:canned_id>/delete")
@login_required
def canned_delete(canned_id: int):
    _managers_only()
    row = canned.get_manageable(current_user, canned_id)
    if row is None:
        abort(404)
    title = row.title
    canned.delete(current_user, row)
    db.session.commit()
    flash(_("Canned response “%(title)s” deleted.", title=title), "success")
    return redirect(url_for("conversation.canned_index"), code=303)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.add_template_global(page_context, "conversation")
