"""Checklists, alerts by severity, a task's ticks and a request's report over the API.

- ``/api/v1/admin/checklists`` (GET: the company's; ``?process_key=``) and
  ``/api/v1/admin/checklists/{process_key}/{key}`` (GET, PUT: create or replace its items,
  DELETE): process owners and tenant admins.
- ``/api/v1/admin/security-alerts`` (GET, PUT): who each severity alerts.
- ``/api/v1/tasks/{task_id}/checklist`` (GET) and ``.../checklist/{position}`` (POST
  ``{"ticked": true|false}``): a task's items and ticks; completing the task is refused (422)
  until every item is ticked (``POST /tasks/{id}/complete``).
- ``/api/v1/requests/{request_id}/report``: the whole record of a request, for whoever may see
  it (internal notes only for those who read them).
A task or request the caller may not see is not found (404), as everywhere.
"""

from flask import abort, request
from marshmallow import Schema, ValidationError, fields

from app import policy
from app.api.common import Blueprint, caller, scoped_or_404
from app.api.errors import problem, problem_doc
from app.checklists import alerts, report, service
from app.checklists import tasks as checklist_tasks
from app.extensions import db
from app.models import HumanTask, ServiceRequest

blp = Blueprint("api_checklists", __name__, url_prefix="/api/v1",
                description="Checklists (step-by-step instructions), alerts by severity, "
                            "and a request's report")


class ChecklistOut(Schema):
    id = fields.Integer()
    process_key = fields.String()
    key = fields.String(metadata={"description": "The value of a step's `checklist` property"})
    items = fields.List(fields.String(), metadata={"description": "In order"})
    updated_at = fields.DateTime()


class ChecklistIn(Schema):
    items = fields.Raw(required=True, metadata={
        "description": f"A list of texts, in order: 1 to {service.MAX_ITEMS} items of at most "
                       f"{service.MAX_ITEM_CHARS} characters (blank ones are dropped)",
        "type": "array", "items": {"type": "string"}})


class ChecklistQuery(Schema):
    process_key = fields.String(load_default=None)


class AlertsBody(Schema):
    class Meta:
        unknown = "include"


ALERTS_DOC = {"type": "object", "description": (
    "severity (" + ", ".join(alerts.SEVERITIES) + ") -> list of recipients: roles ("
    + ", ".join(alerts.ROLES) + ") or teams as `team:<key>`; a PUT changes the severities "
    "it sends"), "additionalProperties": {"type": "array", "items": {"type": "string"}}}


class PersonBrief(Schema):
    id = fields.Integer()
    name = fields.String()


class ItemOut(Schema):
    position = fields.Integer()
    text = fields.String()
    ticked = fields.Boolean()
    ticked_at = fields.DateTime(allow_none=True)
    ticked_by = fields.Nested(PersonBrief, allow_none=True)


class TaskChecklistOut(Schema):
    task_id = fields.Integer()
    checklist = fields.String(allow_none=True)
    ticked = fields.Integer()
    total = fields.Integer()
    can_tick = fields.Boolean()
    items = fields.List(fields.Nested(ItemOut))


class TickIn(Schema):
    ticked = fields.Boolean(required=True)


def _invalid(exc: ValidationError):
    db.session.rollback()
    return problem(422, "The data sent is not valid.", exc.messages)


def _managers_only():
    if not policy.can_manage_checklists(caller()):
        abort(403, "Only process owners and tenant admins keep checklists.")


def _row_or_404(process_key: str, key: str):
    row = service.get(caller().tenant_id, process_key[:80], key[:40])
    if row is None:
        abort(404, "No such checklist.")
    return row


@blp.route("/admin/checklists")
@blp.arguments(ChecklistQuery, location="query")
@blp.response(200, ChecklistOut(many=True))
@blp.alt_response(403, **problem_doc, description="Neither a process owner nor a tenant admin")
def list_checklists(args):
    """The company's checklists (of one process with `?process_key=`)"""
    _managers_only()
    return service.list_for(caller().tenant_id, (args.get("process_key") or "")[:80] or None)


@blp.route("/admin/checklists/<process_key>/<key>")
@blp.response(200, ChecklistOut)
@blp.alt_response(403, **problem_doc, description="Neither a process owner nor a tenant admin")
@blp.alt_response(404, **problem_doc, description="No such checklist")
def get_checklist(process_key, key):
    """One checklist"""
    _managers_only()
    return _row_or_404(process_key, key)


