"""Service requests: file, list, read, history, comments."""

from datetime import datetime

from flask import abort, current_app, request
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import joinedload

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate, scoped_or_404
from app.api.errors import problem, problem_doc
from app.engine.validation import TEAM_ROLE
from app.extensions import db
from app.kinds import KINDS
from app.models import REQUEST_STATUSES, ProcessInstance, ServiceRequest
from app.models.base import utcnow
from app.recurring import origin
from app.schemas import PersonSchema, RequestSchema
from app.services import history, inbox, incidents, workflow
from app.services import requests as request_service
from app.services.workflow import WorkflowError
from app.sla import clock as clk
from app.sla import display
from app.sla import service as sla_service
from app.sla.models import SlaClock
from app.teams import service as teams

blp = Blueprint("api_requests", __name__, url_prefix="/api/v1/requests",
                description="Service requests")


SLA_FILTER_DOC = ("Service level: `overdue` (an open request whose most pressing clock is "
                  "due), `at_risk` (past its warning threshold, not yet due); as of the call")


def kind_filter_arg() -> fields.String:
    return fields.String(validate=validate.OneOf(KINDS), metadata={
        "description": "Only requests of this kind of work (`request`, `incident`, `change`, "
                       "`security_incident`)"})


def sla_filter_arg() -> fields.String:
    return fields.String(validate=validate.OneOf(inbox.SLA_FILTERS),
                         metadata={"description": SLA_FILTER_DOC})


class RequestArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    unit_id = Id()
    category_id = Id()
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Text in the number or title"})
    sla = sla_filter_arg()
    kind = kind_filter_arg()
    sort = fields.String(load_default="newest", validate=validate.OneOf(inbox.REQUEST_SORTS),
                         metadata={"description": "`newest` first, or `sla`: the soonest due "
                                                  "first (those with no running clock last)"})


class SlaClockOut(Schema):
    """One SLA clock of a request, in business time (the calendar of its target)."""

    due_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the target is (or was) reached while the clock runs, in UTC; "
                       "null before it starts, while paused short of it, and once it stopped "
                       "short of it (met)"})
    elapsed_business_seconds = fields.Integer()
    remaining_business_seconds = fields.Integer(metadata={
        "description": "Negative once overdue"})
    state = fields.String(validate=validate.OneOf(clk.STATES))
    paused_since = fields.DateTime(allow_none=True, metadata={
        "description": "Start of the pause going on, in UTC; null when not paused"})
    target_minutes = fields.Integer(metadata={"description": "The target's length"})


SLA_DOC = (
    "The request's service-level clocks, one per kind of target it is measured by "
    "(`decision`, `start`, `resolution`); empty when none applies. For one request "
    "(`GET /requests/{id}`) each clock is computed from the request's history at the time of "
    "the call. In lists each comes from the clock's stored state brought to the time of the "
    "call with its calendar: a running clock's remaining time is the business time until its "
    "due time (its elapsed time the target less that); paused and stopped clocks keep their "
    "stored elapsed time. Both give the same values between two steps of the request.")


def sla_field(**metadata) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Nested(SlaClockOut),
                       metadata={"description": SLA_DOC, **metadata})


def attach_sla(requests, now: datetime | None = None) -> None:
    """Give each request of a list page its ``sla`` object (one query for the page)."""
    now = now or utcnow()
    inbox.with_sla_clocks(requests)
    for req in requests:
        req.sla = display.api_object_cached(req.sla_clocks, now)


class RecurringOriginOut(Schema):
    """The recurring schedule that filed a request (``/api/v1/admin/recurring``)."""

    schedule_id = fields.Integer(metadata={
        "description": "The schedule's id (it may since have been deleted)"})
    name = fields.String(metadata={"description": "The schedule's name (its title)"})
    occurrence_at = fields.DateTime(allow_none=True, metadata={
        "description": "The occurrence it was filed for: when it was due, in UTC"})


def attach_recurring(requests) -> None:
    """Give each request its ``recurring`` object: one query for those a schedule filed,
    none when no request was."""
    found = origin.of_requests(requests)
    for req in requests:
        req.recurring = found[req.id].api_object() if req.id in found else None


class RequestOut(RequestSchema):
    sla = sla_field()
    recurring = fields.Nested(RecurringOriginOut, allow_none=True, metadata={
        "description": "The recurring schedule that filed the request and the occurrence it "
                       "was filed for; null for a request filed by hand"})


