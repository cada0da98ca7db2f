"""Organization rules: who authorizes a unit's requests."""

from sqlalchemy import select

from app.extensions import db
from app.models import Membership, ServiceRequest, Unit, User


def heads_of(tenant_id: int, unit_id: int) -> list[int]:
    return list(db.session.scalars(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == tenant_id, Membership.unit_id == unit_id,
               Membership.role == "unit_head", User.active.is_(True))
    ))


def authorizing_unit_id(req: ServiceRequest) -> int | None:
    """The request's unit, or the nearest enclosing unit with a head; None if none has one."""
    unit = db.session.get(Unit, req.unit_id)
    seen = set()
    while unit is not None and unit.id not in seen:
        seen.add(unit.id)
        if heads_of(req.tenant_id, unit.id):
            return unit.id
        unit = unit.parent
    return None


def authorization_needed(req: ServiceRequest) -> bool:
    """False when the requester heads the authorizing unit, or no unit above has a head."""
    unit_id = authorizing_unit_id(req)
    return unit_id is not None and req.requester_id not in heads_of(req.tenant_id, unit_id)
