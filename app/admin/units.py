"""A company's units as a tree: creating, renaming, moving (never under itself), the
service-unit flag, archiving and deleting.

A unit that anything points to (requests, people, sub-units, categories) cannot be deleted,
only archived; an archived unit keeps its history but takes no new members, sub-units,
categories or requests. Every change writes an audit entry and only flushes: the view commits.
Invalid input raises ``marshmallow.ValidationError`` with messages by field.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from app.admin import audit
from app.extensions import db
from app.models import (
    Budget,
    Category,
    HumanTask,
    Membership,
    ServiceRequest,
    Tenant,
    Ticket,
    Unit,
)
from app.models.base import utcnow

NAME_MAX = 200
MAX_ID = 2**31 - 1
AUDITED = ("name", "parent_id", "is_service_unit", "archived_at")


def _as_id(value, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError({field: [str(_l("Choose a unit from the list."))]})
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: [str(_l("Choose a unit from the list."))]}) from None
    if not 0 < number <= MAX_ID:
        raise ValidationError({field: [str(_l("Choose a unit from the list."))]})
    return number


def find(tenant_id: int, unit_id) -> Unit | None:
    """The unit ``unit_id`` of the tenant, or None (another tenant's, or a bad id)."""
    if not isinstance(unit_id, int) or isinstance(unit_id, bool) or not 0 < unit_id <= MAX_ID:
        return None
    return db.session.scalar(select(Unit).where(Unit.tenant_id == tenant_id, Unit.id == unit_id))


def usable_unit(tenant_id: int, unit_id, field: str = "unit_id") -> Unit:
    """The tenant's unit ``unit_id`` that takes new members, sub-units, categories or requests
    (not archived); else ValidationError on ``field``. Another tenant's unit is "unknown"."""
    unit = find(tenant_id, _as_id(unit_id, field))
    if unit is None:
        raise ValidationError({field: [str(_l("Unknown unit: choose one from the list."))]})
    if unit.archived_at is not None:
        raise ValidationError({field: [str(_l(
            "The unit %(name)s is archived: it takes nothing new.", name=unit.name))]})
    return unit


def all_units(tenant_id: int) -> list[Unit]:
    return list(db.session.scalars(
        select(Unit).where(Unit.tenant_id == tenant_id).order_by(func.lower(Unit.name), Unit.id)))


def forest(tenant_id: int) -> tuple[list[tuple[Unit, list]], list[Unit]]:
    """(the units in use as ``(unit, its sub-units as the same pairs)``, top units first; the
    archived units, by name). A unit whose parent is archived shows at the top. Built without
    recursion: a tree thousands of levels deep (a CSV import can make one) is still shown."""
    units = all_units(tenant_id)
    live = [u for u in units if u.archived_at is None]
    nodes = {unit.id: (unit, []) for unit in live}
    top: list[tuple[Unit, list]] = []
    for unit in live:  # by name, so every level keeps that order
        (nodes[unit.parent_id][1] if unit.parent_id in nodes else top).append(nodes[unit.id])
    return top, [u for u in units if u.archived_at is not None]


def tree(tenant_id: int) -> tuple[list[tuple[Unit, int]], list[Unit]]:
    """(the units in use as ``(unit, depth)``, each followed by its sub-units; the archived
    units, by name)."""
    nodes, archived = forest(tenant_id)
    flat: list[tuple[Unit, int]] = []
    stack = [(node, 0) for node in reversed(nodes)]
    while stack:
        (unit, below), depth = stack.pop()
        flat.append((unit, depth))
        stack.extend((node, depth + 1) for node in reversed(below))
    return flat, archived


def descendant_ids(unit: Unit) -> set[int]:
    """The unit's sub-units at any depth (not the unit itself)."""
    from app.policy import descendant_unit_ids

    return descendant_unit_ids(unit.tenant_id, {unit.id}) - {unit.id}


def _clean_name(tenant_id: int, value, unit: Unit | None = None) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationError({"name": [str(_l("Write the unit's name."))]})
    if len(name) > NAME_MAX or not name.isprintable():
        raise ValidationError({"name": [str(_l("At most %(n)s characters, on one line.",
                                              n=NAME_MAX))]})
    clash = db.session.scalar(select(Unit.id).where(
        Unit.tenant_id == tenant_id, func.lower(Unit.name) == name.lower(),
        Unit.id != (unit.id if unit is not None else 0)).limit(1))
    if clash is not None:
        raise ValidationError({"name": [str(_l("Another unit already has this name."))]})
    return name


def _parent(tenant_id: int, parent_id, unit: Unit | None = None) -> Unit | None:
    if parent_id in (None, ""):
        return None
    parent = usable_unit(tenant_id, parent_id, "parent_id")
    if unit is not None and (parent.id == unit.id or parent.id in descendant_ids(unit)):
        raise ValidationError({"parent_id": [str(_l(
            "A unit cannot go under itself or under one of its own sub-units."))]})
    return parent


def _record(actor, action: str, unit: Unit, before=None, after=None) -> None:
    audit.record(unit.tenant_id, actor, action, "unit", unit.id, target_label=unit.name,
                 before=before, after=after)


def create(actor, *, name, parent_id=None, is_service_unit=False) -> Unit:
    """A new unit of the actor's company, under ``parent_id`` (a unit of the same company, not
    archived) or at the top. Flushes only."""
    tenant_id = actor.tenant_id
    errors = {}
    try:
        name = _clean_name(tenant_id, name)
    except ValidationError as exc:
        errors.update(exc.messages)
    try:
        parent = _parent(tenant_id, parent_id)
    except ValidationError as exc:
        errors.update(exc.messages)
    if not isinstance(is_service_unit, bool):
        errors["is_service_unit"] = [str(_l("Yes or no."))]
    if errors:
        raise ValidationError(errors)
    unit = Unit(tenant_id=tenant_id, name=name, parent_id=parent.id if parent else None,
                is_service_unit=is_service_unit)
    db.session.add(unit)
    db.session.flush()
    _record(actor, "unit.created", unit, after=audit.snapshot(unit, AUDITED))
    return unit


def update(actor, unit: Unit, data: dict) -> bool:
    """Rename (``name``) or set the service-unit flag (``is_service_unit``). A service unit
    that categories or tickets point to stays one. Returns whether anything changed."""
    errors, clean = {}, {}
    if "name" in data:
        try:
            clean["name"] = _clean_name(unit.tenant_id, data["name"], unit)
        except ValidationError as exc:
            errors.update(exc.messages)
    if "is_service_unit" in data:
        flag = data["is_service_unit"]
        if not isinstance(flag, bool):
            errors["is_service_unit"] = [str(_l("Yes or no."))]
        elif not flag and unit.is_service_unit and _serves_anything(unit):
            errors["is_service_unit"] = [str(_l(
                "Categories or tickets belong to this service unit: move them first."))]
        else:
            clean["is_service_unit"] = flag
    for key in set(data) - {"name", "is_service_unit"}:
        errors[key] = [str(_l("This cannot be changed here."))]
    if errors:
        raise ValidationError(errors)
    changed = {k: v for k, v in clean.items() if getattr(unit, k) != v}
    if not changed:
        return False
    if unit.archived_at is not None:
        raise ValidationError({"_schema": [str(_l("Unarchive the unit to change it."))]})
    before = {k: getattr(unit, k) for k in changed}
    for key, value in changed.items():
        setattr(unit, key, value)
    db.session.flush()
    _record(actor, "unit.updated", unit, before=before, after=changed)
    return True


def _serves_anything(unit: Unit) -> bool:
    return any(db.session.scalar(select(model.id).where(
        model.tenant_id == unit.tenant_id, model.service_unit_id == unit.id).limit(1))
        is not None for model in (Category, Ticket))


def _lock_tree(tenant_id: int) -> None:
    """Serialize the moves of a company's units (the tenant's row is locked on PostgreSQL;
    SQLite has one writer at a time): two admins moving A under B and B under A at once
    would each pass the cycle check, not seeing the other's uncommitted move. The second
    waits, then sees the first and is refused."""
    db.session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())


