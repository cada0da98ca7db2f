"""Managing budgets, as the pages and the API share it: which budgets a person manages (a
tenant admin every service unit's, a director those of their units), the form a person types
(amounts as their language writes them) and the audited create, change and delete.

``create`` / ``update`` raise ``budgets.BudgetError`` (field -> messages) and change nothing
when anything is wrong; every change writes an audit entry with the fields' before and after.
Everything only flushes: the view commits.
"""

import re
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import extract, select
from sqlalchemy.orm import selectinload

from app import policy
from app.admin import audit
from app.extensions import db
from app.handlers.base import Amount, ident
from app.models import Category, Unit, User
from app.viability import budgets
from app.viability.models import PERIODS, Budget

AUDITED = ("service_unit_id", "category_id", "requesting_unit_id", "period", "starts_on",
           "ends_on", "amount", "note")
LIST_LOAD = (selectinload(Budget.service_unit), selectinload(Budget.category),
             selectinload(Budget.requesting_unit))
NOT_YOURS = _l("Choose one of the service units you direct.")
START_FORMAT = _l("Write the start as a month, YYYY-MM (for a year, its January).")
START_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


# --- who manages what ------------------------------------------------------------------------

def managed_unit_ids(user: User) -> set[int] | None:
    """The service units whose budgets ``user`` manages; None: every one of the company."""
    if policy.is_tenant_admin(user):
        return None
    return policy.directed_unit_ids(user)


def service_units(user: User) -> list[Unit]:
    """The service units ``user`` may give a budget to (not archived), by name."""
    stmt = select(Unit).where(Unit.tenant_id == user.tenant_id, Unit.is_service_unit.is_(True),
                              Unit.archived_at.is_(None))
    managed = managed_unit_ids(user)
    if managed is not None:
        stmt = stmt.where(Unit.id.in_(sorted(managed)))
    return list(db.session.scalars(stmt.order_by(Unit.name, Unit.id)))


def categories(user: User) -> list[Category]:
    """The categories of those service units, by name (each names its unit on the form)."""
    ids = [u.id for u in service_units(user)]
    return list(db.session.scalars(
        select(Category).where(Category.tenant_id == user.tenant_id,
                               Category.service_unit_id.in_(ids))
        .options(selectinload(Category.service_unit)).order_by(Category.name, Category.id)))


def find(user: User, budget_id, *, to_change: bool = False) -> Budget | None:
    """The budget ``budget_id`` of ``user``'s company when they manage it, else None (another
    company's, another service unit's, or a bad id: all the same, not found).

    ``to_change``: it is read after taking the company's budget lock, so an edit or delete
    that waited for another one sees what that one left (its overlap check then holds, and a
    budget deleted meanwhile is not found)."""
    if not isinstance(budget_id, int) or not 0 < budget_id <= 2**31 - 1:
        return None
    if to_change:
        budgets.lock_scope(user.tenant_id)
    budget = db.session.scalar(select(Budget).where(Budget.tenant_id == user.tenant_id,
                                                    Budget.id == budget_id))
    if budget is None or not policy.can_manage_budgets(user, budget.service_unit_id):
        return None
    return budget


def search(user: User, *, service_unit_id: int | None = None, period: str | None = None,
           year: int | None = None):
    """A SELECT of the budgets ``user`` manages, newest period first."""
    stmt = select(Budget).where(Budget.tenant_id == user.tenant_id)
    managed = managed_unit_ids(user)
    if managed is not None:
        stmt = stmt.where(Budget.service_unit_id.in_(sorted(managed)))
    if service_unit_id is not None:
        stmt = stmt.where(Budget.service_unit_id == service_unit_id)
    if period is not None:
        stmt = stmt.where(Budget.period == period)
    if year is not None:  # a period never crosses a year's end
        stmt = stmt.where(extract("year", Budget.starts_on) == year)
    return stmt.order_by(Budget.starts_on.desc(), Budget.service_unit_id, Budget.id)


# --- the form a person types -----------------------------------------------------------------

