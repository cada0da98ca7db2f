"""Budgets and what is committed and spent against them, summed from requests and tickets.

A request draws on one budget: among the budgets of its service unit whose period holds the
request's budget date (``committed_on``: the company's date of the director's approval), the
most specific one: for its category and its unit, else for its category, else for its unit,
else for the whole service unit. Two budgets of the same scope never overlap in time, so that
one is unique.

Against a budget:
- **committed**: the estimated cost of the approved requests it covers whose ticket has no
  actual cost yet, unless rejected or cancelled (a rejection or cancellation releases it);
- **spent**: the actual cost of their finished tickets (which replaces the commitment);
- **left** = amount - committed - spent.

Nothing of this is stored on the budget: ``figures`` sums the rows whenever asked, so two
approvals at once, a re-evaluation, a migration to a new process version or a reopened ticket
can never double count (each request holds one estimate and its ticket one actual cost).
``app.viability.ledger`` computes the same figures from the requests' history alone.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, not_, or_, select

from app.extensions import db
from app.handlers import base
from app.models import Category, ServiceRequest, Ticket, Unit
from app.viability.models import PERIODS, Budget

ZERO = Decimal("0.00")
RELEASED = ("rejected", "cancelled")
MAX_AMOUNT = base.MAX_AMOUNT  # what the column holds (14 digits, 2 decimals)


def period_end(period: str, start: date) -> date:
    """The last day of the month, quarter or year that begins on ``start``."""
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month + months - 1
    year = start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def is_period_start(period: str, day: date) -> bool:
    """Months begin on the 1st; quarters in January, April, July, October; years on 1 January."""
    if day.day != 1:
        return False
    if period == "quarter":
        return day.month in (1, 4, 7, 10)
    if period == "year":
        return day.month == 1
    return period in PERIODS


def period_start(period: str, day: date) -> date:
    """The first day of the month, quarter or year holding ``day``."""
    if period == "year":
        return date(day.year, 1, 1)
    if period == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def specificity(budget: Budget) -> tuple[int, int]:
    """Higher is more specific: category and unit, category, unit, the whole service unit."""
    return (int(budget.category_id is not None) + int(budget.requesting_unit_id is not None),
            int(budget.category_id is not None))


def covers(budget: Budget, category_id: int, unit_id: int, day: date) -> bool:
    return (budget.starts_on <= day <= budget.ends_on
            and budget.category_id in (None, category_id)
            and budget.requesting_unit_id in (None, unit_id))


def most_specific(budgets: Iterable[Budget], category_id: int, unit_id: int,
                  day: date) -> Budget | None:
    matching = [b for b in budgets if covers(b, category_id, unit_id, day)]
    return max(matching, key=lambda b: (specificity(b), -b.id), default=None)


def budgets_of(tenant_id: int, service_unit_id: int, starts: date | None = None,
               ends: date | None = None) -> list[Budget]:
    """A service unit's budgets, those meeting ``starts``..``ends`` when given."""
    stmt = select(Budget).where(Budget.tenant_id == tenant_id,
                                Budget.service_unit_id == service_unit_id)
    if starts is not None:
        stmt = stmt.where(Budget.ends_on >= starts)
    if ends is not None:
        stmt = stmt.where(Budget.starts_on <= ends)
    return list(db.session.scalars(stmt.order_by(Budget.starts_on, Budget.id)))


YEAR = timedelta(days=366)  # no period is longer


def around(tenant_id: int, service_unit_id: int, day: date) -> list[Budget]:
    """The service unit's budgets within a year of ``day``: every budget that could hold it
    and every budget overlapping one that does (one query)."""
    return budgets_of(tenant_id, service_unit_id, day - YEAR, day + YEAR)