class StepBrief(Schema):
    """A step the request waits on: complete it with ``POST /tasks/{task_id}/complete``."""

    task_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    kinds = fields.List(fields.String())
    role = fields.String()


class TeamBrief(Schema):
    id = fields.Integer()
    key = fields.String(metadata={"description": "The value of the task's `team` property"})
    name = fields.String()
    names = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Name per language (es, en)"})


class StepOut(StepBrief):
    claimed_by = fields.Nested(PersonSchema, allow_none=True)
    waiting_on = fields.List(fields.Nested(PersonSchema), metadata={
        "description": "The people the step waits on: whoever took it, else the person it was "
                       "given to, else everyone who may take it (a `Team` lane's step: the "
                       "team's active members; while it has none, the service unit's "
                       "directors)"})
    team = fields.Nested(TeamBrief, allow_none=True, metadata={
        "description": "A `Team` lane's step: the team it is for (see `/teams`); null for "
                       "every other step"})


class RequestDetail(RequestOut):
    current_steps = fields.List(fields.Nested(StepOut))
    stopped_at = fields.String(allow_none=True, metadata={
        "description": "The step an error in the process diagram stopped the request at (the "
                       "process owner sees the incident); null while it runs"})


class CreatedOut(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    current_steps = fields.List(fields.Nested(StepBrief), metadata={
        "description": "The step(s) the new request waits on"})
    process_stopped = fields.Boolean(metadata={
        "description": "True when the request was filed but its process stopped at once "
                       "because of an error in the diagram (an incident for the process owner)"})


class EventOut(Schema):
    id = fields.Integer()
    action = fields.String()
    step = fields.String(allow_none=True)
    actor = fields.Nested(PersonSchema, allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    internal = fields.Boolean(metadata={
        "description": "An internal note: listed only to those who may read them (the service "
                       "unit's people, the head of the requester's unit, tenant admins)"})
    changes = fields.Dict()
    created_at = fields.DateTime()


class CommentIn(Schema):
    comment = fields.String(required=True)


def visible_or_404(request_id: int, *options) -> ServiceRequest:
    req = scoped_or_404(ServiceRequest, request_id, *options)
    if not policy.can_view_request(caller(), req):
        abort(404)
    return req


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"_schema": ["Send a JSON object."]})
    return body


def step_brief(task) -> dict:
    return {"task_id": task.id, "name": task.name, "kind": task.handler_list[0],
            "kinds": task.handler_list, "role": task.role}


def current_steps(req: ServiceRequest) -> list[dict]:
    return [{**step_brief(task), "claimed_by": task.claimed_by, **_waiting_on(task)}
            for task in inbox.open_tasks_for_request(req)]


def _waiting_on(task) -> dict:
    """``waiting_on`` and ``team`` of a step (``inbox.candidates``: a ``Team`` lane's step
    nobody holds waits on the team's active members, else the service unit's directors)."""
    people = inbox.candidates(task)
    if task.role != TEAM_ROLE or task.team_id is None:
        return {"waiting_on": people, "team": None}
    return {"waiting_on": people, "team": teams.by_id(task.tenant_id, task.team_id)}


@blp.route("")
@blp.arguments(RequestArgs, location="query")
@blp.response(200, page_schema(RequestOut, "RequestPage"))
@blp.alt_response(422, **problem_doc, description="An unknown filter or order")
def list_requests(args):
    """Requests the caller may see, newest first (or the soonest due first)"""
    stmt = inbox.requests_query(caller(), status=args.get("status"), unit_id=args.get("unit_id"),
                                q=args.get("q"), sla=args.get("sla"), sort=args["sort"],
                                kind=args.get("kind"))
    if args.get("category_id"):
        stmt = stmt.where(ServiceRequest.category_id == args["category_id"])
    page = paginate(stmt, args, model=ServiceRequest, load=inbox.REQUEST_LIST_LOAD)
    attach_sla(page["items"])
    attach_recurring(page["items"])
    return page


class NewRequestIn(request_service.NewRequestSchema):
    field_values = fields.Dict(
        keys=fields.String(), data_key="fields", attribute="fields",
        metadata={"description": "The answers to the category's own fields, name -> value; "
                                 "`GET /api/v1/categories/{id}/fields` gives them with their "
                                 "JSON schema. Refused (422, messages under `fields.<name>`) when "
                                 "a required one is missing, a value is not valid or a name "
                                 "is not one of the category's"})


