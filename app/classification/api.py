"""Classification rules and workers' skills over the API.

- ``/api/v1/admin/classification-rules``: tenant admins list, create, read, replace, change,
  move and delete rules (``editing``), and try one request's text against them (``/match``);
- ``/api/v1/admin/worker-skills``: tenant admins and directors (for the units they direct)
  read each worker's categories and replace them.

Anyone else is refused (403); another company's ids are not found (404); bad input is a 422
by field and changes nothing. Every change writes an audit entry.
"""

from flask import abort
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_responses
from app.classification import editing, rules, skills
from app.classification.models import ClassificationRule
from app.extensions import db
from app.models import PRIORITIES

blp = Blueprint("api_classification", __name__, url_prefix="/api/v1/admin",
                description="Classification rules (tenant admins) and workers' skills "
                            "(tenant admins; directors for their units)")

NOT_AN_ADMIN = "Only tenant admins change the classification rules."
NOT_A_MANAGER = "Only tenant admins and service directors set workers' skills."


_doc = problem_responses(blp, {
    403: "The caller's role may not (or the company is suspended, past its plan)",
    404: "No such rule, unit or worker in the caller's company (or not one the caller "
         "manages)",
    422: "Invalid data: messages by field; nothing changed",
})


# --- schemas ---------------------------------------------------------------------------

class FieldCondition(Schema):
    name = fields.String(required=True, validate=validate.Length(max=60), metadata={
        "description": "A category field's name (app.request_fields)"})
    value = fields.Raw(required=True, metadata={
        "description": "The answer, compared without accents or case; yes/no as 'sí'/'no'"})


class RuleOut(Schema):
    id = fields.Integer()
    position = fields.Integer(metadata={"description": "1 is tried first"})
    name = fields.String()
    active = fields.Boolean()
    words = fields.List(fields.String())
    words_mode = fields.String(metadata={"description": "any or all"})
    unit_id = fields.Integer(allow_none=True)
    include_subunits = fields.Boolean()
    field_conditions = fields.List(fields.Nested(FieldCondition))
    category_id = fields.Integer(allow_none=True)
    priority = fields.String(allow_none=True)
    service_unit_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def _words_field(**kwargs):
    return fields.List(fields.String(validate=validate.Length(max=editing.WORD_CHARS)),
                       validate=validate.Length(max=editing.MAX_WORDS), metadata={
                           "description": "Words or short phrases of the title or "
                                          "description, matched whole without accents or "
                                          f"case; at most {editing.MAX_WORDS}"}, **kwargs)


class RulePatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=editing.NAME_CHARS))
    active = fields.Boolean()
    words = _words_field()
    words_mode = fields.String(validate=validate.OneOf(editing.WORDS_MODES))
    unit_id = Id(allow_none=True, metadata={
        "description": "The requester's unit; null: any"})
    include_subunits = fields.Boolean(metadata={
        "description": "The unit's sub-units too (default true)"})
    field_conditions = fields.List(fields.Nested(FieldCondition), validate=validate.Length(
        max=editing.MAX_FIELD_CONDITIONS))
    category_id = Id(allow_none=True, metadata={"description": "Action: set the category"})
    priority = fields.String(allow_none=True, validate=validate.OneOf(PRIORITIES),
                             metadata={"description": "Action: set the priority"})
    service_unit_id = Id(allow_none=True, metadata={
        "description": "Action: set the service unit (with a category: that category's)"})
    position = fields.Integer(validate=validate.Range(min=1, max=editing.MAX_RULES),
                              metadata={"description": "Where in the order (1: first)"})


class RuleIn(RulePatch):
    name = fields.String(required=True,
                         validate=validate.Length(min=1, max=editing.NAME_CHARS))
    words = _words_field(load_default=list)
    field_conditions = fields.List(fields.Nested(FieldCondition), load_default=list,
                                   validate=validate.Length(max=editing.MAX_FIELD_CONDITIONS))


class MatchIn(Schema):
    title = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=10000))
    unit_id = Id(allow_none=True, load_default=None, metadata={
        "description": "The requester's unit"})
    fields_ = fields.Dict(keys=fields.String(validate=validate.Length(max=60)),
                          load_default=dict, data_key="fields",
                          validate=validate.Length(max=100),
                          metadata={"description": "Answers to category fields by name"})


class MatchOut(Schema):
    matched = fields.Boolean()
    rule_id = fields.Integer(allow_none=True)
    rule_name = fields.String(allow_none=True)
    category_id = fields.Integer(allow_none=True)
    priority = fields.String(allow_none=True)
    service_unit_id = fields.Integer(allow_none=True)


class WorkerSkillsOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    service_unit_id = fields.Integer()
    handles_all = fields.Boolean(metadata={
        "description": "No skills set: the worker handles every category"})
    category_ids = fields.List(fields.Integer(), metadata={
        "description": "The categories of this service unit the worker handles"})


class SkillsArgs(PageArgs):
    service_unit_id = Id(metadata={"description": "Only this service unit's workers"})


class SkillsIn(Schema):
    service_unit_id = Id(required=True)
    category_ids = fields.List(Id(), required=True, validate=validate.Length(
        max=skills.MAX_CATEGORIES), metadata={
        "description": "The unit's categories the worker handles; [] handles every one"})


# --- rules -----------------------------------------------------------------------------

def _admins_only():
    if not policy.can_manage_classification(caller()):
        abort(403, NOT_AN_ADMIN)


def _rule_or_404(rule_id: int) -> ClassificationRule:
    _admins_only()
    row = editing.find(caller().tenant_id, rule_id) if 0 < rule_id <= 2**31 - 1 else None
    if row is None:
        abort(404, "No such rule.")
    return row


