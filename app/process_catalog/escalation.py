"""When the incident's first line runs out of time: the filing moment plus the company's time
for the priority, counted in business time on the company's default business calendar (the
one the SLA clocks use: working hours, holidays, its zone) through ``app.sla.calendar``'s pure
``Calendar.add``; in calendar time while the company has no usable calendar."""

from datetime import datetime

from app.process_catalog import matrix
from app.sla import service as sla
from app.sla.calendar import CalendarError

BUSINESS = "business"
CALENDAR = "calendar"


def deadline(tenant_id: int, start: datetime, duration: str) -> tuple[datetime, str]:
    """``(when, basis)``: ``start`` + ``duration`` of business time (basis ``business``), or
    of calendar time (``calendar``) when the company has no business calendar, or its calendar
    no longer reads or has no working time left to reach it."""
    span = matrix.span(duration)
    row = sla.default_calendar(tenant_id)
    calendar = sla.usable_calendar(row) if row is not None else None
    if calendar is not None:
        try:
            return calendar.add(start, span), BUSINESS
        except CalendarError:
            pass
    return start + span, CALENDAR
