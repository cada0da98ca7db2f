"""Which categories each worker handles, as directors and tenant admins set them.

A worker's skills are rows (worker, category). A worker with no rows handles every category
(``app.classification.assignment``); ticking some narrows them to those. The page and the API
show, per service unit the person manages, its active workers and its active categories, and
replace one worker's skills among that unit's categories (skills in other units' categories,
managed by their directors, stay). Every change is audited; only flushes.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app import policy
from app.admin import audit
from app.classification.models import WorkerSkill
from app.extensions import db
from app.handlers.assign import workers_of
from app.models import Category, Unit, User

MAX_CATEGORIES = 500

MESSAGES = {
    "category": _l("Choose among the active categories this service unit attends."),
    "too_many": _l("Too many categories."),
}


class Refused(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class Board:
    """One service unit's workers and categories, with who handles what."""

    unit: Unit
    categories: list[Category]
    workers: list[User]
    skills: dict[int, set[int]]  # worker id -> category ids (absent: handles every one)

    def handles_all(self, worker: User) -> bool:
        return not self.skills.get(worker.id)


def managed_units(user: User) -> list[Unit]:
    """The active service units whose workers' skills ``user`` may set, by name."""
    stmt = select(Unit).where(Unit.tenant_id == user.tenant_id, Unit.is_service_unit.is_(True),
                              Unit.archived_at.is_(None)).order_by(Unit.name)
    if not policy.is_tenant_admin(user):
        stmt = stmt.where(Unit.id.in_(sorted(policy.directed_unit_ids(user)) or [0]))
    return list(db.session.scalars(stmt))


def managed_unit(user: User, unit_id: int) -> Unit | None:
    return next((u for u in managed_units(user) if u.id == unit_id), None)


def categories_of(unit: Unit) -> list[Category]:
    return list(db.session.scalars(select(Category).where(
        Category.tenant_id == unit.tenant_id, Category.service_unit_id == unit.id,
        Category.active.is_(True)).order_by(Category.name)))


def skills_of(tenant_id: int, user_ids: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    if not user_ids:
        return found
    for user_id, category_id in db.session.execute(
            select(WorkerSkill.user_id, WorkerSkill.category_id).where(
                WorkerSkill.tenant_id == tenant_id, WorkerSkill.user_id.in_(user_ids))):
        found.setdefault(user_id, set()).add(category_id)
    return found


def board(unit: Unit) -> Board:
    workers = workers_of(unit.tenant_id, unit.id)
    return Board(unit=unit, categories=categories_of(unit), workers=workers,
                 skills=skills_of(unit.tenant_id, [w.id for w in workers]))


def worker_of(unit: Unit, user_id: int) -> User | None:
    return next((w for w in workers_of(unit.tenant_id, unit.id) if w.id == user_id), None)


def set_skills(actor: User, unit: Unit, worker: User, category_ids) -> bool:
    """Make ``worker`` handle exactly ``category_ids`` among ``unit``'s categories (empty:
    no skills there). Returns whether anything changed."""
    wanted = list(category_ids or [])
    if len(wanted) > MAX_CATEGORIES:
        raise Refused({"category_ids": [str(MESSAGES["too_many"])]})
    unit_categories = {c.id: c for c in categories_of(unit)}
    if any(not isinstance(c, int) or c not in unit_categories for c in wanted):
        raise Refused({"category_ids": [str(MESSAGES["category"])]})
    wanted_set = set(wanted)
    current = skills_of(unit.tenant_id, [worker.id]).get(worker.id, set()) \
        & set(unit_categories)
    if current == wanted_set:
        return False
    removed, added = current - wanted_set, wanted_set - current
    if removed:
        db.session.execute(delete(WorkerSkill).where(
            WorkerSkill.tenant_id == unit.tenant_id, WorkerSkill.user_id == worker.id,
            WorkerSkill.category_id.in_(sorted(removed))))
    for category_id in sorted(added):
        db.session.add(WorkerSkill(tenant_id=unit.tenant_id, user_id=worker.id,
                                   category_id=category_id))
    db.session.flush()

    def names(ids):
        return sorted(unit_categories[i].name for i in ids)

    audit.record(unit.tenant_id, actor, "worker_skills.changed", "user", worker.id,
                 target_label=worker.name, before={"categories": names(current)},
                 after={"categories": names(wanted_set), "service_unit": unit.name})
    return True