def budget_for(req: ServiceRequest, day: date, *, lock: bool = False,
               nearby: list[Budget] | None = None) -> Budget | None:
    """The budget ``req`` would draw on if approved on ``day`` (chosen among ``nearby``, from
    ``around``, when given); ``lock``: its row is locked until the transaction ends, so
    approvals against one budget take turns and each sees the others' commitments."""
    if nearby is None:
        nearby = list(db.session.scalars(select(Budget).where(
            Budget.tenant_id == req.tenant_id, Budget.service_unit_id == req.service_unit_id,
            Budget.starts_on <= day, Budget.ends_on >= day,
            or_(Budget.category_id.is_(None), Budget.category_id == req.category_id),
            or_(Budget.requesting_unit_id.is_(None),
                Budget.requesting_unit_id == req.unit_id))))
    chosen = most_specific(nearby, req.category_id, req.unit_id, day)
    if not lock:
        return chosen
    # Read again once locked: an edit we waited for may have changed the budget's amount or
    # scope, or deleted it; then the choice is made again among the budgets as they are now.
    for _attempt in range(3):
        if chosen is None:
            return None
        fresh = _locked(chosen.id)
        if fresh is not None and most_specific(nearby, req.category_id, req.unit_id,
                                               day) is fresh:
            return fresh
        for budget in nearby:  # read as they are now, not as first loaded
            db.session.expire(budget)
        nearby[:] = around(req.tenant_id, req.service_unit_id, day)
        chosen = most_specific(nearby, req.category_id, req.unit_id, day)
    return _locked(chosen.id) if chosen is not None else None


