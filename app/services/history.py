"""Writing the immutable history of a request."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from app import policy
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
           from_status=None, to_status=None, changes=None, ticket=None,
           internal=False) -> HistoryEvent:
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
        internal=internal,
    )
    db.session.add(event)
    stages.noted(event)  # folded into the request's milestones at the step's end
    return event


def _readable_by(stmt, req: ServiceRequest, viewer):
    """``stmt`` without the internal entries unless ``viewer`` may read them (no viewer: the
    public history only)."""
    if viewer is not None and policy.can_see_internal(viewer, req):
        return stmt
    return stmt.where(HistoryEvent.internal.is_(False))


def recent_comments(req: ServiceRequest, limit: int = 5, viewer=None) -> list[HistoryEvent]:
    """The latest entries that carry a comment, newest first (what a step's doer should read);
    internal ones only for a ``viewer`` who may read them."""
    return list(db.session.scalars(_readable_by(
        select(HistoryEvent)
        .where(HistoryEvent.tenant_id == req.tenant_id, HistoryEvent.request_id == req.id,
               HistoryEvent.comment.is_not(None))
        .order_by(HistoryEvent.id.desc())
        .limit(limit), req, viewer)))


def events_query(req: ServiceRequest, viewer=None):
    """The request's history, oldest first: internal entries only for a ``viewer`` who may
    read them (``policy.can_see_internal``); without a viewer, the public history."""
    return _readable_by(
        select(HistoryEvent)
        .where(HistoryEvent.tenant_id == req.tenant_id, HistoryEvent.request_id == req.id)
        .order_by(HistoryEvent.id), req, viewer)


def events_of(req: ServiceRequest, viewer=None) -> list[HistoryEvent]:
    return list(db.session.scalars(events_query(req, viewer)))
