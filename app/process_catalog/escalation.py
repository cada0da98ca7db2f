"""When the incident's first line runs out of time: the filing moment plus the company's time
for the priority, counted in business time through ``app.sla.calendar``'s pure ``Calendar.add``
on the calendar the request's SLA clocks run on (its resolution target's, else its start or
decision target's: a 24x7 target for urgent incidents counts every hour), else the company's
default business calendar; in calendar time while the company has no usable calendar."""

from datetime import datetime

from app.process_catalog import matrix
from app.sla import service as sla
from app.sla.calendar import CalendarError
from app.sla.models import BusinessCalendar

BUSINESS = "business"
CALENDAR = "calendar"


# The request's SLA target whose calendar the escalation follows, first found in this order
TARGET_KINDS = ("resolution", "start", "decision")


def calendar_for(req) -> BusinessCalendar | None:
    """The business calendar of the request's SLA target (``TARGET_KINDS``) at its category
    and priority now, else the company's default calendar (None: it has none)."""
    targets = sla.matching_targets(req)
    for kind in TARGET_KINDS:
        if kind in targets:
            return targets[kind].calendar
    return sla.default_calendar(req.tenant_id)


def deadline(tenant_id: int, start: datetime, duration: str,
             row: BusinessCalendar | None = None) -> tuple[datetime, str]:
    """``(when, basis)``: ``start`` + ``duration`` of business time on the calendar ``row``
    (default: the company's default calendar; basis ``business``), or of calendar time
    (``calendar``) without a calendar, or when it no longer reads or has no working time left
    to reach it."""
    span = matrix.span(duration)
    if row is None:
        row = sla.default_calendar(tenant_id)
    calendar = sla.usable_calendar(row) if row is not None else None
    if calendar is not None:
        try:
            return calendar.add(start, span), BUSINESS
        except CalendarError:
            pass
    return start + span, CALENDAR