def move(actor, unit: Unit, parent_id) -> bool:
    """Put the unit under ``parent_id`` (None: at the top), never under itself or one of its
    sub-units. Returns whether it moved."""
    if unit.archived_at is not None:
        raise ValidationError({"_schema": [str(_l("Unarchive the unit to change it."))]})
    _lock_tree(unit.tenant_id)
    parent = _parent(unit.tenant_id, parent_id, unit)
    new_parent_id = parent.id if parent is not None else None
    if new_parent_id == unit.parent_id:
        return False
    before = {"parent": _name_of(unit.parent_id, unit.tenant_id), "parent_id": unit.parent_id}
    unit.parent_id = new_parent_id
    db.session.flush()
    _record(actor, "unit.moved", unit, before=before,
            after={"parent": parent.name if parent else None, "parent_id": new_parent_id})
    return True


def _name_of(unit_id, tenant_id) -> str | None:
    unit = find(tenant_id, unit_id) if unit_id is not None else None
    return unit.name if unit is not None else None


def in_use(unit: Unit) -> dict[str, int]:
    """What points to the unit, counted: requests (filed from it or served by it), people,
    sub-units, categories, tasks, budgets (its own or split for it)."""
    tenant_id = unit.tenant_id

    def count(stmt):
        return db.session.scalar(stmt) or 0

    return {
        "requests": count(select(func.count(ServiceRequest.id)).where(
            ServiceRequest.tenant_id == tenant_id,
            or_(ServiceRequest.unit_id == unit.id, ServiceRequest.service_unit_id == unit.id))),
        "people": count(select(func.count(func.distinct(Membership.user_id))).where(
            Membership.tenant_id == tenant_id, Membership.unit_id == unit.id)),
        "children": count(select(func.count(Unit.id)).where(
            Unit.tenant_id == tenant_id, Unit.parent_id == unit.id)),
        "categories": count(select(func.count(Category.id)).where(
            Category.tenant_id == tenant_id, Category.service_unit_id == unit.id)),
        "tasks": count(select(func.count(HumanTask.id)).where(
            HumanTask.tenant_id == tenant_id, HumanTask.unit_id == unit.id)),
        "budgets": count(select(func.count(Budget.id)).where(
            Budget.tenant_id == tenant_id,
            or_(Budget.service_unit_id == unit.id, Budget.requesting_unit_id == unit.id))),
    }


