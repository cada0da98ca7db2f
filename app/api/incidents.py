"""Incidents for process owners: steps of requests that failed because of the diagram."""

from flask import abort
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.services import incidents, workflow

blp = Blueprint("api_incidents", __name__, url_prefix="/api/v1/incidents",
                description="Incidents: steps that failed because of the diagram (process "
                            "owners only)")


class IncidentArgs(PageArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "resolved")))


class IncidentOut(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    request_number = fields.Function(lambda i: i.request.number)
    process_key = fields.Function(lambda i: i.definition.process_key)
    version = fields.Function(lambda i: i.definition.version, metadata={
        "description": "The process version the step failed on"})
    element_id = fields.String()
    element_name = fields.String()
    error = fields.String()
    occurred_during = fields.String(metadata={
        "description": "filing, step (after a person's step), timer, retry or migration"})
    attempts = fields.Integer()
    status = fields.String(metadata={"description": "open or resolved"})
    resolution = fields.String(allow_none=True, metadata={
        "description": "retried, gone (the request left the step) or cancelled"})
    created_at = fields.DateTime()
    last_failed_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class RetryOut(Schema):
    went_on = fields.Boolean(metadata={
        "description": "True if the step went through; false if it failed again"})
    incident = fields.Nested(IncidentOut)


def _owner():
    user = caller()
    if not policy.can_own_processes(user):
        abort(404)
    return user


def _incident_or_404(incident_id: int):
    user = _owner()
    incident = incidents.get(user.tenant_id, incident_id) if 0 < incident_id <= 2**31 - 1 \
        else None
    if incident is None:
        abort(404)
    return user, incident


@blp.route("")
@blp.arguments(IncidentArgs, location="query")
@blp.response(200, page_schema(IncidentOut, "IncidentPage"))
def list_incidents(args):
    """The company's incidents, the most recent failure first"""
    user = _owner()
    return paginate(incidents.of_tenant(user.tenant_id, args["status"]), args)


@blp.route("/<int:incident_id>")
@blp.response(200, IncidentOut)
@blp.alt_response(404, **problem_doc, description="No such incident")
def get_incident(incident_id):
    """One incident"""
    return _incident_or_404(incident_id)[1]


@blp.route("/<int:incident_id>/retry", methods=["POST"])
@blp.response(200, RetryOut)
@blp.alt_response(404, **problem_doc, description="No such incident")
@blp.alt_response(409, **problem_doc, description="The incident is no longer open")
def retry_incident(incident_id):
    """Run the failed step again, on the version the request is on now (move it to a
    version that fixes the diagram first)"""
    user, incident = _incident_or_404(incident_id)
    try:
        went_on = workflow.retry_incident(user, incident)
        db.session.commit()
    except workflow.TaskConflict:
        db.session.rollback()
        return problem(409, "The incident is no longer open.")
    except workflow.WorkflowError:
        db.session.rollback()
        return problem(503, "The request could not be loaded to retry it; nothing changed.")
    return {"went_on": went_on, "incident": incident}
