"""What past requests of a category cost: the median actual cost and hours of the latest
finished ones, so a director's estimate is informed."""

from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import ServiceRequest, Ticket

SAMPLE = 50  # the latest finished requests of the category the medians are taken from
SHOWN = 5


@dataclass(frozen=True)
class Similar:
    count: int
    median_cost: Decimal | None
    median_hours: Decimal | None
    latest: tuple[ServiceRequest, ...]  # the most recent few, newest first

    def as_dict(self, visible_ids: set[int] | None = None) -> dict:
        return {
            "count": self.count,
            "median_cost": _text(self.median_cost),
            "median_hours": _text(self.median_hours),
            "latest": [{
                "id": r.id, "number": r.number, "title": r.title,
                "actual_cost": _text(r.ticket.actual_cost),
                "hours_spent": _text(r.ticket.hours_spent),
                "estimated_cost": _text(r.estimated_cost),
                "finished_at": r.ticket.actual_end.isoformat() if r.ticket.actual_end else None,
            } for r in self.latest if visible_ids is None or r.id in visible_ids],
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _median(values: list[Decimal]) -> Decimal | None:
    return Decimal(median(values)).quantize(Decimal("0.01")) if values else None


def of(req: ServiceRequest) -> Similar:
    """The latest finished requests of ``req``'s category (not ``req`` itself): one query."""
    rows = list(db.session.scalars(
        select(ServiceRequest)
        .join(Ticket, (Ticket.request_id == ServiceRequest.id)
              & (Ticket.tenant_id == ServiceRequest.tenant_id))
        .options(contains_eager(ServiceRequest.ticket))
        .where(ServiceRequest.tenant_id == req.tenant_id,
               ServiceRequest.category_id == req.category_id,
               ServiceRequest.id != req.id,
               Ticket.actual_cost.is_not(None), Ticket.hours_spent.is_not(None))
        .order_by(Ticket.actual_end.desc(), Ticket.id.desc())
        .limit(SAMPLE)))
    return Similar(
        count=len(rows),
        median_cost=_median([r.ticket.actual_cost for r in rows]),
        median_hours=_median([r.ticket.hours_spent for r in rows]),
        latest=tuple(rows[:SHOWN]),
    )
