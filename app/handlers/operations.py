"""Service operations a diagram's service tasks may call. Nothing else is callable.

An operation checks everything it needs before it writes anything, and raises OperationError
before its first write: a failing operation is recorded as an incident of the request
(``services.incidents``) and the step is saved up to it, so it must leave nothing half-done.
"""

import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from app import policy
from app.engine.runner import OperationRefused
from app.extensions import db
from app.handlers.base import OperationContext
from app.models import (
    REQUEST_STATUSES,
    TICKET_STATUSES,
    HistoryEvent,
    HumanTask,
    Membership,
    Notification,
    Ticket,
    User,
)
from app.models.base import utcnow
from app.notifications import notices
from app.services import events, history, org
from app.services.numbering import next_number


class OperationError(OperationRefused):
    """A service operation could not do its work (raised before it wrote anything)."""


def create_ticket(ctx: OperationContext, params: dict, data: dict) -> dict:
    req = ctx.request
    if req.ticket is not None:
        raise OperationError(f"request {req.number} already has a ticket")
    assignment = data.get("assignment")
    if not assignment:
        raise OperationError("create_ticket needs an assignment (run the assign task first)")
    try:
        worker_id = int(assignment["worker_id"])
        planned = (date.fromisoformat(assignment["planned_start"]),
                   date.fromisoformat(assignment["planned_end"]))
    except (KeyError, TypeError, ValueError):
        raise OperationError("the assignment lacks a worker or valid planned dates") from None
    worker = db.session.get(User, worker_id)
    if worker is None or worker.tenant_id != req.tenant_id:
        raise OperationError("the assigned worker does not exist in this tenant")
    ticket = Ticket(
        tenant_id=req.tenant_id,
        number=next_number(req.tenant_id, "TKT", utcnow().year),
        request=req,
        service_unit_id=req.service_unit_id,
        worker_id=worker.id,
        status="pending",
        planned_start=planned[0],
        planned_end=planned[1],
    )
    db.session.add(ticket)  # before the helpers' query, whose autoflush would meet it half-made
    helper_ids = assignment.get("helper_ids") or []
    # Set even when empty: who is told of the assignment reads it, and an empty list set here
    # costs no query, where an unloaded one would.
    ticket.helpers = list(db.session.scalars(
        select(User).where(User.tenant_id == req.tenant_id, User.id.in_(helper_ids))
    )) if helper_ids else []
    db.session.flush()
    # The person whose step assigned the worker (a director's assign) made the ticket; an
    # automatic assignment's ticket is the System's, whoever's step ran before it.
    actor = None if assignment.get("automatic") else ctx.actor
    history.record(req, "ticket_created", actor, ticket=ticket,
                   changes={"ticket": ticket.number})
    return {"ticket_id": ticket.id, "number": ticket.number}


def _check_status(value, allowed, what):
    if value is not None and value not in allowed:
        raise OperationError(f"unknown {what} status '{value}'")


def set_status(ctx: OperationContext, params: dict, data: dict) -> dict:
    req = ctx.request
    request_status, ticket_status = params.get("request_status"), params.get("ticket_status")
    _check_status(request_status, REQUEST_STATUSES, "request")
    _check_status(ticket_status, TICKET_STATUSES, "ticket")
    if request_status and request_status != req.status:
        if ctx.actor is None:  # a person's step already records its own status change
            history.record(req, "status_changed", None,
                           from_status=req.status, to_status=request_status)
        req.status = request_status
        if request_status in ("completed", "rejected", "cancelled"):
            req.closed_at = utcnow()
    if ticket_status and req.ticket is not None:
        req.ticket.status = ticket_status
    return {"request_status": req.status}


def send_reminder(ctx: OperationContext, params: dict, data: dict) -> dict:
    """Remind the heads the step waits on; their notices are written with the step and sent
    from the outbox after commit."""
    req = ctx.request
    step = str(params.get("step") or "")
    unit_id = org.authorizing_unit_id(req)
    heads = [h for h in org.heads_of(req.tenant_id, unit_id) if h != req.requester_id] \
        if unit_id else []
    db.session.flush()  # count reminders recorded earlier in this same step too
    occurrence = db.session.scalar(
        select(func.count(HistoryEvent.id)).where(
            HistoryEvent.tenant_id == req.tenant_id, HistoryEvent.request_id == req.id,
            HistoryEvent.action == "reminder_sent", HistoryEvent.step == step)
    )
    task = db.session.scalar(
        select(HumanTask).where(HumanTask.tenant_id == req.tenant_id,
                                HumanTask.request_id == req.id, HumanTask.spec_id == step,
                                HumanTask.status == "open").limit(1)) if step else None
    if heads:
        notices.announce(notices.Notice("task.reminder", req, heads, task=task,
                                        key=f"task.reminder:{req.id}:{step}:{occurrence}"))
    history.record(req, "reminder_sent", None, step=step,
                   changes={"recipients": len(heads)})
    return {"reminded": len(heads)}


