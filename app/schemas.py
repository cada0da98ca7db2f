"""How requests, tickets and people look outside the app: the API and webhook payloads."""

from marshmallow import Schema, fields

from app.kinds import KINDS
from app.labels import request_state


class DecimalString(fields.Decimal):
    """An exact decimal sent as a JSON string ("120000.00"); documented as such."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)


class RefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.Email()


class TicketSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"example": "TKT-2026-000042"})
    status = fields.String()
    worker = fields.Nested(PersonSchema)
    planned_start = fields.Date()
    planned_end = fields.Date()


class RequestSchema(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"example": "SOL-2026-000042"})
    title = fields.String()
    description = fields.String()
    status = fields.String(metadata={
        "description": "The stored status (`completed` both while the finished work waits "
                       "for the requester's confirmation and once confirmed; see "
                       "`awaiting_confirmation`)"})
    awaiting_confirmation = fields.Function(
        lambda req: request_state(req) == "awaiting_confirmation", dump_only=True,
        metadata={"type": "boolean",
                  "description": "Read-only: true while the ticket is finished and the "
                                 "requester has not yet confirmed and rated the service (or "
                                 "answered that it is not solved); the pages show it as "
                                 "\"Waiting for confirmation\" instead of completed"})
    priority = fields.String()
    kind = fields.String(metadata={
        "enum": list(KINDS),
        "description": "The kind of work (`request`, `incident`, `change`, "
                       "`security_incident`), taken from the process version it follows "
                       "when it was filed; lists filter by it with `?kind=`"})
    location = fields.String()
    category = fields.Nested(RefSchema)
    unit = fields.Nested(RefSchema)
    service_unit = fields.Nested(RefSchema)
    requester = fields.Nested(PersonSchema)
    estimated_cost = DecimalString(allow_none=True)
    rating = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    ticket = fields.Nested(TicketSummarySchema, allow_none=True)
    field_values = fields.Dict(
        keys=fields.String(), attribute="fields", data_key="fields",
        metadata={"description": "The answers to its category's own fields when filed, name -> "
                                 "value (text, number, date YYYY-MM-DD, choice value, "
                                 "true/false); unanswered ones left out"})


def request_payload(req) -> dict:
    return RequestSchema().dump(req)
