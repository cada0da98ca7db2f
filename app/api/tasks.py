"""The caller's inbox and the task actions: claim, release, complete."""

from decimal import Decimal
from functools import lru_cache

from apispec.ext.marshmallow import OpenAPIConverter
from flask import abort, current_app, request
from flask_babel import get_locale
from marshmallow import Schema, ValidationError, fields, validate

from app import policy
from app.api.common import Blueprint, PageArgs, caller, page_schema, paginate, scoped_or_404
from app.api.errors import problem, problem_doc
from app.api.requests import (
    StepBrief,
    attach_sla,
    kind_filter_arg,
    sla_field,
    sla_filter_arg,
    step_brief,
)
from app.extensions import db
from app.handlers.base import TaskHandler
from app.handlers.form import FormHandler, json_schema
from app.handlers.registry import TASK_HANDLERS, handler_for
from app.models import HumanTask
from app.schemas import PersonSchema
from app.services import inbox as inbox_service
from app.services import workflow

blp = Blueprint("api_tasks", __name__, url_prefix="/api/v1/tasks",
                description="Inbox and task actions")

CONFLICTS = {
    "already_completed": "The task was already completed by someone else. Nothing was changed.",
    "claimed": "Someone else has taken this task. Nothing was changed.",
}


def form_schema(handler: TaskHandler | str) -> dict:
    """The JSON schema of a handler's form, with titles in the caller's language. A diagram
    form's schema comes from its definition in the diagram, with the same limits."""
    locale = str(get_locale())
    if isinstance(handler, FormHandler):
        return _diagram_form_schema(handler.form, handler.title, locale)
    name = handler if isinstance(handler, str) else handler.name
    return _form_schema(name, locale)


@lru_cache(maxsize=256)
def _diagram_form_schema(form, title: str, _locale: str) -> dict:
    return json_schema(form, title)


def _number(value):
    """A Decimal limit as a JSON number (a string there would not be a valid JSON schema)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@lru_cache(maxsize=128)
def _form_schema(handler_name: str, _locale: str) -> dict:
    """The JSON schema of a handler's form, as the complete endpoint expects it."""
    handler = TASK_HANDLERS[handler_name]
    converter = OpenAPIConverter("3.0.3", lambda schema: None, None)
    schema = handler.schema()
    result = converter.schema2jsonschema(schema)
    for name, field in schema.fields.items():
        prop = result["properties"].get(name)
        if prop is None:
            continue
        if field.metadata.get("label"):
            prop["title"] = str(field.metadata["label"])
        for key in ("minimum", "maximum"):
            if key in prop:
                prop[key] = _number(prop[key])
    result["title"] = str(handler.title)
    return result


class TaskOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Method("_kind", metadata={"description": "The (first) handler of the task"})
    kinds = fields.Method("_kinds")
    request_id = fields.Integer()
    request_number = fields.String(attribute="request.number")
    request_title = fields.String(attribute="request.title")
    request_priority = fields.String(attribute="request.priority")
    request_kind = fields.String(attribute="request.kind", metadata={
        "description": "The request's kind of work (see the request's `kind`)"})
    role = fields.String()
    status = fields.String()
    claimed_by = fields.Nested(PersonSchema, allow_none=True)
    created_at = fields.DateTime()
    request_sla = sla_field(description="In the inbox list only: the `sla` object of the "
                                        "task's request (see `GET /requests/{id}`)")
    forms = fields.Method("_forms", metadata={
        "description": "kind -> JSON schema of the body `complete` accepts for that kind; a "
                       "form defined in the diagram is kind `form`, its fields in `x-order`"})

    def _kind(self, task):
        return task.handler_list[0]

    def _kinds(self, task):
        return task.handler_list

    def _forms(self, task):
        return {kind: form_schema(handler_for(task, kind)) for kind in task.handler_list}


class CompletionOut(Schema):
    task_id = fields.Integer()
    request_id = fields.Integer()
    status = fields.String(metadata={"description": "The request's status after the step"})
    ticket_status = fields.String(allow_none=True)
    next_steps = fields.List(fields.String(), metadata={
        "description": "Names of the steps the request waits on now"})
    current_steps = fields.List(fields.Nested(StepBrief), metadata={
        "description": "The steps the request waits on now, with their task ids"})
    process_stopped = fields.Boolean(metadata={
        "description": "True when the step was saved but a later automatic step failed "
                       "because of the process diagram (an incident for the process owner)"})


