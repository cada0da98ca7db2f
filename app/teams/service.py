"""Teams of a company: find, create, list members. Everything is scoped by the tenant and
only flushes (the view or the caller owns the transaction)."""

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User
from app.teams.models import Team, TeamMember

KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,39}\Z")
MAX_NAME = 200
MAX_DESCRIPTION = 2000
PICKER_LIMIT = 50   # the add-a-member field's list of names (a large company types or searches)
SEARCH_LIMIT = 20   # the people a search on the team's page lists


class TeamError(ValueError):
    """Bad input for a team (a key, a name, a member): a clear message for a 4xx (marked for
    translation: ``str(exc)`` reads in the reader's language)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


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
        raise TeamError(_l("The team key must be 2 to 40 characters: a-z, 0-9 and _, "
                            "starting with a letter."))
    team = get(tenant_id, key)
    if team is not None:
        return team
    names = {str(k)[:5]: str(v)[:MAX_NAME] for k, v in (names or {}).items() if v}
    try:
        with db.session.begin_nested():  # another transaction may make it at the same moment
            team = Team(tenant_id=tenant_id, key=key, names=names,
                        name=names.get("es") or next(iter(names.values()), key))
            db.session.add(team)
        return team
    except IntegrityError:
        return get(tenant_id, key)


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


def _clean_names(names) -> dict:
    if not isinstance(names, dict):
        raise TeamError(_l("The names must be given per language (es, en)."))
    clean = {}
    for language, name in names.items():
        if language not in ("es", "en"):
            raise TeamError(_l("Names are given in Spanish (es) and English (en) only."))
        if not isinstance(name, str) or len(name.strip()) > MAX_NAME:
            raise TeamError(_l("A name is text of at most %(n)s characters.", n=MAX_NAME))
        if name.strip():
            clean[language] = name.strip()
    return clean


def _clean_description(description) -> str:
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise TeamError(_l("The description is text of at most %(n)s characters.",
                           n=MAX_DESCRIPTION))
    return description.strip()


def create(tenant_id: int, key, names, description=None) -> Team:
    """A new team (its key is new in the company). Raises TeamError."""
    if not valid_key(key):
        raise TeamError(_l("The team key must be 2 to 40 characters: a-z, 0-9 and _, "
                           "starting with a letter."))
    clean = _clean_names(names)
    if not clean:
        raise TeamError(_l("Give the team a name."))
    if get(tenant_id, key) is not None:
        raise TeamError(_l("Your company already has a team with the key %(key)s.", key=key))
    team = Team(tenant_id=tenant_id, key=key, names=clean, name=clean.get("es") or
                clean.get("en"), description=_clean_description(description))
    try:
        with db.session.begin_nested():  # two creations at once: the second is refused
            db.session.add(team)
    except IntegrityError:
        raise TeamError(_l("Your company already has a team with the key %(key)s.",
                           key=key)) from None
    return team


def rename(team: Team, names, description=None) -> None:
    """New names (and description, when given); the key stays (diagrams name it)."""
    clean = _clean_names(names)
    if not clean:
        raise TeamError(_l("Give the team a name."))
    team.names = clean
    team.name = clean.get("es") or clean.get("en")
    if description is not None:
        team.description = _clean_description(description)
    db.session.flush()


def find_user(tenant_id: int, user_id) -> User | None:
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(select(User).where(User.tenant_id == tenant_id,
                                                User.id == user_id))


MAX_MEMBERS = 100  # a vote takes one instance per member, at most 100


def add_member(team: Team, user: User) -> TeamMember:
    """Put an active person of the team's company in it (once). Raises TeamError."""
    if user is None or user.tenant_id != team.tenant_id:
        raise TeamError(_l("That person is not in your company."))
    if not user.active:
        raise TeamError(_l("The person is inactive."))
    if any(m.user_id == user.id for m in team.members):
        raise TeamError(_l("The person is already in the team."))
    if len(team.members) >= MAX_MEMBERS:
        raise TeamError(_l("A team has at most %(n)s members.", n=MAX_MEMBERS))
    try:
        with db.session.begin_nested():  # two additions at once: the second is refused
            member = TeamMember(tenant_id=team.tenant_id, team_id=team.id, user_id=user.id)
            db.session.add(member)
    except IntegrityError:
        raise TeamError(_l("The person is already in the team.")) from None
    db.session.refresh(team, ["members"])
    return member


def remove_member(team: Team, user_id: int, actor) -> int:
    """Take a person out of the team. Their open votes on this board are skipped (withdrawn:
    app.teams.board) and the others' votes decide. Returns how many requests' votes changed.
    Raises TeamError if they are not in it."""
    member = next((m for m in team.members if m.user_id == user_id), None)
    if member is None:
        raise TeamError(_l("The person is not in the team."))
    team.members.remove(member)
    db.session.flush()
    from app.teams import board

    return board.withdraw_member(team.tenant_id, user_id, actor)


def people_to_add(team: Team, q: str | None = None,
                  limit: int = SEARCH_LIMIT) -> tuple[list[User], bool]:
    """The company's active people not in ``team`` whose name or e-mail contains ``q`` (all
    of them without ``q``), by name, through the administration's people search: at most
    ``limit``, and whether there are more."""
    from app.admin import people

    members = select(TeamMember.user_id).where(TeamMember.tenant_id == team.tenant_id,
                                               TeamMember.team_id == team.id)
    found = list(db.session.scalars(
        people.search(team.tenant_id, q=q)
        .where(User.active.is_(True), User.id.not_in(members)).limit(limit + 1)))
    return found[:limit], len(found) > limit


def list_teams(tenant_id: int) -> list[Team]:
    return list(db.session.scalars(select(Team).where(Team.tenant_id == tenant_id)
                                   .order_by(Team.key)))


def team_label(key: str) -> str:
    """A team of the signed-in person's company by its name in the reader's language (the
    history's ``team``), else its key as written."""
    from flask_babel import get_locale
    from flask_login import current_user

    if not current_user.is_authenticated or not valid_key(key):
        return key
    team = get(current_user.tenant_id, key)
    return team.name_in(str(get_locale() or "es")) if team is not None else key


def waiting_label(task) -> str:
    """Whom a task nobody holds waits on, by name: a ``Team`` lane's team in the reader's
    language ("Equipo de seguridad"), else the lane's role ("Director")."""
    from flask_babel import get_locale

    from app.labels import ROLE, label

    if task.role == "team" and task.team_id is not None:
        team = by_id(task.tenant_id, task.team_id)
        if team is not None:
            return team.name_in(str(get_locale() or "es"))
    return str(label(ROLE, task.role))
