"""Teams over the API (tenant admins edit; directors read):

- ``GET /api/v1/admin/teams``, ``POST`` (create: key, names, description);
- ``GET /api/v1/admin/teams/{key}``, ``PATCH`` (names, description; the key stays);
- ``GET /api/v1/admin/teams/{key}/members``, ``POST`` ``{"user_id": n}``,
  ``DELETE /api/v1/admin/teams/{key}/members/{user_id}`` (their open change-board votes are
  skipped: app.teams.board).
Every change is audited. Another company's team or person is not found (404).
"""

from flask import abort
from marshmallow import Schema, fields

from app import policy
from app.api.common import Blueprint, Id, caller
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.teams import admin, service

blp = Blueprint("api_teams", __name__, url_prefix="/api/v1",
                description="Teams: the people a diagram's Team lane hands tasks to")

NAMES_DOC = {"type": "object", "description": "Name per language: es (required on create), en",
             "properties": {"es": {"type": "string", "maxLength": service.MAX_NAME},
                            "en": {"type": "string", "maxLength": service.MAX_NAME}}}


class MemberOut(Schema):
    user_id = fields.Integer()
    name = fields.Function(lambda m: m.user.name)
    email = fields.Function(lambda m: m.user.email)
    active = fields.Function(lambda m: m.user.active, metadata={
        "description": "Inactive members are not counted (no task, no vote)"})


class TeamOut(Schema):
    id = fields.Integer()
    key = fields.String(metadata={"description": "The value of a task's `team` property"})
    name = fields.String()
    names = fields.Dict(keys=fields.String(), values=fields.String())
    description = fields.String()
    active_members = fields.Function(
        lambda t: sum(1 for m in t.members if m.user.active),
        metadata={"description": "0: the team's tasks go to the service unit's directors"})
    members = fields.List(fields.Nested(MemberOut))


class TeamIn(Schema):
    key = fields.String(required=True, metadata={"description": "[a-z][a-z0-9_]{1,39}"})
    names = fields.Raw(required=True, metadata=NAMES_DOC)
    description = fields.String(load_default=None)


class TeamPatch(Schema):
    names = fields.Raw(required=True, metadata=NAMES_DOC)
    description = fields.String(load_default=None)


class MemberIn(Schema):
    user_id = Id(required=True)


class Removal(Schema):
    votes_skipped = fields.Integer(metadata={
        "description": "Requests whose open vote of this person was skipped"})


def _viewers_only():
    if not policy.can_view_teams(caller()):
        abort(403, "Only tenant admins and directors see teams.")


def _admins_only():
    if not policy.can_manage_teams(caller()):
        abort(403, "Only tenant admins edit teams.")


def _team_or_404(key: str):
    team = service.get(caller().tenant_id, key) if service.valid_key(key) else None
    if team is None:
        abort(404, "No such team.")
    return team


def _refused(exc: service.TeamError):
    db.session.rollback()
    return problem(422, str(exc))


@blp.route("/admin/teams")
@blp.response(200, TeamOut(many=True))
@blp.alt_response(403, **problem_doc, description="Neither a tenant admin nor a director")
def list_teams():
    """The company's teams, with their members"""
    _viewers_only()
    return service.list_teams(caller().tenant_id)


@blp.route("/admin/teams", methods=["POST"])
@blp.arguments(TeamIn)
@blp.response(201, TeamOut)
@blp.alt_response(403, **problem_doc, description="Not a tenant admin")
@blp.alt_response(422, **problem_doc, description="A bad or taken key, or bad names")
def create_team(data):
    """Create a team (empty); audited"""
    _admins_only()
    try:
        team = admin.create(caller(), data["key"], data["names"], data.get("description"))
        db.session.commit()
    except service.TeamError as exc:
        return _refused(exc)
    return team


@blp.route("/admin/teams/<key>")
@blp.response(200, TeamOut)
@blp.alt_response(403, **problem_doc, description="Neither a tenant admin nor a director")
@blp.alt_response(404, **problem_doc, description="No such team")
def get_team(key):
    """One team"""
    _viewers_only()
    return _team_or_404(key)


@blp.route("/admin/teams/<key>", methods=["PATCH"])
@blp.arguments(TeamPatch)
@blp.response(200, TeamOut)
@blp.alt_response(403, **problem_doc, description="Not a tenant admin")
@blp.alt_response(404, **problem_doc, description="No such team")
@blp.alt_response(422, **problem_doc, description="Bad names or description")
def patch_team(data, key):
    """Rename a team or change its description (the key stays: diagrams name it); audited"""
    _admins_only()
    team = _team_or_404(key)
    try:
        admin.rename(caller(), team, data["names"], data.get("description"))
        db.session.commit()
    except service.TeamError as exc:
        return _refused(exc)
    return team


@blp.route("/admin/teams/<key>/members")
@blp.response(200, MemberOut(many=True))
@blp.alt_response(403, **problem_doc, description="Neither a tenant admin nor a director")
@blp.alt_response(404, **problem_doc, description="No such team")
def list_members(key):
    """A team's members"""
    _viewers_only()
    return _team_or_404(key).members


@blp.route("/admin/teams/<key>/members", methods=["POST"])
@blp.arguments(MemberIn)
@blp.response(201, MemberOut)
@blp.alt_response(403, **problem_doc, description="Not a tenant admin")
@blp.alt_response(404, **problem_doc, description="No such team or person")
@blp.alt_response(422, **problem_doc, description="Inactive, already in it, or the team is full")
def add_member(data, key):
    """Put a person of the company in the team; audited"""
    _admins_only()
    team = _team_or_404(key)
    if service.find_user(team.tenant_id, data["user_id"]) is None:
        abort(404, "No such person.")
    try:
        admin.add_member(caller(), team, data["user_id"])
        db.session.commit()
    except service.TeamError as exc:
        return _refused(exc)
    return next(m for m in _team_or_404(key).members if m.user_id == data["user_id"])


@blp.route("/admin/teams/<key>/members/<int:user_id>", methods=["DELETE"])
@blp.response(200, Removal)
@blp.alt_response(403, **problem_doc, description="Not a tenant admin")
@blp.alt_response(404, **problem_doc, description="No such team, or the person is not in it")
def remove_member(key, user_id):
    """Take a person out of the team: their open change-board votes are skipped (history entry
    on each request) and the others' votes decide; audited"""
    _admins_only()
    team = _team_or_404(key)
    try:
        skipped = admin.remove_member(caller(), team, user_id)
        db.session.commit()
    except service.TeamError:
        db.session.rollback()
        abort(404, "The person is not in the team.")
    return {"votes_skipped": skipped}