class PeriodStart(fields.Field):
    """A period's first day typed on a page: "2026-10" (a month picker), "2026" or a date."""

    default_error_messages = {"invalid": START_FORMAT}

    def _deserialize(self, value, attr, data, **kwargs):
        match = START_RE.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        year, month, day = (int(part) if part else 1 for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise self.make_error("invalid") from None


class BudgetForm(Schema):
    """A budget as typed on the page: ids from the lists, "" for none."""

    service_unit_id = ident(required=True)
    category_id = ident(allow_none=True, load_default=None)
    requesting_unit_id = ident(allow_none=True, load_default=None)
    period = fields.String(required=True, validate=validate.OneOf(
        PERIODS, error=budgets.MESSAGES["period"]))
    starts_on = PeriodStart(required=True)
    amount = Amount(required=True, validate=validate.Range(
        min=0, max=budgets.MAX_AMOUNT, error=budgets.MESSAGES["amount"]))
    note = fields.String(load_default="", validate=validate.Length(
        max=500, error=budgets.MESSAGES["note"]))

    @pre_load
    def _empty_is_none(self, data, **kwargs):
        out = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
        for key in ("service_unit_id", "category_id", "requesting_unit_id"):
            if out.get(key) == "":
                out[key] = None
        return out


def read_form(form) -> budgets.BudgetInput:
    """``form`` (the page's fields) as a BudgetInput; raises BudgetError by field."""
    try:
        values = BudgetForm().load({k: form.get(k, "") for k in BudgetForm().fields})
    except ValidationError as exc:
        raise budgets.BudgetError(_messages(exc)) from None
    return budgets.BudgetInput(**values)


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    raw = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {key: [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in raw.items()}


def values_of(budget: Budget) -> dict:
    """A budget's fields, for a form."""
    return {name: getattr(budget, name) for name in AUDITED}


def input_of(budget: Budget, **changes) -> budgets.BudgetInput:
    """The budget's fields with ``changes``: what a partial update saves."""
    values = {name: getattr(budget, name) for name in (
        "service_unit_id", "category_id", "requesting_unit_id", "period", "starts_on",
        "amount", "note")}
    values.update(changes)
    return budgets.BudgetInput(**values)


# --- audited changes -------------------------------------------------------------------------

def _label(budget: Budget) -> str:
    unit = budget.service_unit or db.session.get(Unit, budget.service_unit_id)
    return f"{unit.name if unit else budget.service_unit_id} · {budget.period} " \
           f"{budget.starts_on.isoformat()}"


def _check(actor: User, data: budgets.BudgetInput) -> None:
    """The actor's own rule (a director's units only); "-0" typed is 0."""
    if not policy.can_manage_budgets(actor, data.service_unit_id):
        raise budgets.BudgetError({"service_unit_id": [str(NOT_YOURS)]})
    if isinstance(data.amount, Decimal) and data.amount.is_zero():
        data.amount = Decimal("0.00")


def create(actor: User, data: budgets.BudgetInput) -> Budget:
    _check(actor, data)
    budget = budgets.save(actor.tenant_id, data)
    audit.record(actor.tenant_id, actor, "budget.created", "budget", budget.id,
                 target_label=_label(budget), after=audit.snapshot(budget, AUDITED))
    return budget


def update(actor: User, budget: Budget, data: budgets.BudgetInput) -> bool:
    """Save ``data`` over ``budget``; False (and no audit entry) when nothing changed."""
    _check(actor, data)
    before = audit.snapshot(budget, AUDITED)
    budgets.save(actor.tenant_id, data, budget)
    after = audit.snapshot(budget, AUDITED)
    changed = [key for key in AUDITED if before[key] != after[key]]
    if not changed:
        return False
    audit.record(actor.tenant_id, actor, "budget.updated", "budget", budget.id,
                 target_label=_label(budget), before={k: before[k] for k in changed},
                 after={k: after[k] for k in changed})
    return True


def delete(actor: User, budget: Budget) -> None:
    """Remove the budget only: its requests keep their costs and dates, and now fall in
    another budget of their scope, or in none."""
    audit.record(actor.tenant_id, actor, "budget.deleted", "budget", budget.id,
                 target_label=_label(budget), before=audit.snapshot(budget, AUDITED))
    db.session.delete(budget)
    db.session.flush()
