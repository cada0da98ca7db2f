"""Writing the immutable history of a request."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.indicators import stages
from app.models import HistoryEvent, ServiceRequest


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def record(req: ServiceRequest, action: str, actor=None, *, step=None, comment=None,
           from_status=None, to_status=None, changes=None, ticket=None) -> HistoryEvent:
    event = HistoryEvent(
        tenant_id=req.tenant_id,
        request_id=req.id,
        ticket_id=ticket.id if ticket is not None else None,
        actor_id=actor.id if actor is not None else None,
        action=action,
        step=step,
        comment=comment or None,
        from_status=from_status,
        to_status=to_status,
        changes=_jsonable(changes or {}),
    )
    db.session.add(event)
    stages.noted(event)  # folded into the request's milestones at the step's end
    return event


def recent_comments(req: ServiceRequest, limit: int = 5) -> list[HistoryEvent]:
    """The latest entries that carry a comment, newest first (what a step's doer should read)."""
    return list(db.session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.tenant_id == req.tenant_id, HistoryEvent.request_id == req.id,
               HistoryEvent.comment.is_not(None))
        .order_by(HistoryEvent.id.desc())
        .limit(limit)
    ))


def events_query(req: ServiceRequest):
    return (select(HistoryEvent)
            .where(HistoryEvent.tenant_id == req.tenant_id, HistoryEvent.request_id == req.id)
            .order_by(HistoryEvent.id))


def events_of(req: ServiceRequest) -> list[HistoryEvent]:
    return list(db.session.scalars(events_query(req)))