@blp.route("", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {
    "application/json": {"schema": NewRequestIn}}})
@blp.response(201, CreatedOut)
@blp.alt_response(422, **problem_doc, description="Invalid data, with field errors")
def create_request():
    """File a request (it starts its workflow at once)"""
    try:
        req = request_service.file_request(caller(), json_body())
        stopped = req.instance.status == "incident"  # known from filing: read before commit
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The data sent is not valid.", exc.messages)
    except WorkflowError:
        db.session.rollback()
        current_app.logger.exception("filing a request: the process could not start")
        return problem(500, "The process could not start; nothing was saved.")
    return {"id": req.id, "number": req.number, "status": req.status,
            "current_steps": [step_brief(t) for t in inbox.open_tasks_for_request(req)],
            "process_stopped": stopped}


@blp.route("/<int:request_id>")
@blp.response(200, RequestDetail)
@blp.alt_response(404, **problem_doc, description="No such request, or not visible to the caller")
def get_request(request_id):
    """One request, with the step(s) it waits on and on whom"""
    # The instance's status and the SLA clocks (with their calendars) with the request, in
    # the same statement; its history only when it has clocks.
    req = visible_or_404(
        request_id, joinedload(ServiceRequest.instance).load_only(ProcessInstance.status),
        joinedload(ServiceRequest.sla_clocks).joinedload(SlaClock.calendar))
    req.current_steps = current_steps(req)  # plain attributes for the response schema
    req.sla = display.api_object(
        sla_service.clocks_of(req, history.events_of(req), utcnow())) if req.sla_clocks else {}
    stopped = (incidents.open_of_request(req)
               if req.instance is not None and req.instance.status == "incident" else [])
    req.stopped_at = stopped[0].element_name if stopped else None
    attach_recurring([req])
    return req


@blp.route("/<int:request_id>/history")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(EventOut, "HistoryPage"))
@blp.alt_response(404, **problem_doc, description="No such request, or not visible to the caller")
def get_history(args, request_id):
    """Every step of the request, oldest first: who, when, what changed, comment"""
    req = visible_or_404(request_id)
    page = paginate(history.events_query(req, caller()), args)
    hidden = policy.hidden_history_fields(caller(), req)
    if hidden:  # a budget's figures: for its managers only
        page["items"] = [{**{name: getattr(e, name) for name in EventOut().fields},
                          "changes": {k: v for k, v in e.changes.items() if k not in hidden}}
                         for e in page["items"]]
    return page


@blp.route("/<int:request_id>/comments", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": CommentIn}}})
@blp.response(201, EventOut)
@blp.alt_response(404, **problem_doc, description="No such request, or not visible to the caller")
@blp.alt_response(422, **problem_doc, description="Empty comment")
def add_comment(request_id):
    """Add a comment to the request's history"""
    req = visible_or_404(request_id)
    try:
        event = request_service.add_comment(caller(), req, json_body())
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The data sent is not valid.", exc.messages)
    return event


class CancelIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "Why the request is withdrawn (required)"})


@blp.route("/<int:request_id>/cancel", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": CancelIn}}})
@blp.response(200, RequestSchema)
@blp.alt_response(404, **problem_doc, description="No such request, or not visible to the caller")
@blp.alt_response(403, **problem_doc, description="The caller is not its requester")
@blp.alt_response(409, **problem_doc, description="It can no longer be withdrawn: it has a "
                  "ticket already, or it ended")
@blp.alt_response(422, **problem_doc, description="No reason given")
def cancel_request(request_id):
    """Withdraw one's own request, with a reason, until a ticket exists"""
    req = visible_or_404(request_id)
    if req.requester_id != caller().id:
        return problem(403, "Only the requester may withdraw a request.")
    try:
        body = json_body()
        reason = body.get("reason")
        data = CancelIn().load({"reason": reason.strip() if isinstance(reason, str) else reason})
        workflow.cancel_request(caller(), req, data["reason"])
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The data sent is not valid.", exc.messages)
    except workflow.TaskConflict:
        db.session.rollback()
        return problem(409, "This request can no longer be withdrawn; nothing was changed.")
    except WorkflowError:
        db.session.rollback()
        current_app.logger.exception("request %s: withdrawing failed in the process",
                                     req.number)
        return problem(500, "The process could not take this step; nothing was changed.")
    return req
