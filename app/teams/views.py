"""The teams' pages: the company's teams (tenant admins edit them: create, rename, members;
directors may read them). Thin: load by the person's company, check with ``app.policy``, call
``app.teams.admin`` (audited), commit once."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app import policy
from app.admin import people
from app.extensions import db
from app.teams import admin, service

bp = Blueprint("teams", __name__, template_folder="templates")


def _viewers_only():
    if not policy.can_view_teams(current_user):
        abort(403)


def _admins_only():
    if not policy.can_manage_teams(current_user):
        abort(403)


def _team_or_404(key: str):
    team = service.get(current_user.tenant_id, key[:40]) if service.valid_key(key) else None
    if team is None:
        abort(404)
    return team


def _names_from_form() -> dict:
    return {language: request.form.get(f"name_{language}", "")[:300] for language in ("es", "en")}


def _index(values=None, error=None, status=200):
    teams = service.list_teams(current_user.tenant_id)
    active = {team.id: service.active_member_ids_of(team.tenant_id, team.id) for team in teams}
    return render_template("teams/index.html", teams=teams, active=active, values=values or {},
                           error=error, can_manage=policy.can_manage_teams(current_user)), status


@bp.route("/teams")
@login_required
def index():
    _viewers_only()
    return _index()


@bp.post("/teams")
@login_required
def create():
    _admins_only()
    values = {"key": request.form.get("key", "").strip()[:60], "name_es": request.form.get(
        "name_es", ""), "name_en": request.form.get("name_en", ""),
        "description": request.form.get("description", "")}
    try:
        team = admin.create(current_user, values["key"], _names_from_form(),
                            values["description"][:3000])
        db.session.commit()
    except service.TeamError as exc:
        db.session.rollback()
        return _index(values, str(exc), 422)
    flash(_("Team created. Add its members."), "success")
    return redirect(url_for("teams.show", key=team.key), code=303)


def _show(team, error=None, status=200):
    members = sorted(team.members, key=lambda m: (m.user.name or "").lower())
    can_manage = policy.can_manage_teams(current_user)
    picker = _picker(team) if can_manage else {}
    return render_template("teams/show.html", team=team, members=members, error=error,
                           can_manage=can_manage, **picker,
                           active_count=sum(1 for m in members if m.user.active)), status


def _picker(team) -> dict:
    """What the add-a-member form offers: the first active people by name (a list the e-mail
    field completes from) and, when the page was asked ``?q=``, the people that search finds,
    each with its own add button (no script needed)."""
    listed, more_listed = service.people_to_add(team, limit=service.PICKER_LIMIT)
    q = " ".join(request.args.get("q", "").split())[:100]
    found, more_found = service.people_to_add(team, q) if q else ([], False)
    return {"listed": listed, "more_listed": more_listed, "q": q, "found": found,
            "more_found": more_found, "search_limit": service.SEARCH_LIMIT}


@bp.route("/teams/<key>")
@login_required
def show(key: str):
    _viewers_only()
    return _show(_team_or_404(key))


@bp.post("/teams/<key>")
@login_required
def rename(key: str):
    _admins_only()
    team = _team_or_404(key)
    try:
        admin.rename(current_user, team, _names_from_form(),
                     request.form.get("description", "")[:3000])
        db.session.commit()
    except service.TeamError as exc:
        db.session.rollback()
        return _show(_team_or_404(key), str(exc), 422)
    flash(_("Team saved."), "success")
    return redirect(url_for("teams.show", key=team.key), code=303)


@bp.post("/teams/<key>/members")
@login_required
def add_member(key: str):
    _admins_only()
    team = _team_or_404(key)
    person = people.find_by_email(current_user.tenant_id, request.form.get("email", "")[:300])
    try:
        if person is None:
            raise service.TeamError(_("Nobody in your company has that e-mail address."))
        admin.add_member(current_user, team, person.id)
        db.session.commit()
    except service.TeamError as exc:
        db.session.rollback()
        return _show(_team_or_404(key), str(exc), 422)
    flash(_("%(name)s is now in the team.", name=person.name), "success")
    return redirect(url_for("teams.show", key=team.key), code=303)


@bp.post("/teams/<key>/members/<int:user_id>/delete")
@login_required
def remove_member(key: str, user_id: int):
    _admins_only()
    team = _team_or_404(key)
    try:
        skipped = admin.remove_member(current_user, team, user_id)
        db.session.commit()
    except service.TeamError:
        db.session.rollback()
        abort(404)
    message = _("Taken out of the team.")
    if skipped:
        message += " " + ngettext(
            "Their open vote was skipped in %(num)s request; the others' votes decide.",
            "Their open votes were skipped in %(num)s requests; the others' votes decide.",
            skipped)
    flash(message, "success")
    return redirect(url_for("teams.show", key=team.key), code=303)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.add_template_global(policy.can_view_teams, "can_view_teams")
    app.add_template_global(service.waiting_label, "waiting_label")
    app.add_template_global(service.team_label, "team_label")
