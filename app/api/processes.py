"""A tenant's processes for process owners: versions, validation, deploy, diff, migration."""


from flask import abort
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.engine.xml import DiagramError
from app.extensions import db
from app.services import definitions, drafts, processes
from app.services.workflow import WorkflowError

blp = Blueprint("api_processes", __name__, url_prefix="/api/v1/processes",
                description="Processes (process owners only)")



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
    active_version = fields.Nested(VersionOut, allow_none=True)
    versions = fields.Integer()
    has_draft = fields.Boolean()


class DraftIn(Schema):
    bpmn_xml = fields.String(required=True, validate=validate.Length(min=1))


class DraftOut(Schema):
    process_key = fields.String()
    bpmn_xml = fields.String()
    updated_at = fields.DateTime()
    updated_by_id = fields.Integer(allow_none=True)


class DeployDraftIn(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class DiagramIn(Schema):
    bpmn_xml = fields.String(required=True, validate=validate.Length(min=1))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class ProblemItem(Schema):
    element_id = fields.String(allow_none=True)
    message = fields.String()


class ValidationOut(Schema):
    valid = fields.Boolean()
    problems = fields.List(fields.Nested(ProblemItem))


class ExpressionChangeOut(Schema):
    element_id = fields.String()
    element_name = fields.String()
    what = fields.String()
    old = fields.String(allow_none=True)
    new = fields.String(allow_none=True)


class DiffOut(Schema):
    added = fields.List(fields.String())
    removed = fields.List(fields.String())
    changed = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    renamed = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          metadata={"description": "element id: [old name, new name]"})
    expressions = fields.List(fields.Nested(ExpressionChangeOut), metadata={
        "description": "conditions, timers and parameters whose text changed"})


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
    if not processes.is_process_key(process_key):
        abort(404)
    return process_key


def _problems(error: DiagramError) -> list[dict]:
    return [{"element_id": eid, "message": msg} for eid, msg in error.problems]


def _refused(detail: str, error: DiagramError):
    """A 422 problem listing the diagram's problems by element id."""
    return problem(422, detail, {p["element_id"] or "diagram": [p["message"]]
                                 for p in _problems(error)})


@blp.route("")
@blp.response(200, ProcessOut(many=True))
def list_processes():
    """The company's processes with their active version"""
    user = _owner()
    result = []
    for key in processes.process_keys(user.tenant_id):
        found = processes.versions(user.tenant_id, key)
        result.append({"process_key": key,
                       "active_version": next((v for v in found if v.is_active), None),
                       "versions": len(found),
                       "has_draft": drafts.get_draft(user.tenant_id, key) is not None})
    return result


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
        definitions.check_diagram(data["bpmn_xml"], caller().tenant_id, process_key)
    except DiagramError as exc:
        return {"valid": False, "problems": _problems(exc)}
    return {"valid": True, "problems": []}


@blp.route("/<process_key>/versions", methods=["POST"])
@blp.arguments(DiagramIn)
@blp.response(201, VersionOut)
@blp.alt_response(409, **problem_doc, description="Deployed by someone else at the same time")
@blp.alt_response(422, **problem_doc, description="The diagram has problems; nothing deployed")
def deploy(data, process_key):
    """Deploy a diagram as the new active version (new requests follow it); a draft, if any,
    is kept"""
    user = _owner()
    return _deploy(user, _key_or_404(process_key), data["bpmn_xml"], data["note"],
                   keep_draft=True)


def _deploy(user, key: str, xml: str, note: str, *, keep_draft: bool):
    try:
        definition = processes.deploy(user.tenant_id, key, xml, user, note,
                                      keep_draft=keep_draft)
        db.session.commit()
    except DiagramError as exc:
        db.session.rollback()
        return _refused("The diagram cannot be deployed.", exc)
    except processes.DeployConflict:
        db.session.rollback()
        return problem(409, "Someone deployed this process at the same moment; "
                            "check the versions and try again.")
    return definition, 201


@blp.route("/<process_key>/draft")
@blp.response(200, DraftOut)
@blp.alt_response(404, **problem_doc, description="No draft for this process")
def get_draft(process_key):
    """The process's draft (work in progress, never run)"""
    user = _owner()
    draft = drafts.get_draft(user.tenant_id, _key_or_404(process_key))
    if draft is None:
        abort(404)
    return draft


@blp.route("/<process_key>/draft", methods=["PUT"])
@blp.arguments(DraftIn)
@blp.response(200, DraftOut)
@blp.alt_response(422, **problem_doc, description="Not a safe, well-formed BPMN file")
def put_draft(data, process_key):
    """Upload a diagram as the draft (replaces the previous draft); it is checked only for
    being a safe BPMN file; validate or deploy it when ready"""
    user = _owner()
    try:
        draft = drafts.save_draft(user.tenant_id, _key_or_404(process_key),
                                  data["bpmn_xml"], user)
        db.session.commit()
    except DiagramError as exc:
        db.session.rollback()
        return _refused("The draft cannot be saved.", exc)
    return draft


@blp.route("/<process_key>/draft", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, **problem_doc, description="No draft for this process")
def delete_draft(process_key):
    """Discard the draft"""
    user = _owner()
    if not drafts.discard_draft(user.tenant_id, _key_or_404(process_key)):
        abort(404)
    db.session.commit()


@blp.route("/<process_key>/draft/deploy", methods=["POST"])
@blp.arguments(DeployDraftIn)
@blp.response(201, VersionOut)
@blp.alt_response(404, **problem_doc, description="No draft for this process")
@blp.alt_response(409, **problem_doc, description="Deployed by someone else at the same time")
@blp.alt_response(422, **problem_doc, description="The draft has problems; nothing deployed")
def deploy_draft(data, process_key):
    """Validate and deploy the draft as the new active version; the draft is then removed"""
    user = _owner()
    key = _key_or_404(process_key)
    draft = drafts.get_draft(user.tenant_id, key)
    if draft is None:
        abort(404)
    return _deploy(user, key, draft.bpmn_xml, data["note"], keep_draft=False)


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
    except processes.DeployConflict:
        db.session.rollback()
        return problem(409, "Someone deployed this process at the same moment; "
                            "check the versions and try again.")
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
    change = processes.diff(old, new)
    return {"added": change.added, "removed": change.removed, "changed": change.changed,
            "renamed": change.renamed, "expressions": processes.expression_changes(old, new)}


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
