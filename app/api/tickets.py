"""Tickets the caller may see."""

from datetime import date

from flask import abort
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import joinedload, selectinload

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate, scoped_or_404
from app.api.errors import problem, problem_doc
from app.api.requests import (
    EventOut,
    attach_sla,
    json_body,
    kind_filter_arg,
    sla_field,
    sla_filter_arg,
)
from app.extensions import db
from app.models import OPEN_TICKET_STATUSES, TICKET_STATUSES, Ticket
from app.schemas import DecimalString, PersonSchema
from app.services import inbox, reassignment

blp = Blueprint("api_tickets", __name__, url_prefix="/api/v1/tickets", description="Tickets")


class TicketOut(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"example": "TKT-2026-000042"})
    status = fields.String()
    request_id = fields.Integer()
    request_number = fields.String(attribute="request.number")
    title = fields.String(attribute="request.title")
    service_unit_id = fields.Integer()
    worker = fields.Nested(PersonSchema)
    helpers = fields.List(fields.Nested(PersonSchema))
    planned_start = fields.Date()
    planned_end = fields.Date()
    actual_start = fields.DateTime(allow_none=True)
    actual_end = fields.DateTime(allow_none=True)
    hours_spent = DecimalString(allow_none=True)
    materials_cost = DecimalString(allow_none=True)
    resolution = fields.String(allow_none=True)
    hold_reason = fields.String(allow_none=True)
    overdue = fields.Method("_overdue", metadata={
        "description": "Open and past its planned end (not the service level: see "
                       "`request_sla`)"})
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    request_sla = sla_field(description="In the list only: the `sla` object of the ticket's "
                                        "request (see `GET /requests/{id}`)")
    revision = fields.Function(reassignment.revision, metadata={
        "description": "Changes when the worker or the planned dates change: send it with "
                       "`reassign` or `replan` to be refused (409) if someone changed them "
                       "since you read the ticket"})

    def _overdue(self, ticket):
        return ticket.status in OPEN_TICKET_STATUSES and ticket.planned_end < date.today()


class TicketArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    worker_id = Id()
    category_id = Id()
    overdue = fields.Boolean(load_default=False, metadata={
        "description": "Only open tickets past their planned end"})
    sla = sla_filter_arg()
    kind = kind_filter_arg()
    sort = fields.String(
        load_default="resolution", validate=validate.OneOf(inbox.TICKET_SORTS),
        metadata={"description": "`resolution`: the request's resolution clock due soonest "
                                 "first (none last), then the planned end; `sla`: the "
                                 "request's most pressing clock due soonest first, then the "
                                 "planned end; `planned_end`"})


# What each ticket of a page shows, read for the whole page (not once per ticket)
TICKET_LIST_LOAD = (joinedload(Ticket.request), joinedload(Ticket.worker),
                    selectinload(Ticket.helpers))


@blp.route("")
@blp.arguments(TicketArgs, location="query")
@blp.response(200, page_schema(TicketOut, "TicketPage"))
@blp.alt_response(422, **problem_doc, description="An unknown filter or order")
def list_tickets(args):
    """Tickets the caller may see, the resolution due soonest first, then by planned end"""
    stmt = inbox.tickets_query(caller(), status=args.get("status"),
                               worker_id=args.get("worker_id"),
                               category_id=args.get("category_id"), overdue=args["overdue"],
                               sla=args.get("sla"), sort=args["sort"],
                               kind=args.get("kind"))
    page = paginate(stmt, args, model=Ticket, load=TICKET_LIST_LOAD)
    attach_sla([ticket.request for ticket in page["items"]])
    for ticket in page["items"]:
        ticket.request_sla = ticket.request.sla
    return page


@blp.route("/<int:ticket_id>")
@blp.response(200, TicketOut)
@blp.alt_response(404, **problem_doc, description="No such ticket, or not visible to the caller")
def get_ticket(ticket_id):
    """One ticket"""
    ticket = scoped_or_404(Ticket, ticket_id)
    if not policy.can_view_ticket(caller(), ticket):
        abort(404)
    return ticket


class ReassignIn(reassignment.ReassignSchema):
    """Give the ticket to another active worker of its service unit."""


class ReplanIn(reassignment.ReplanSchema):
    """New planned dates (the end not before the start, nor already past)."""


def _director_change(ticket_id: int, change):
    ticket = scoped_or_404(Ticket, ticket_id)
    if not policy.can_view_ticket(caller(), ticket):
        abort(404)
    try:
        event = change(caller(), ticket, json_body())
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The data sent is not valid.", exc.messages)
    except reassignment.TicketChanged:
        db.session.rollback()
        return problem(409, "The ticket's worker or dates changed since the revision sent; "
                            "nothing was changed. Read it again.")
    except reassignment.NotAllowed:
        db.session.rollback()
        return problem(403, "Only a director of the ticket's service unit may change it.")
    return event


_CHANGE_ERRORS = (
    (403, "The caller may see the ticket but does not direct its service unit"),
    (404, "No such ticket, or not visible to the caller"),
    (409, "The ticket changed since the `revision` sent"),
    (422, "Invalid data, a worker not of the service unit, or a ticket already finished"),
)


def _documented(view):
    for status, description in _CHANGE_ERRORS:
        view = blp.alt_response(status, **problem_doc, description=description)(view)
    return view


@blp.route("/<int:ticket_id>/reassign", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ReassignIn}}})
@blp.response(200, EventOut, description="The history entry that records it")
@_documented
def reassign_ticket(ticket_id):
    """Reassign an open ticket to another worker (the service unit's director); its open
    steps follow the new worker, who, the one before and the requester are notified"""
    return _director_change(ticket_id, reassignment.reassign)


@blp.route("/<int:ticket_id>/replan", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ReplanIn}}})
@blp.response(200, EventOut, description="The history entry that records it")
@_documented
def replan_ticket(ticket_id):
    """Change an open ticket's planned dates (the service unit's director); its workers and
    the requester are notified"""
    return _director_change(ticket_id, reassignment.replan)