def _out(row: ClassificationRule) -> dict:
    return {name: getattr(row, name) for name in (
        "id", "position", "name", "active", "words", "words_mode", "unit_id",
        "include_subunits", "field_conditions", "category_id", "priority", "service_unit_id",
        "created_at", "updated_at")}


def _input(data: dict, row: ClassificationRule | None) -> editing.RuleInput:
    kept = {} if row is None else {name: getattr(row, name) for name in editing.AUDITED
                                   if name != "position"}
    merged = {**kept, **data}
    merged.setdefault("position", None)
    return editing.RuleInput(**merged)


def _refused(exc):
    db.session.rollback()
    return problem(422, "The data sent is not valid.", errors=exc.errors)


@blp.route("/classification-rules")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RuleOut, "ClassificationRulePage"))
@_doc(403)
def list_rules(args):
    """The company's rules in the order they are tried: the first that matches wins"""
    _admins_only()
    page = paginate(editing.search(caller().tenant_id), args)
    page["items"] = [_out(row) for row in page["items"]]
    return page


@blp.route("/classification-rules", methods=["POST"])
@blp.arguments(RuleIn)
@blp.response(201, RuleOut)
@_doc(403, 422)
def create_rule(data):
    """Create a rule (last unless ``position``); at least one condition and one action"""
    _admins_only()
    try:
        row = editing.create(caller(), _input(data, None))
    except editing.Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _out(row)


@blp.route("/classification-rules/match", methods=["POST"])
@blp.arguments(MatchIn)
@blp.response(200, MatchOut)
@_doc(403)
def try_rules(data):
    """Which rule a request with this text, unit and answers would match (nothing changes)"""
    _admins_only()
    outcome = rules.match(caller().tenant_id, data["title"], data["description"],
                          data["unit_id"], data["fields_"])
    if outcome is None:
        return {"matched": False}
    return {"matched": True, "rule_id": outcome.rule_id, "rule_name": outcome.rule_name,
            "category_id": outcome.category_id, "priority": outcome.priority,
            "service_unit_id": outcome.service_unit_id}


@blp.route("/classification-rules/<int:rule_id>")
@blp.response(200, RuleOut)
@_doc(403, 404)
def get_rule(rule_id):
    """One rule"""
    return _out(_rule_or_404(rule_id))


def _save(row, data):
    try:
        editing.update(caller(), row, _input(data, row))
    except editing.Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _out(row)


@blp.route("/classification-rules/<int:rule_id>", methods=["PUT"])
@blp.arguments(RuleIn)
@blp.response(200, RuleOut)
@_doc(403, 404, 422)
def put_rule(data, rule_id):
    """Replace a rule (what is left out takes its default)"""
    row = _rule_or_404(rule_id)
    defaults = {"active": True, "words_mode": "any", "unit_id": None, "include_subunits": True,
                "category_id": None, "priority": None, "service_unit_id": None}
    return _save(row, {**defaults, **data})


@blp.route("/classification-rules/<int:rule_id>", methods=["PATCH"])
@blp.arguments(RulePatch)
@blp.response(200, RuleOut)
@_doc(403, 404, 422)
def patch_rule(data, rule_id):
    """Change what is given (``position`` moves it)"""
    return _save(_rule_or_404(rule_id), data)


@blp.route("/classification-rules/<int:rule_id>", methods=["DELETE"])
@blp.response(204)
@_doc(403, 404)
def delete_rule(rule_id):
    """Delete a rule; the later ones move up"""
    editing.delete(caller(), _rule_or_404(rule_id))
    db.session.commit()
    return None


# --- skills ----------------------------------------------------------------------------

def _managers_only():
    if not policy.can_manage_skills(caller()):
        abort(403, NOT_A_MANAGER)


def _unit_or_404(unit_id: int):
    unit = skills.managed_unit(caller(), unit_id)
    if unit is None:
        abort(404, "No such service unit among those you manage.")
    return unit


def _skills_out(board: skills.Board, worker) -> dict:
    ids = sorted(board.skills.get(worker.id, set()) & {c.id for c in board.categories})
    return {"user_id": worker.id, "name": worker.name, "service_unit_id": board.unit.id,
            "handles_all": board.handles_all(worker), "category_ids": ids}


@blp.route("/worker-skills")
@blp.arguments(SkillsArgs, location="query")
@blp.response(200, page_schema(WorkerSkillsOut, "WorkerSkillsPage"))
@_doc(403, 404)
def list_skills(args):
    """Each worker of the service units the caller manages, with the categories they handle"""
    _managers_only()
    units = ([_unit_or_404(args["service_unit_id"])] if args.get("service_unit_id")
             else skills.managed_units(caller()))
    rows = []
    for unit in units[:50]:
        board = skills.board(unit)
        rows.extend(_skills_out(board, w) for w in board.workers)
    start = (args["page"] - 1) * args["per_page"]
    total = len(rows)
    return {"items": rows[start:start + args["per_page"]], "page": args["page"],
            "per_page": args["per_page"], "total": total,
            "pages": -(-total // args["per_page"]) if total else 0}


@blp.route("/worker-skills/<int:user_id>", methods=["PUT"])
@blp.arguments(SkillsIn)
@blp.response(200, WorkerSkillsOut)
@_doc(403, 404, 422)
def put_skills(data, user_id):
    """Replace the categories of one service unit the worker handles ([]: every one)"""
    _managers_only()
    unit = _unit_or_404(data["service_unit_id"])
    worker = skills.worker_of(unit, user_id) if 0 < user_id <= 2**31 - 1 else None
    if worker is None:
        abort(404, "No such worker in that service unit.")
    try:
        skills.set_skills(caller(), unit, worker, data["category_ids"])
    except skills.Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _skills_out(skills.board(unit), worker)


def init_api(api) -> None:
    api.register_blueprint(blp)