def _locked(budget_id: int) -> Budget | None:
    """The budget, its row locked until the transaction ends, as it is now (None: gone)."""
    return db.session.scalars(select(Budget).where(Budget.id == budget_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()


@dataclass
class Figures:
    """A budget's state: what it holds, what is committed and spent against it."""

    amount: Decimal
    committed: Decimal = ZERO
    spent: Decimal = ZERO
    requests: int = 0

    @property
    def used(self) -> Decimal:
        return self.committed + self.spent

    @property
    def left(self) -> Decimal:
        return self.amount - self.used

    def as_dict(self) -> dict:
        return {"amount": self.amount, "committed": self.committed, "spent": self.spent,
                "left": self.left, "requests": self.requests}


@dataclass(frozen=True)
class Position:
    """What one group of requests (or one request) holds against the budgets: its budget date,
    scope, and its committed and spent amounts."""

    committed_on: date
    category_id: int
    unit_id: int
    committed: Decimal = ZERO
    spent: Decimal = ZERO
    requests: int = 1


def _row_positions(tenant_id: int, service_unit_id: int, starts: date, ends: date,
                   extra=()) -> list[Position]:
    """The requests of a service unit with a budget date in ``starts``..``ends``, summed per
    (date, category, unit): one query, whatever the number of requests."""
    released = ServiceRequest.status.in_(RELEASED)
    committed = case((released | Ticket.actual_cost.is_not(None), 0),
                     else_=func.coalesce(ServiceRequest.estimated_cost, 0))
    # A request counts while it holds anything: committed, or spent
    holding = case((released & Ticket.actual_cost.is_(None), 0), else_=1)
    rows = db.session.execute(
        select(ServiceRequest.committed_on, ServiceRequest.category_id, ServiceRequest.unit_id,
               func.sum(committed), func.sum(func.coalesce(Ticket.actual_cost, 0)),
               func.sum(holding))
        .outerjoin(Ticket, (Ticket.request_id == ServiceRequest.id)
                   & (Ticket.tenant_id == ServiceRequest.tenant_id))
        .where(ServiceRequest.tenant_id == tenant_id,
               ServiceRequest.service_unit_id == service_unit_id,
               ServiceRequest.committed_on >= starts, ServiceRequest.committed_on <= ends,
               *extra)
        .group_by(ServiceRequest.committed_on, ServiceRequest.category_id,
                  ServiceRequest.unit_id))
    return [Position(day, category_id, unit_id, _money(c), _money(s), int(n or 0))
            for day, category_id, unit_id, c, s, n in rows]


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def allot(budgets: list[Budget], positions: Iterable[Position]) -> dict[int, Figures]:
    """Each position added to the one budget it falls in (the most specific covering it)."""
    totals = {b.id: Figures(amount=b.amount) for b in budgets}
    for p in positions:
        chosen = most_specific(budgets, p.category_id, p.unit_id, p.committed_on)
        if chosen is None:
            continue
        fig = totals[chosen.id]
        fig.committed += p.committed
        fig.spent += p.spent
        fig.requests += p.requests
    return totals


def figures(budgets: list[Budget], read=None) -> dict[int, Figures]:
    """Committed and spent per budget, from the rows (one query per service unit), or from
    what ``read(tenant_id, service_unit_id, starts, ends)`` gives (``ledger``: the history)."""
    read = read or _row_positions
    out: dict[int, Figures] = {}
    by_unit: dict[tuple[int, int], list[Budget]] = {}
    for b in budgets:
        by_unit.setdefault((b.tenant_id, b.service_unit_id), []).append(b)
    for (tenant_id, service_unit_id), own in by_unit.items():
        starts = min(b.starts_on for b in own)
        ends = max(b.ends_on for b in own)
        # Budgets of the unit not listed still take the requests they are more specific for
        everyone = budgets_of(tenant_id, service_unit_id, starts, ends)
        totals = allot(everyone, read(tenant_id, service_unit_id, starts, ends))
        out.update({b.id: totals[b.id] for b in own})
    return out


def covered_requests(budget: Budget):
    """A SELECT of the requests ``budget`` holds, as ``allot`` gives them to it: a budget date
    in its period, of its service unit and scope, and not taken by a budget of the unit that
    is more specific for them. Newest budget date first."""
    stmt = select(ServiceRequest).where(
        ServiceRequest.tenant_id == budget.tenant_id,
        ServiceRequest.service_unit_id == budget.service_unit_id,
        *_within(budget))
    rank = (specificity(budget), -budget.id)
    for other in budgets_of(budget.tenant_id, budget.service_unit_id, budget.starts_on,
                            budget.ends_on):
        if other.id != budget.id and (specificity(other), -other.id) > rank:
            stmt = stmt.where(not_(and_(*_within(other))))
    return stmt.order_by(ServiceRequest.committed_on.desc(), ServiceRequest.id.desc())


def _within(budget: Budget) -> list:
    """The conditions of a request ``budget`` covers (``covers``, in SQL)."""
    clauses = [ServiceRequest.committed_on >= budget.starts_on,
               ServiceRequest.committed_on <= budget.ends_on]
    if budget.category_id is not None:
        clauses.append(ServiceRequest.category_id == budget.category_id)
    if budget.requesting_unit_id is not None:
        clauses.append(ServiceRequest.unit_id == budget.requesting_unit_id)
    return clauses


def figures_of(budget: Budget, nearby: list[Budget] | None = None) -> Figures:
    """One budget's figures; only the requests of its scope and period are read. ``nearby``:
    the unit's budgets from ``around`` a day the budget holds (saves reading them again)."""
    extra = []
    if budget.category_id is not None:
        extra.append(ServiceRequest.category_id == budget.category_id)
    if budget.requesting_unit_id is not None:
        extra.append(ServiceRequest.unit_id == budget.requesting_unit_id)
    positions = _row_positions(budget.tenant_id, budget.service_unit_id, budget.starts_on,
                               budget.ends_on, extra)
    if nearby is None:
        everyone = budgets_of(budget.tenant_id, budget.service_unit_id, budget.starts_on,
                              budget.ends_on)
    else:
        everyone = [b for b in nearby
                    if b.ends_on >= budget.starts_on and b.starts_on <= budget.ends_on]
    return allot(everyone, positions)[budget.id]


# -- editing ---------------------------------------------------------------------------------


class BudgetError(ValueError):
    """Input a budget cannot take: ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class BudgetInput:
    service_unit_id: int
    period: str
    starts_on: date
    amount: Decimal
    category_id: int | None = None
    requesting_unit_id: int | None = None
    note: str = ""


MESSAGES = {
    "service_unit": _l("Choose a service unit of the company."),
    "period": _l("Choose month, quarter or year."),
    "starts_on": _l("A month starts on the 1st; a quarter on 1 January, April, July or "
                    "October; a year on 1 January."),
    "amount": _l("Give an amount of zero or more, with at most 12 digits before the decimal "
                 "mark."),
    "category": _l("Choose a category the service unit attends."),
    "unit": _l("Choose a unit of the company."),
    "note": _l("At most %(max)s characters.", max=500),
    "overlap": _l("Another budget of the same service unit, category and unit already covers "
                  "part of this period."),
}


def _problems(tenant_id: int, data: BudgetInput, budget_id: int | None) -> dict[str, list[str]]:
    messages = MESSAGES
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(str(message))

    unit = db.session.scalar(select(Unit).where(Unit.tenant_id == tenant_id,
                                                Unit.id == data.service_unit_id))
    if unit is None or not unit.is_service_unit:
        add("service_unit_id", messages["service_unit"])
    if data.period not in PERIODS:
        add("period", messages["period"])
    elif not is_period_start(data.period, data.starts_on):
        add("starts_on", messages["starts_on"])
    if data.amount < 0 or data.amount > MAX_AMOUNT:
        add("amount", messages["amount"])
    if data.category_id is not None:
        category = db.session.scalar(select(Category).where(
            Category.tenant_id == tenant_id, Category.id == data.category_id))
        if category is None or (unit is not None and category.service_unit_id != unit.id):
            add("category_id", messages["category"])
    if data.requesting_unit_id is not None and db.session.scalar(select(Unit.id).where(
            Unit.tenant_id == tenant_id, Unit.id == data.requesting_unit_id)) is None:
        add("requesting_unit_id", messages["unit"])
    if len(data.note) > 500:
        add("note", messages["note"])
    if not errors and _overlapping(tenant_id, data, budget_id):
        add("starts_on", messages["overlap"])
    return errors


def _overlapping(tenant_id: int, data: BudgetInput, budget_id: int | None) -> bool:
    ends = period_end(data.period, data.starts_on)
    same_scope = [
        Budget.tenant_id == tenant_id, Budget.service_unit_id == data.service_unit_id,
        Budget.category_id.is_(None) if data.category_id is None
        else Budget.category_id == data.category_id,
        Budget.requesting_unit_id.is_(None) if data.requesting_unit_id is None
        else Budget.requesting_unit_id == data.requesting_unit_id,
        Budget.starts_on <= ends, Budget.ends_on >= data.starts_on,
    ]
    if budget_id is not None:
        same_scope.append(Budget.id != budget_id)
    return db.session.scalar(select(func.count(Budget.id)).where(*same_scope)) > 0


def lock_scope(tenant_id: int) -> None:
    """Serialize budget edits of a company (the overlap check then sees every other edit).

    FOR NO KEY UPDATE, not FOR UPDATE: the company's row is what every insert of the company
    refers to, and a foreign key check takes a KEY SHARE lock on it, which FOR UPDATE would
    block. An approval holding a budget's row and writing its history would then wait on an
    edit waiting on that budget: a deadlock."""
    from app.models import Tenant

    db.session.scalars(select(Tenant.id).where(Tenant.id == tenant_id)
                       .with_for_update(key_share=True)).all()


def save(tenant_id: int, data: BudgetInput, budget: Budget | None = None) -> Budget:
    """Create ``budget`` (or change it) from ``data``; raises BudgetError and changes nothing
    when any field is wrong or the period overlaps another budget of the same scope."""
    lock_scope(tenant_id)
    errors = _problems(tenant_id, data, budget.id if budget is not None else None)
    if errors:
        raise BudgetError(errors)
    if budget is None:
        budget = Budget(tenant_id=tenant_id)
        db.session.add(budget)
    budget.service_unit_id = data.service_unit_id
    budget.category_id = data.category_id
    budget.requesting_unit_id = data.requesting_unit_id
    budget.period = data.period
    budget.starts_on = data.starts_on
    budget.ends_on = period_end(data.period, data.starts_on)
    budget.amount = data.amount.quantize(Decimal("0.01"))
    budget.note = data.note
    db.session.flush()
    return budget
