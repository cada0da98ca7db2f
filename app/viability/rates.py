"""Hourly rates, as the tenant admin sets them: each service unit's (for its workers without a
rate of their own) and each worker's (``app.viability.costs.rate_for`` picks the one that
applies when a ticket finishes; tickets already finished keep the rate they were costed at).

``apply`` checks every id and amount (raising ``marshmallow.ValidationError`` keyed
``service_units.<id>`` / ``workers.<id>``, changing nothing) and writes one audit entry per
rate that changed, with its before and after. It only flushes: the view commits.
"""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.admin import audit
from app.extensions import db
from app.handlers.base import MAX_ID
from app.models import Membership, Unit, User
from app.viability.costs import CENT, MAX_RATE

WORKER_LOAD = (selectinload(User.memberships).selectinload(Membership.unit),)
MESSAGES = {
    "rate": _l("Give an hourly rate of zero or more, with at most 10 digits before the decimal "
               "mark and 2 after it; leave it empty for none."),
    "unit": _l("Not a service unit of the company."),
    "worker": _l("Not a worker of the company."),
}


def service_units(tenant_id: int) -> list[Unit]:
    """The company's service units in use, by name."""
    return list(db.session.scalars(select(Unit).where(
        Unit.tenant_id == tenant_id, Unit.is_service_unit.is_(True),
        Unit.archived_at.is_(None)).order_by(Unit.name, Unit.id)))


def workers(tenant_id: int):
    """A SELECT of the company's active people who hold the worker role, by name."""
    holders = select(Membership.user_id).where(Membership.tenant_id == tenant_id,
                                               Membership.role == "worker")
    return select(User).where(User.tenant_id == tenant_id, User.active.is_(True),
                              User.id.in_(holders)).order_by(User.name, User.id)


def worker_units(user: User) -> list[Unit]:
    """The service units ``user`` works in, by name."""
    units = {m.unit.id: m.unit for m in user.memberships if m.role == "worker" and m.unit}
    return sorted(units.values(), key=lambda u: (u.name, u.id))


def valid_rate(value) -> bool:
    return value is None or (isinstance(value, Decimal) and value.is_finite()
                             and 0 <= value <= MAX_RATE and value == value.quantize(CENT))


def _rows(model, tenant_id: int, ids, stmt=None) -> dict:
    ids = [i for i in ids if 0 < i <= MAX_ID]  # no row has another id (none is found)
    if not ids:
        return {}
    stmt = stmt if stmt is not None else select(model).where(model.tenant_id == tenant_id)
    return {row.id: row for row in db.session.scalars(stmt.where(model.id.in_(sorted(ids))))}


def apply(actor: User, tenant_id: int, unit_rates: dict[int, Decimal | None],
          worker_rates: dict[int, Decimal | None]) -> int:
    """Set the given rates (None: no rate); how many changed. Every problem at once."""
    units = _rows(Unit, tenant_id, unit_rates, select(Unit).where(
        Unit.tenant_id == tenant_id, Unit.is_service_unit.is_(True)))
    people = _rows(User, tenant_id, worker_rates, workers(tenant_id).order_by(None))
    errors: dict[str, list[str]] = {}
    for kind, rates, found, unknown in (("service_units", unit_rates, units, "unit"),
                                        ("workers", worker_rates, people, "worker")):
        for row_id, rate in rates.items():
            if row_id not in found:
                errors[f"{kind}.{row_id}"] = [str(MESSAGES[unknown])]
            elif not valid_rate(rate):
                errors[f"{kind}.{row_id}"] = [str(MESSAGES["rate"])]
    if errors:
        raise ValidationError(errors)
    changed = 0
    for rates, found, action, target in ((unit_rates, units, "unit.rate_changed", "unit"),
                                         (worker_rates, people, "user.rate_changed", "user")):
        for row_id, rate in rates.items():
            row = found[row_id]
            rate = rate.quantize(CENT) + 0 if rate is not None else None  # "-0" is 0
            if row.hourly_rate == rate:
                continue
            before = {"hourly_rate": row.hourly_rate}
            row.hourly_rate = rate
            changed += 1
            audit.record(tenant_id, actor, action, target, row.id,
                         target_label=row.name if target == "unit" else row.email,
                         before=before, after={"hourly_rate": rate})
    db.session.flush()
    return changed
