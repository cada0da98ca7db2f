"""The tenant admin's edits of teams, each audited in the caller's transaction (only flushes).
Raise ``service.TeamError`` with a message for a 4xx."""

from flask_babel import lazy_gettext as _l

from app.admin import audit
from app.teams import service
from app.teams.models import Team


def create(actor, key, names, description=None) -> Team:
    team = service.create(actor.tenant_id, key, names, description)
    audit.record(actor.tenant_id, actor, "team.created", "team", team.id, target_label=team.key,
                 after={"key": team.key, "names": team.names,
                        "description": team.description})
    return team


def rename(actor, team: Team, names, description=None) -> None:
    before = {"names": dict(team.names or {}), "description": team.description}
    service.rename(team, names, description)
    audit.record(actor.tenant_id, actor, "team.updated", "team", team.id, target_label=team.key,
                 before=before, after={"names": team.names, "description": team.description})


def add_member(actor, team: Team, user_id) -> None:
    person = service.find_user(team.tenant_id, user_id)
    service.add_member(team, person)
    audit.record(actor.tenant_id, actor, "team.member_added", "team", team.id,
                 target_label=team.key, after={"user_id": person.id, "email": person.email})


def remove_member(actor, team: Team, user_id) -> int:
    """Returns how many requests' votes went on without them (app.teams.board)."""
    person = service.find_user(team.tenant_id, user_id)
    if person is None:
        raise service.TeamError(_l("The person is not in the team."))
    changed = service.remove_member(team, person.id, actor)
    audit.record(actor.tenant_id, actor, "team.member_removed", "team", team.id,
                 target_label=team.key, before={"user_id": person.id, "email": person.email},
                 after={"votes_skipped": changed})
    return changed