COMPLETE_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object",
        "description": "The fields of the task's form (see `forms` in the inbox), plus `kind` "
                       "when the task offers several (e.g. `finish` or `hold`).",
        "properties": {"kind": {"type": "string"}},
        "additionalProperties": True,
    }}},
}


def visible_task_or_404(task_id: int) -> HumanTask:
    task = scoped_or_404(HumanTask, task_id)
    if not policy.can_view_task(caller(), task):
        abort(404)
    return task


class InboxArgs(PageArgs):
    sla = sla_filter_arg()
    kind = kind_filter_arg()
    sort = fields.String(load_default="oldest", validate=validate.OneOf(("oldest", "sla")),
                         metadata={"description": "`oldest` first, or `sla`: the task whose "
                                                  "request is due soonest first"})


@blp.route("")
@blp.arguments(InboxArgs, location="query")
@blp.response(200, page_schema(TaskOut, "TaskPage"))
@blp.alt_response(422, **problem_doc, description="An unknown filter or order")
def inbox(args):
    """Open tasks waiting for the caller, oldest first (or the soonest due first)"""
    page = paginate(inbox_service.inbox_query(caller(), people=False, sla=args.get("sla"),
                                              sort=args["sort"], kind=args.get("kind")), args)
    requests = list({task.request_id: task.request for task in page["items"]}.values())
    attach_sla(requests)
    for task in page["items"]:
        task.request_sla = task.request.sla
    return page


@blp.route("/<int:task_id>")
@blp.response(200, TaskOut)
@blp.alt_response(404, **problem_doc, description="No such task, or not visible to the caller")
def get_task(task_id):
    """One task with its form(s)"""
    return visible_task_or_404(task_id)


def _act(task_id, action):
    task = visible_task_or_404(task_id)
    try:
        result = action(task)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The data sent is not valid.", exc.messages)
    except workflow.TaskConflict as exc:
        db.session.rollback()
        return problem(409, CONFLICTS[exc.reason])
    except workflow.NotAllowed:
        db.session.rollback()
        return problem(403, "The caller may see this task but not do this with it.")
    except workflow.WorkflowError:
        db.session.rollback()
        current_app.logger.exception("request %s: step %s failed in the process",
                                     task.request.number, task.spec_id)
        return problem(500, "The process could not take this step. Nothing was changed.")
    return result


@blp.route("/<int:task_id>/complete", methods=["POST"])
@blp.doc(requestBody=COMPLETE_BODY)
@blp.response(200, CompletionOut)
@blp.alt_response(403, **problem_doc, description="Visible, but not the caller's to complete")
@blp.alt_response(404, **problem_doc, description="No such task, or not visible to the caller")
@blp.alt_response(409, **problem_doc, description="Already completed, or claimed by someone else")
@blp.alt_response(422, **problem_doc, description="Invalid data, with field errors")
def complete(task_id):
    """Complete a task with its form's fields (the same rules as the page)"""

    def run(task):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValidationError({"_schema": ["Send a JSON object."]})
        body = dict(body)
        kind = body.pop("kind", None) or task.handler_list[0]
        if kind not in task.handler_list:
            raise ValidationError({"kind": [f"One of: {', '.join(task.handler_list)}."]})
        done = workflow.complete(caller(), task, kind, body)
        req = done.request
        return {"task_id": task.id, "request_id": req.id, "status": req.status,
                "ticket_status": req.ticket.status if req.ticket else None,
                "next_steps": [t.name for t in done.open_tasks],
                "current_steps": [step_brief(t) for t in done.open_tasks],
                "process_stopped": done.stopped}

    return _act(task_id, run)


@blp.route("/<int:task_id>/claim", methods=["POST"])
@blp.response(200, TaskOut)
@blp.alt_response(403, **problem_doc, description="Not a task the caller could take")
@blp.alt_response(404, **problem_doc, description="No such task, or not visible to the caller")
@blp.alt_response(409, **problem_doc, description="Already completed, or claimed by someone else")
def claim(task_id):
    """Take a task shared by several people, so only the caller sees it"""

    def run(task):
        workflow.claim(caller(), task)
        return task

    return _act(task_id, run)


@blp.route("/<int:task_id>/release", methods=["POST"])
@blp.response(200, TaskOut)
@blp.alt_response(403, **problem_doc, description="The caller does not hold this task")
@blp.alt_response(404, **problem_doc, description="No such task, or not visible to the caller")
def release(task_id):
    """Give back a task the caller took"""

    def run(task):
        workflow.release(caller(), task)
        return task

    return _act(task_id, run)
