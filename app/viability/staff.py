"""The staff picture's inputs, read from the database: the workers of the service unit that
attends the request's category, with their open tickets as bookings of planned hours."""

import calendar as calendar_module
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.handlers.assign import workers_of
from app.models import OPEN_TICKET_STATUSES, ServiceRequest, Ticket
from app.sla import service as sla
from app.viability import availability

# An open ticket approved without an estimate of hours (before this existed) books a day
UNKNOWN_TICKET_HOURS = Decimal(8)
HORIZON_WORKING_DAYS = 10  # two working weeks: what "available" means on the page


def workers(tenant_id: int, service_unit_id: int) -> list[availability.Worker]:
    """The active workers of the service unit, each with their open tickets' planned work:
    two queries whatever the number of workers and tickets."""
    people = workers_of(tenant_id, service_unit_id)
    if not people:
        return []
    bookings: dict[int, list[availability.Booking]] = {p.id: [] for p in people}
    rows = db.session.execute(
        select(Ticket.worker_id, Ticket.planned_start, Ticket.planned_end,
               ServiceRequest.estimated_hours)
        .join(ServiceRequest, (ServiceRequest.id == Ticket.request_id)
              & (ServiceRequest.tenant_id == Ticket.tenant_id))
        .where(Ticket.tenant_id == tenant_id, Ticket.status.in_(OPEN_TICKET_STATUSES),
               Ticket.worker_id.in_(sorted(bookings))))
    for worker_id, start, end, hours in rows:
        bookings[worker_id].append(availability.Booking(
            start=start, end=max(start, end),
            hours=hours if hours is not None else UNKNOWN_TICKET_HOURS))
    calendar = company_calendar(tenant_id)
    return [availability.Worker(id=p.id, name=p.name, calendar=calendar,
                                bookings=tuple(bookings[p.id])) for p in people]


def company_calendar(tenant_id: int, today: date | None = None) -> availability.Calendar:
    """Everyone works the company's default business calendar (app.sla): its hours per
    weekday and its holidays over the next two years; weekdays of 8 hours when it has none."""
    row = sla.default_calendar(tenant_id)
    if row is None:
        return availability.WEEKDAYS_8H
    try:
        business = sla.calendar_of(row)
    except ValueError:  # a calendar that no longer reads (it is checked when saved)
        return availability.WEEKDAYS_8H
    hours = tuple(Decimal(sum(end - start for start, end in day)) / 60
                  for day in business.week)
    first = today or date.today()
    years = range(first.year, first.year + 3)
    holidays = set(business.holidays) | {
        date(year, month, day) for year in years for month, day in business.yearly
        if (month, day) != (2, 29) or calendar_module.isleap(year)}
    return availability.Calendar(hours, frozenset(holidays))


def picture(tenant_id: int, service_unit_id: int, hours: Decimal | None, start: date,
            today: date) -> list[availability.WorkerPicture]:
    return availability.staff_picture(workers(tenant_id, service_unit_id), hours, start, today,
                                      horizon_days=HORIZON_WORKING_DAYS)