def close_request(ctx: OperationContext, params: dict, data: dict) -> dict:
    req = ctx.request
    confirmed = bool(params.get("confirmed"))
    now = utcnow()
    from_status = req.status
    req.status = "completed"
    req.closed_at = req.closed_at or now
    if req.ticket is not None:
        req.ticket.status = "closed"
        req.ticket.closed_at = now
    if not confirmed:  # the requester's confirmation is recorded by the confirm step itself
        history.record(req, "auto_closed", None, ticket=req.ticket, from_status=from_status,
                       to_status=req.status, changes={"ticket_status": ["finished", "closed"]})
        events.emit(req, "request.closed", None)
    return {"confirmed": confirmed}


NOTIFY_RECIPIENTS = ("requester", "unit_head", "service_director", "worker")
NOTIFY_MAX_PER_HOUR = 10  # notices a request's notify tasks may write in an hour, all told


def _people_of(req, role: str) -> list[User]:
    """The active people of the request who hold ``role`` for it."""
    if role == "requester":
        ids = [req.requester_id]
    elif role == "unit_head":
        unit_id = org.authorizing_unit_id(req)
        ids = org.heads_of(req.tenant_id, unit_id) if unit_id else []
    elif role == "worker":
        ticket = req.ticket
        ids = [ticket.worker_id, *(h.id for h in ticket.helpers)] if ticket else []
    else:
        ids = list(db.session.scalars(select(Membership.user_id).where(
            Membership.tenant_id == req.tenant_id, Membership.role == role,
            Membership.unit_id == req.service_unit_id)))
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(
        User.tenant_id == req.tenant_id, User.active.is_(True), User.id.in_(ids))))


def notify(ctx: OperationContext, params: dict, data: dict) -> dict:
    """Send a notice of the tenant's wording ``template`` to ``to`` (a role of the request, or
    "requester"): those of them the policy lets see the request, by their own channels."""
    from app.notifications import wording

    req = ctx.request
    role, template = str(params.get("to") or ""), str(params.get("template") or "")
    if role not in NOTIFY_RECIPIENTS:
        raise OperationError(f"notify: 'to' must be one of {', '.join(NOTIFY_RECIPIENTS)}, "
                             f"not '{role[:40]}'")
    if not wording.is_known(template) or (
            template.startswith("custom.")
            and template not in wording.custom_keys(req.tenant_id)):
        raise OperationError(f"notify: no message '{template[:60]}' (write it under "
                             "Notifications, or name an event's)")
    recent = db.session.scalar(select(func.count(Notification.id)).where(
        Notification.tenant_id == req.tenant_id, Notification.request_id == req.id,
        Notification.event == "process.message",
        Notification.created_at > utcnow() - timedelta(hours=1)))
    if recent >= NOTIFY_MAX_PER_HOUR:
        raise OperationError(f"notify: this request sent {recent} messages in the last hour; "
                             "a diagram that loops through notify is stopped here")
    people = [u for u in _people_of(req, role) if policy.can_view_request(u, req)]
    if people:
        notices.announce(notices.Notice(
            "process.message", req, [u.id for u in people], template=template,
            key=f"process:{req.id}:{uuid.uuid4().hex}"))
    return {"notified": len(people)}


OPERATIONS = {
    "create_ticket": create_ticket,
    "set_status": set_status,
    "send_reminder": send_reminder,
    "close_request": close_request,
    "notify": notify,
}

# What each operation may return (its result variable's value), as samples for the deploy-time
# walk of a diagram's data (``engine.pathdata``); keep in step with the returns above.
RESULT_SAMPLES = {
    "create_ticket": ({"ticket_id": 1, "number": "T-0001"},),
    "set_status": ({"request_status": "approved"},),
    "send_reminder": ({"reminded": 0}, {"reminded": 1}),
    "close_request": ({"confirmed": True}, {"confirmed": False}),
    "notify": ({"notified": 0}, {"notified": 1}),
}
