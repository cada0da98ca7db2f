"""Everything a director weighs before approving one request, in one place: the budget it
would draw on (and what is left after it), what similar requests cost, and who could do the
work from when. The evaluation page, its handler and ``GET /api/v1/requests/{id}/viability``
all read it from here."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.models import ServiceRequest
from app.tenancy import clock
from app.viability import availability, budgets, similar, staff
from app.viability.models import Budget
from app.viability.money import DEFAULT_CURRENCY


@dataclass(frozen=True)
class Assessment:
    on: date                            # the budget date: the company's today
    currency: str
    budget: Budget | None
    figures: budgets.Figures | None     # the budget's figures now (this request's own
    own: Decimal                        # commitment, if any, is in them as ``own``)
    estimated_cost: Decimal | None
    hours: Decimal | None
    similar: similar.Similar | None
    staff: list[availability.WorkerPicture]
    earliest: availability.Window | None
    staff_available: bool

    @property
    def left_after(self) -> Decimal | None:
        """What the budget keeps once this request's estimate is committed."""
        if self.figures is None or self.estimated_cost is None:
            return None
        return self.figures.left + self.own - self.estimated_cost

    @property
    def over_budget(self) -> bool:
        after = self.left_after
        return after is not None and after < 0

    @property
    def earliest_start(self) -> date | None:
        return self.earliest.start if self.earliest is not None else None


def _own_commitment(req: ServiceRequest, budget: Budget) -> Decimal:
    """What ``req`` already holds against ``budget`` (asked again after its approval)."""
    if (req.committed_on is None or req.estimated_cost is None or req.status in budgets.RELEASED
            or (req.ticket is not None and req.ticket.actual_cost is not None)):
        return budgets.ZERO
    if not budgets.covers(budget, req.category_id, req.unit_id, req.committed_on):
        return budgets.ZERO
    return req.estimated_cost


def assess(req: ServiceRequest, *, cost: Decimal | None = None, hours: Decimal | None = None,
           start: date | None = None, lock: bool = False,
           with_similar: bool = True) -> Assessment:
    """The viability of ``req`` for an estimate of ``cost`` and ``hours`` (either may be
    unknown yet), with the work starting no earlier than ``start``. ``lock``: the budget's
    row is locked for the rest of the transaction (an approval), so concurrent approvals
    against it take turns and each sees the others' commitments."""
    tenant = clock.tenant_of(req)
    today = clock.today(tenant)
    nearby = budgets.around(req.tenant_id, req.service_unit_id, today)
    budget = budgets.budget_for(req, today, lock=lock, nearby=nearby)
    figures = budgets.figures_of(budget, nearby) if budget is not None else None
    pictures = staff.picture(req.tenant_id, req.service_unit_id, hours, start or today, today)
    return Assessment(
        on=today,
        currency=tenant.setting("currency") or DEFAULT_CURRENCY,
        budget=budget,
        figures=figures,
        own=_own_commitment(req, budget) if budget is not None else budgets.ZERO,
        estimated_cost=cost,
        hours=hours,
        similar=similar.of(req) if with_similar else None,
        staff=pictures,
        earliest=availability.earliest_overall(pictures),
        staff_available=availability.staff_available(pictures, hours),
    )
