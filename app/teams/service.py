"""Teams of a company: find, create, list members. Everything is scoped by the tenant and
only flushes (the view or the caller owns the transaction)."""

import re

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.teams.models import Team, TeamMember

KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,39}\Z")
MAX_NAME = 200
MAX_DESCRIPTION = 2000


class TeamError(ValueError):
    """Bad input for a team (a key, a name, a member): a clear message for a 4xx."""


def valid_key(key) -> bool:
    return isinstance(key, str) and KEY_RE.match(key) is not None


def get(tenant_id: int, key: str) -> Team | None:
    return db.session.scalar(select(Team).where(Team.tenant_id == tenant_id, Team.key == key))


def by_id(tenant_id: int, team_id: int) -> Team | None:
    return db.session.scalar(select(Team).where(Team.tenant_id == tenant_id, Team.id == team_id))


def ensure(tenant_id: int, key: str, names: dict | None = None) -> Team:
    """The tenant's team ``key``, created (empty) when missing; an existing team is left as
    it is (its names may have been edited). Idempotent."""
    if not valid_key(key):
        raise TeamError(f"invalid team key {str(key)[:60]!r} (a-z, 0-9, _; 2 to 40 characters, "
                        "starting with a letter)")
    team = get(tenant_id, key)
    if team is not None:
        return team
    names = {str(k)[:5]: str(v)[:MAX_NAME] for k, v in (names or {}).items() if v}
    team = Team(tenant_id=tenant_id, key=key, names=names,
                name=names.get("es") or next(iter(names.values()), key))
    db.session.add(team)
    db.session.flush()
    return team


def member_ids(tenant_id: int, key: str) -> list[int]:
    """The active members of team ``key``, sorted by id ([] when no such team)."""
    return list(db.session.scalars(
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .join(User, User.id == TeamMember.user_id)
        .where(Team.tenant_id == tenant_id, Team.key == key, TeamMember.tenant_id == tenant_id,
               User.tenant_id == tenant_id, User.active.is_(True))
        .order_by(TeamMember.user_id)))


def active_member_ids_of(tenant_id: int, team_id: int) -> list[int]:
    return list(db.session.scalars(
        select(TeamMember.user_id)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.tenant_id == tenant_id, TeamMember.team_id == team_id,
               User.active.is_(True))
        .order_by(TeamMember.user_id)))


def team_ids_of(user: User) -> list[int]:
    """The teams ``user`` is in."""
    return list(db.session.scalars(
        select(TeamMember.team_id).where(TeamMember.tenant_id == user.tenant_id,
                                         TeamMember.user_id == user.id)))


def id_for_task(tenant_id: int, key: str | None) -> int | None:
    """The team a ``Team`` lane's task names: created empty if the company has none by that
    key yet (a diagram deployed before its team was made), so the tenant admin can fill it;
    meanwhile its service unit's directors see the task."""
    if not valid_key(key):
        return None
    return ensure(tenant_id, key, {}).id
