"""The director gives a ticket to another worker, or moves its planned dates, at any time
before the work is finished.

Each is one unit of work in the caller's transaction (it only flushes): the request's instance
row is locked as every engine step locks it, and the ticket read afresh under that lock, so a
change racing a step (the worker finishing, another director's change) is decided in one order.
A change sent with the ticket's ``revision`` as its sender read it is refused with
``TicketChanged`` when the ticket moved meanwhile (the later of two people changing it at once);
one of a ticket no longer open is refused as invalid. The open human tasks follow the new
worker; the viability's bookings and the indicators read the ticket's row, so they follow too.
"""

import hashlib
from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validates_schema
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.handlers.assign import workers_of
from app.handlers.base import FormSchema, ident, length
from app.models import OPEN_TICKET_STATUSES, HumanTask, ProcessInstance, Ticket, User
from app.notifications import notices
from app.services import events, history


class NotAllowed(Exception):
    """The user may see the ticket but may not change it."""


class TicketChanged(Exception):
    """The ticket changed since the sender read it (its revision differs)."""


def revision(ticket: Ticket) -> str:
    """A short token of what these changes change: the worker and the planned dates."""
    text = f"{ticket.worker_id}:{ticket.planned_start}:{ticket.planned_end}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class _ChangeSchema(FormSchema):
    reason = fields.String(validate=length(max=2000),
                           metadata={"label": _l("Reason"), "widget": "textarea"})
    revision = fields.String(validate=length(max=40), load_only=True, metadata={
        "description": "The ticket's `revision` as read; if it changed since, 409"})


class ReassignSchema(_ChangeSchema):
    worker_id = ident(required=True, metadata={"label": _l("New worker")})


class ReplanSchema(_ChangeSchema):
    planned_start = fields.Date(required=True, metadata={"label": _l("Planned start")})
    planned_end = fields.Date(required=True, metadata={"label": _l("Planned end")})

    @validates_schema
    def _dates(self, data, **kwargs):
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end < start:
            raise ValidationError({"planned_end": [str(_l("The end cannot be before the "
                                                          "start."))]})
        if end and end < date.today():
            raise ValidationError({"planned_end": [str(_l("The planned end is already "
                                                          "past."))]})


def _locked(user: User, ticket: Ticket, data: dict) -> Ticket:
    """Lock the request's instance, read the ticket afresh, and check it may change."""
    db.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.request_id == ticket.request_id,
               ProcessInstance.tenant_id == ticket.tenant_id)
        .with_for_update()
    ).one_or_none()
    db.session.refresh(ticket)
    if not policy.directs_ticket(user, ticket):
        raise NotAllowed()
    if ticket.status not in OPEN_TICKET_STATUSES:
        raise ValidationError({"_schema": [str(_l(
            "The ticket is finished; it can no longer be reassigned or re-planned."))]})
    sent = data.get("revision")
    if sent and sent != revision(ticket):
        raise TicketChanged()
    return ticket


def reassign(user: User, ticket: Ticket, form: dict):
    """Give ``ticket`` to another worker of its service unit; returns the history entry."""
    data = ReassignSchema().load(form)
    ticket = _locked(user, ticket, data)
    workers = {w.id: w for w in workers_of(ticket.tenant_id, ticket.service_unit_id)}
    new = workers.get(data["worker_id"])
    if new is None:
        raise ValidationError({"worker_id": [str(_l("Choose a worker of this service "
                                                    "unit."))]})
    old_id = ticket.worker_id
    if new.id == old_id:
        raise ValidationError({"worker_id": [str(_l("The ticket is already theirs."))]})
    old = db.session.get(User, old_id)
    req = ticket.request
    ticket.worker_id = new.id
    ticket.worker = new
    ticket.helpers = [h for h in ticket.helpers if h.id != new.id]  # not both at once
    for task in db.session.scalars(select(HumanTask).where(
            HumanTask.tenant_id == ticket.tenant_id, HumanTask.request_id == req.id,
            HumanTask.status == "open", HumanTask.role == "worker")):
        if task.assigned_user_id == old_id:
            task.assigned_user_id = new.id
        if task.claimed_by_id == old_id:
            task.claimed_by_id = None
    entry = history.record(req, "reassigned", user, comment=data.get("reason"), ticket=ticket,
                           changes={"worker": [old.name if old else None, new.name]})
    events.emit(req, "ticket.reassigned", user,
                extra={"ticket": {"number": ticket.number, "from_worker_id": old_id,
                                  "worker_id": new.id}})
    notices.reassigned(req, user, entry, old_id, data.get("reason"))
    db.session.flush()
    return entry


def replan(user: User, ticket: Ticket, form: dict):
    """Move ``ticket``'s planned dates; returns the history entry."""
    data = ReplanSchema().load(form)
    ticket = _locked(user, ticket, data)
    before = (ticket.planned_start, ticket.planned_end)
    after = (data["planned_start"], data["planned_end"])
    if before == after:
        raise ValidationError({"planned_start": [str(_l("These are the planned dates "
                                                        "already."))]})
    req = ticket.request
    ticket.planned_start, ticket.planned_end = after
    changes = {name: [old, new] for name, old, new in
               zip(("planned_start", "planned_end"), before, after, strict=True) if old != new}
    entry = history.record(req, "replanned", user, comment=data.get("reason"), ticket=ticket,
                           changes=changes)
    events.emit(req, "ticket.replanned", user,
                extra={"ticket": {"number": ticket.number,
                                  "planned_start": after[0].isoformat(),
                                  "planned_end": after[1].isoformat()}})
    told = f"{after[0].isoformat()} – {after[1].isoformat()}"
    if data.get("reason"):
        told += f"\n{data['reason']}"
    notices.replanned(req, user, entry, told)
    db.session.flush()
    return entry
