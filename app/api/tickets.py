"""Tickets the caller may see."""

from datetime import date

from flask import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate, scoped_or_404
from app.api.errors import problem_doc
from app.models import OPEN_TICKET_STATUSES, TICKET_STATUSES, ServiceRequest, Ticket
from app.schemas import DecimalString, PersonSchema

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
    overdue = fields.Method("_overdue")
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)

    def _overdue(self, ticket):
        return ticket.status in OPEN_TICKET_STATUSES and ticket.planned_end < date.today()


class TicketArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    worker_id = Id()
    category_id = Id()
    overdue = fields.Boolean(load_default=False)


@blp.route("")
@blp.arguments(TicketArgs, location="query")
@blp.response(200, page_schema(TicketOut, "TicketPage"))
def list_tickets(args):
    """Tickets the caller may see, by planned end"""
    stmt = select(Ticket).where(policy.ticket_visibility(caller()))
    if args.get("status"):
        stmt = stmt.where(Ticket.status == args["status"])
    if args.get("worker_id"):
        stmt = stmt.where(Ticket.worker_id == args["worker_id"])
    if args.get("category_id"):
        stmt = stmt.where(Ticket.request_id.in_(select(ServiceRequest.id).where(
            ServiceRequest.tenant_id == caller().tenant_id,
            ServiceRequest.category_id == args["category_id"])))
    if args["overdue"]:
        stmt = stmt.where(Ticket.status.in_(OPEN_TICKET_STATUSES),
                          Ticket.planned_end < date.today())
    return paginate(stmt.order_by(Ticket.planned_end, Ticket.id), args)


@blp.route("/<int:ticket_id>")
@blp.response(200, TicketOut)
@blp.alt_response(404, **problem_doc, description="No such ticket, or not visible to the caller")
def get_ticket(ticket_id):
    """One ticket"""
    ticket = scoped_or_404(Ticket, ticket_id)
    if not policy.can_view_ticket(caller(), ticket):
        abort(404)
    return ticket
