"""What work costs: hourly rates (a worker's own, else their service unit's) and a finished
ticket's actual cost, hours x rate + materials, in exact decimals."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.models import Ticket, Unit, User

CENT = Decimal("0.01")
ZERO = Decimal(0)
MAX_RATE = Decimal("9999999999.99")  # what the columns hold (12 digits, 2 decimals)


def rate_for(worker: User | None, service_unit: Unit | None) -> Decimal | None:
    """The hourly rate that applies to ``worker``'s work for ``service_unit``: their own, else
    the unit's, else none (their hours then cost nothing in the budgets)."""
    if worker is not None and worker.hourly_rate is not None:
        return worker.hourly_rate
    if service_unit is not None and service_unit.hourly_rate is not None:
        return service_unit.hourly_rate
    return None


def actual_cost(hours: Decimal, rate: Decimal | None, materials: Decimal) -> Decimal:
    """hours x rate + materials, rounded to the cent (half up, as money is)."""
    labour = hours * (rate or Decimal(0))
    return (labour + materials).quantize(CENT, rounding=ROUND_HALF_UP)


def ticket_cost(ticket: Ticket, hours: Decimal, materials: Decimal) -> tuple[Decimal | None,
                                                                              Decimal]:
    """The rate and the actual cost of ``ticket`` finished with ``hours`` and ``materials`` in
    all (every round of work so far, ``Round``)."""
    rate = rate_for(ticket.worker, ticket.request.service_unit)
    return rate, actual_cost(hours, rate, materials)


@dataclass(frozen=True)
class Round:
    """One finish of a ticket added to the ones before it (a reopened ticket is finished
    again): this round's hours and materials, the totals, the rate and the actual cost."""

    hours: Decimal
    materials: Decimal
    total_hours: Decimal
    total_materials: Decimal
    rate: Decimal | None
    actual_cost: Decimal
    again: bool  # an earlier round was recorded (the totals differ from this round's)


def finish_round(ticket: Ticket, hours: Decimal, materials: Decimal) -> Round:
    """``ticket`` finished once more with this round's ``hours`` and ``materials``: they add
    to what earlier rounds recorded, and the actual cost is total hours x rate + total
    materials. Should the rate have changed since (another worker, a new rate), the earlier
    rounds keep the labour cost they were finished at and only this round's hours take the
    new rate."""
    if ticket.hours_spent is None:  # the first finish
        rate, cost = ticket_cost(ticket, hours, materials)
        return Round(hours, materials, hours, materials, rate, cost, again=False)
    before_hours, before_materials = ticket.hours_spent, ticket.materials_cost or ZERO
    total_hours, total_materials = before_hours + hours, before_materials + materials
    rate = rate_for(ticket.worker, ticket.request.service_unit)
    # what the earlier rounds' hours were costed at (tickets from before rates: nothing)
    before_labour = (ticket.actual_cost - before_materials
                     if ticket.actual_cost is not None else ZERO)
    if before_labour == actual_cost(before_hours, rate, ZERO):  # the same rate throughout
        cost = actual_cost(total_hours, rate, total_materials)
    else:
        cost = actual_cost(hours, rate, before_labour + total_materials)
    return Round(hours, materials, total_hours, total_materials, rate, cost, again=True)
