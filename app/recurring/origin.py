"""Which recurring schedule filed a request, and for which occurrence: for the request page
("Recurrente: <schedule> — <rule in words>") and the API's ``recurring`` object. One read
for a request or a page of them, none when no request was filed by a schedule. A deleted
schedule still names the requests it filed."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.models import Category, ServiceRequest, User
from app.recurring.models import RecurringOccurrence, RecurringSchedule


@dataclass(frozen=True)
class Origin:
    schedule: RecurringSchedule
    occurrence_at: datetime | None  # the moment it was due (None: its record is gone)

    def api_object(self) -> dict:
        return {"schedule_id": self.schedule.id, "name": self.schedule.title,
                "occurrence_at": self.occurrence_at}

    def can_open(self, user: User) -> bool:
        """May ``user`` open the schedule's page (the page's own policy)?"""
        return self.schedule.deleted_at is None and policy.can_manage_schedule(user,
                                                                               self.schedule)


def of_requests(requests) -> dict[int, Origin]:
    """{request id: Origin} for those of ``requests`` a schedule filed (one query)."""
    filed = [req for req in requests if req.recurring_schedule_id is not None]
    if not filed:
        return {}
    tenant_id = filed[0].tenant_id
    rows = db.session.execute(
        select(ServiceRequest.id, RecurringSchedule, RecurringOccurrence.occurrence_at)
        .join(RecurringSchedule, and_(RecurringSchedule.tenant_id == ServiceRequest.tenant_id,
                                      RecurringSchedule.id == ServiceRequest.recurring_schedule_id))
        .outerjoin(RecurringOccurrence, and_(
            RecurringOccurrence.tenant_id == ServiceRequest.tenant_id,
            RecurringOccurrence.schedule_id == RecurringSchedule.id,
            RecurringOccurrence.request_id == ServiceRequest.id))
        .where(ServiceRequest.tenant_id == tenant_id,
               ServiceRequest.id.in_([req.id for req in filed]))
        .options(joinedload(RecurringSchedule.category).load_only(Category.service_unit_id)))
    return {request_id: Origin(schedule, occurrence_at)
            for request_id, schedule, occurrence_at in rows.unique()}


def of_request(req: ServiceRequest) -> Origin | None:
    return of_requests([req]).get(req.id)