@blp.route("/admin/checklists/<process_key>/<key>", methods=["PUT"])
@blp.arguments(ChecklistIn)
@blp.response(200, ChecklistOut)
@blp.alt_response(201, schema=ChecklistOut, description="Created")
@blp.alt_response(403, **problem_doc, description="Neither a process owner nor a tenant admin")
@blp.alt_response(422, **problem_doc, description="Invalid keys or items; nothing saved")
def put_checklist(data, process_key, key):
    """Create or replace a checklist's items (tasks already open keep theirs); audited"""
    _managers_only()
    try:
        row, created = service.save(caller(), process_key, key, data["items"])
        db.session.commit()
    except ValidationError as exc:
        return _invalid(exc)
    return row, 201 if created else 200


@blp.route("/admin/checklists/<process_key>/<key>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(403, **problem_doc, description="Neither a process owner nor a tenant admin")
@blp.alt_response(404, **problem_doc, description="No such checklist")
def delete_checklist(process_key, key):
    """Delete a checklist (tasks already open keep their items); audited"""
    _managers_only()
    service.delete(caller(), _row_or_404(process_key, key))
    db.session.commit()


@blp.route("/admin/security-alerts")
@blp.doc(responses={"200": {"description": "The mapping",
                            "content": {"application/json": {"schema": ALERTS_DOC}}}})
@blp.alt_response(403, **problem_doc, description="Neither a process owner nor a tenant admin")
def get_alerts():
    """Who a security incident alerts at once, by severity"""
    _managers_only()
    return alerts.mapping(caller().tenant)


@blp.route("/admin/security-alerts", methods=["PUT"])
@blp.doc(requestBody={"required": True,
                      "content": {"application/json": {"schema": ALERTS_DOC}}},
         responses={"200": {"description": "The mapping as saved",
                            "content": {"application/json": {"schema": ALERTS_DOC}}}})
@blp.alt_response(403, **problem_doc, description="Neither a process owner nor a tenant admin")
@blp.alt_response(422, **problem_doc, description="An unknown severity or recipient; nothing "
                                                  "saved")
def put_alerts():
    """Change who the severities sent alert; audited"""
    _managers_only()
    body = request.get_json(silent=True)
    try:
        mapping = alerts.save(caller(), body)
        db.session.commit()
    except ValidationError as exc:
        return _invalid(exc)
    return mapping


# --- a task's checklist ----------------------------------------------------------------------

def _task_or_404(task_id: int) -> HumanTask:
    task = scoped_or_404(HumanTask, task_id)
    if not policy.can_view_task(caller(), task):
        abort(404)
    return task


def _task_checklist(task: HumanTask) -> dict:
    rows = checklist_tasks.items(task)
    done = checklist_tasks.progress(rows)
    return {"task_id": task.id, "checklist": rows[0].checklist_key if rows else None,
            "ticked": done.ticked, "total": done.total,
            "can_tick": bool(rows) and checklist_tasks.can_tick(caller(), task),
            "items": [{"position": r.position, "text": r.text,
                       "ticked": r.ticked_at is not None, "ticked_at": r.ticked_at,
                       "ticked_by": r.ticked_by} for r in rows]}


@blp.route("/tasks/<int:task_id>/checklist")
@blp.response(200, TaskChecklistOut)
@blp.alt_response(404, **problem_doc, description="No such task, or not visible to the caller")
def task_checklist(task_id):
    """A task's checklist: the items it started with and who ticked each (empty: none)"""
    return _task_checklist(_task_or_404(task_id))


@blp.route("/tasks/<int:task_id>/checklist/<int:position>", methods=["POST"])
@blp.arguments(TickIn)
@blp.response(200, TaskChecklistOut)
@blp.alt_response(403, **problem_doc, description="Visible, but not the caller's to tick")
@blp.alt_response(404, **problem_doc, description="No such task or item for the caller")
@blp.alt_response(409, **problem_doc, description="The task is no longer open")
def tick(data, task_id, position):
    """Tick (`true`) or untick (`false`) one item; recorded in the request's history"""
    task = _task_or_404(task_id)
    try:
        item = checklist_tasks.tick(caller(), task, position, data["ticked"])
    except checklist_tasks.TickRefused as exc:
        db.session.rollback()
        return problem(exc.status, "The caller may not tick this task's checklist."
                       if exc.status == 403 else "The task is no longer open.")
    if item is None:
        db.session.rollback()
        abort(404, "No such item.")
    db.session.commit()
    return _task_checklist(task)


# --- the report -------------------------------------------------------------------------------

@blp.route("/requests/<int:request_id>/report")
@blp.doc(responses={"200": {"description": "The request, its severity, every step (who, when, "
                                           "its checklist's ticks, its answers), alerts, "
                                           "history, comments and files the caller may see",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
@blp.alt_response(404, **problem_doc, description="No such request, or not visible to the "
                                                  "caller")
def request_report(request_id):
    """The whole record of a request (a security incident's report)"""
    req = scoped_or_404(ServiceRequest, request_id)
    found = report.build(caller(), req)
    if found is None:
        abort(404)
    return report.as_json(found)
