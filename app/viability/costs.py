"""What work costs: hourly rates (a worker's own, else their service unit's) and a finished
ticket's actual cost, hours x rate + materials, in exact decimals."""

from decimal import ROUND_HALF_UP, Decimal

from app.models import Ticket, Unit, User

CENT = Decimal("0.01")
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
    """The rate and the actual cost of ``ticket`` finished with ``hours`` and ``materials``."""
    rate = rate_for(ticket.worker, ticket.request.service_unit)
    return rate, actual_cost(hours, rate, materials)
