"""A tenant's processes for process owners: versions, validation, deploy, diff, migration."""

import re

from flask import abort
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.engine.xml import DiagramError
from app.extensions import db
from app.models import ProcessDefinition
from app.services import definitions, processes
from app.services.workflow import WorkflowError

blp = Blueprint("api_processes", __name__, url_prefix="/api/v1/processes",
                description="Processes (process owners only)")

KEY = re.compile(r"^[a-z][a-z0-9_]{1,79}$")


class VersionOut(Schema):
    version = fields.Integer()
    process_key = fields.String()
    bpmn_process_id = fields.String()
    checksum = fields.String()
    is_active = fields.Boolean()
    note = fields.String()
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class VersionDetail(VersionOut):
    bpmn_xml = fields.String()


class ProcessOut(Schema):
    process_key = fields.String()
    active_version = fields.Nested(VersionOut)
    versions = fields.Integer()


class DiagramIn(Schema):
    bpmn_xml = fields.String(required=True, validate=validate.Length(min=1))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class ProblemItem(Schema):
    element_id = fields.String(allow_none=True)
    message = fields.String()


class ValidationOut(Schema):
    valid = fields.Boolean()
    problems = fields.List(fields.Nested(ProblemItem))


class DiffOut(Schema):
    added = fields.List(fields.String())
    removed = fields.List(fields.String())
    changed = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class DiffArgs(Schema):
    from_version = fields.Integer(data_key="from", required=True,
                                  validate=validate.Range(min=1, max=100_000))
    to_version = fields.Integer(data_key="to", required=True,
                                validate=validate.Range(min=1, max=100_000))


class MigrateIn(Schema):
    dry_run = fields.Boolean(load_default=True)


class MoveOut(Schema):
    request_id = fields.Integer()
    number = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    movable = fields.Boolean()
    moved = fields.Boolean()
    reasons = fields.List(fields.String())


def _owner():
    user = caller()
    if not policy.can_own_processes(user):
        abort(404)
    return user


def _key_or_404(process_key: str) -> str:
    if not KEY.match(process_key):
        abort(404)
    return process_key


def _problems(error: DiagramError) -> list[dict]:
    return [{"element_id": eid, "message": msg} for eid, msg in error.problems]


@blp.route("")
@blp.response(200, ProcessOut(many=True))
def list_processes():
    """The company's processes with their active version"""
    user = _owner()
    definitions.active_definition(user.tenant_id)  # every tenant has the default process
    keys = sorted(set(db.session.scalars(db.select(ProcessDefinition.process_key).where(
        ProcessDefinition.tenant_id == user.tenant_id))))
    return [{"process_key": key,
             "active_version": definitions.active_definition(user.tenant_id, key),
             "versions": len(processes.versions(user.tenant_id, key))} for key in keys]


@blp.route("/<process_key>/versions")
@blp.response(200, VersionOut(many=True))
@blp.alt_response(404, **problem_doc, description="Unknown process, or not a process owner")
def list_versions(process_key):
    """Every version, newest first"""
    user = _owner()
    found = processes.versions(user.tenant_id, _key_or_404(process_key))
    if not found:
        abort(404)
    return found


@blp.route("/<process_key>/versions/<int:number>")
@blp.response(200, VersionDetail)
@blp.alt_response(404, **problem_doc, description="No such version")
def get_version(process_key, number):
    """One version with its BPMN XML (to export or to open in a modeler)"""
    user = _owner()
    found = processes.version(user.tenant_id, _key_or_404(process_key), number)
    if found is None:
        abort(404)
    return found


@blp.route("/<process_key>/validate", methods=["POST"])
@blp.arguments(DiagramIn)
@blp.response(200, ValidationOut)
def validate_diagram(data, process_key):
    """Check a diagram without deploying it: every problem, by element id"""
    _owner()
    _key_or_404(process_key)
    try:
        definitions.compile_xml(data["bpmn_xml"])
    except DiagramError as exc:
        return {"valid": False, "problems": _problems(exc)}
    return {"valid": True, "problems": []}


@blp.route("/<process_key>/versions", methods=["POST"])
@blp.arguments(DiagramIn)
@blp.response(201, VersionOut)
@blp.alt_response(422, **problem_doc, description="The diagram has problems; nothing deployed")
def deploy(data, process_key):
    """Deploy a diagram as the new active version (new requests follow it)"""
    user = _owner()
    try:
        definition = definitions.deploy(user.tenant_id, data["bpmn_xml"], user=user,
                                        process_key=_key_or_404(process_key), note=data["note"])
        db.session.commit()
    except DiagramError as exc:
        db.session.rollback()
        return problem(422, "The diagram cannot be deployed.",
                       {p["element_id"] or "diagram": [p["message"]] for p in _problems(exc)})
    return definition


@blp.route("/<process_key>/reset", methods=["POST"])
@blp.response(201, VersionOut)
@blp.alt_response(404, **problem_doc, description="The product has no default for this process")
def reset(process_key):
    """Deploy the product's default diagram again, as a new version"""
    user = _owner()
    try:
        definition = processes.reset_to_default(user.tenant_id, user, _key_or_404(process_key))
    except FileNotFoundError:
        abort(404)
    db.session.commit()
    return definition


@blp.route("/<process_key>/diff")
@blp.arguments(DiffArgs, location="query")
@blp.response(200, DiffOut)
@blp.alt_response(404, **problem_doc, description="No such version")
def diff(args, process_key):
    """What changed between two versions, by element"""
    user = _owner()
    key = _key_or_404(process_key)
    old = processes.version(user.tenant_id, key, args["from_version"])
    new = processes.version(user.tenant_id, key, args["to_version"])
    if old is None or new is None:
        abort(404)
    return processes.diff(old, new)


@blp.route("/<process_key>/migrate", methods=["POST"])
@blp.arguments(MigrateIn)
@blp.response(200, MoveOut(many=True))
def migrate(data, process_key):
    """Move running requests to the active version; with dry_run (default) only report"""
    user = _owner()
    key = _key_or_404(process_key)
    if not processes.versions(user.tenant_id, key):
        abort(404)
    try:
        checks = (processes.plan(user.tenant_id, key) if data["dry_run"]
                  else processes.move_all(user, user.tenant_id, key))
        db.session.commit()
    except WorkflowError:
        db.session.rollback()
        return problem(500, "The migration could not run; nothing was changed.")
    return [{"request_id": c.request.id, "number": c.request.number,
             "from_version": c.from_version, "to_version": c.to_version,
             "movable": c.movable, "moved": c.movable and not data["dry_run"],
             "reasons": c.reasons} for c in checks]