def delete(actor, unit: Unit) -> None:
    """Delete a unit nothing points to; else ValidationError saying to archive it."""
    used = in_use(unit)
    if any(used.values()):
        raise ValidationError({"_schema": [str(_l(
            "This unit has requests, people, sub-units, categories or budgets, so it cannot "
            "be deleted; archive it instead."))]})
    before = audit.snapshot(unit, AUDITED)
    _record(actor, "unit.deleted", unit, before=before)
    db.session.delete(unit)
    db.session.flush()


def archive(actor, unit: Unit) -> None:
    """Archive the unit: it keeps its history, its people keep their roles, but it takes
    nothing new. Its sub-units in use and active categories must go first."""
    if unit.archived_at is not None:
        raise ValidationError({"_schema": [str(_l("The unit is already archived."))]})
    live_children = db.session.scalar(select(func.count(Unit.id)).where(
        Unit.tenant_id == unit.tenant_id, Unit.parent_id == unit.id, Unit.archived_at.is_(None)))
    if live_children:
        raise ValidationError({"_schema": [str(_l(
            "Archive or move its sub-units first."))]})
    active_categories = db.session.scalar(select(func.count(Category.id)).where(
        Category.tenant_id == unit.tenant_id, Category.service_unit_id == unit.id,
        Category.active.is_(True)))
    if active_categories:
        raise ValidationError({"_schema": [str(_l(
            "Categories of this service unit still take requests: deactivate them or give "
            "them another service unit first."))]})
    unit.archived_at = utcnow()
    db.session.flush()
    _record(actor, "unit.archived", unit, before={"archived_at": None},
            after={"archived_at": unit.archived_at})


def unarchive(actor, unit: Unit) -> None:
    if unit.archived_at is None:
        raise ValidationError({"_schema": [str(_l("The unit is not archived."))]})
    parent = find(unit.tenant_id, unit.parent_id) if unit.parent_id else None
    if parent is not None and parent.archived_at is not None:
        raise ValidationError({"_schema": [str(_l(
            "Its parent unit %(name)s is archived: unarchive it or move this unit first.",
            name=parent.name))]})
    before = {"archived_at": unit.archived_at}
    unit.archived_at = None
    db.session.flush()
    _record(actor, "unit.unarchived", unit, before=before, after={"archived_at": None})


def members(unit: Unit) -> list[Membership]:
    """The memberships held in the unit, by role then person's name."""
    from app.models import User

    return list(db.session.scalars(
        select(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == unit.tenant_id, Membership.unit_id == unit.id,
               User.tenant_id == unit.tenant_id)
        .order_by(Membership.role, func.lower(User.name), Membership.id)))
