"""The conversation over the API.

- ``/api/v1/requests/{id}/followers/me`` (PUT or POST: follow; DELETE: unfollow) and
  ``/api/v1/requests/{id}/followers`` (who follows it, for those who may see the request);
  ``/api/v1/me/following``: the requests the caller follows.
- ``/api/v1/requests/{id}/canned-responses`` (what the caller may insert there) and
  ``.../{canned_id}/render`` (its text for that request, rendered in the sandbox);
  ``/api/v1/requests/{id}/mentionable`` (who a comment there may mention).
- ``/api/v1/admin/canned-responses``: tenant admins and service directors keep them.

Comments themselves (public or internal, with mentions) are ``POST /requests/{id}/comments``.
A request the caller may not see is not found (404), as everywhere.
"""

from flask import abort
from marshmallow import Schema, ValidationError, fields

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate, scoped_or_404
from app.api.errors import problem, problem_doc
from app.conversation import canned, followers, mentions
from app.conversation.models import CannedResponse
from app.extensions import db
from app.models import ServiceRequest
from app.notifications.sandbox import TemplateRefused
from app.schemas import PersonSchema, RequestSchema

blp = Blueprint("api_conversation", __name__, url_prefix="/api/v1",
                description="Conversation: followers, canned responses, mentions")

NOT_FOUND = "No such request, or not visible to the caller"


def _visible_or_404(request_id: int) -> ServiceRequest:
    req = scoped_or_404(ServiceRequest, request_id)
    if not policy.can_view_request(caller(), req):
        abort(404)
    return req


class FollowOut(Schema):
    request_id = fields.Integer()
    following = fields.Boolean()


class CannedOut(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String(metadata={"description": "The template, with {{ placeholders }}"})
    service_unit_id = fields.Integer(allow_none=True, metadata={
        "description": "null: for every service unit of the company"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CannedIn(Schema):
    title = fields.String(required=True)
    body = fields.String(required=True, metadata={
        "description": "Text with placeholders: " + ", ".join(
            "{{ " + name + " }}" for name in canned.VARIABLES)})
    service_unit_id = Id(allow_none=True, metadata={
        "description": "A service unit the caller manages; null or absent: the whole company "
                       "(tenant admins only)"})


class CannedPatch(Schema):
    title = fields.String()
    body = fields.String()
    service_unit_id = Id(allow_none=True)


class RenderedOut(Schema):
    text = fields.String(metadata={"description": "Plain text, ready for a comment"})


# --- followers -------------------------------------------------------------------------------

def _follow(request_id):
    req = _visible_or_404(request_id)
    followers.follow(caller(), req)
    db.session.commit()
    return {"request_id": req.id, "following": True}


@blp.route("/requests/<int:request_id>/followers/me", methods=["PUT"])
@blp.response(200, FollowOut)
@blp.alt_response(404, **problem_doc, description=NOT_FOUND)
def follow_put(request_id):
    """Follow the request (its lifecycle and comments reach you as notices); idempotent"""
    return _follow(request_id)


@blp.route("/requests/<int:request_id>/followers/me", methods=["POST"])
@blp.response(200, FollowOut)
@blp.alt_response(404, **problem_doc, description=NOT_FOUND)
def follow_post(request_id):
    """Follow the request (the same as PUT)"""
    return _follow(request_id)


@blp.route("/requests/<int:request_id>/followers/me", methods=["DELETE"])
@blp.response(200, FollowOut)
@blp.alt_response(404, **problem_doc, description=NOT_FOUND)
def unfollow(request_id):
    """Stop following the request; idempotent"""
    req = _visible_or_404(request_id)
    followers.unfollow(caller(), req)
    db.session.commit()
    return {"request_id": req.id, "following": False}


@blp.route("/requests/<int:request_id>/followers")
@blp.response(200, PersonSchema(many=True))
@blp.alt_response(404, **problem_doc, description=NOT_FOUND)
def list_followers(request_id):
    """Who follows the request (those of them who still may see it)"""
    return followers.followers_of(_visible_or_404(request_id))


@blp.route("/me/following")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RequestSchema, "FollowingPage"))
def following(args):
    """The requests the caller follows and may see, the latest followed first"""
    return paginate(followers.following_query(caller()), args, model=ServiceRequest)


# --- mentions and canned responses on a request ----------------------------------------------

@blp.route("/requests/<int:request_id>/mentionable")
@blp.response(200, PersonSchema(many=True))
@blp.alt_response(404, **problem_doc, description=NOT_FOUND)
def mentionable(request_id):
    """Who a comment on the request may mention (`@e-mail` in its text, or `mention_ids`);
    with `?internal=1`, who an internal note may mention"""
    from flask import request

    req = _visible_or_404(request_id)
    internal = request.args.get("internal") in ("1", "true")
    if internal and not policy.can_see_internal(caller(), req):
        return []
    return mentions.mentionable(req, internal)


@blp.route("/requests/<int:request_id>/canned-responses")
@blp.response(200, CannedOut(many=True))
@blp.alt_response(404, **problem_doc, description=NOT_FOUND)
def usable(request_id):
    """The canned responses the caller may use on the request (its service unit's and the
    company's; none for a requester)"""
    return canned.usable_for(caller(), _visible_or_404(request_id))


@blp.route("/requests/<int:request_id>/canned-responses/<int:canned_id>/render")
@blp.response(200, RenderedOut)
@blp.alt_response(404, **problem_doc, description="No such request or canned response for "
                                                   "the caller")
@blp.alt_response(422, **problem_doc, description="Its template cannot be rendered")
def render(request_id, canned_id):
    """A canned response's text for the request, its placeholders filled in"""
    req = _visible_or_404(request_id)
    row = canned.usable(caller(), req, canned_id)
    if row is None:
        abort(404)
    try:
        return {"text": canned.render(row, req, caller())}
    except TemplateRefused as exc:
        return problem(422, str(exc))


# --- keeping them (tenant admins, service directors) -----------------------------------------

def _managers_only():
    if not canned.can_manage_any(caller()):
        abort(403, "Only tenant admins and service directors keep canned responses.")


def _managed_or_404(canned_id: int) -> CannedResponse:
    _managers_only()
    row = canned.get_manageable(caller(), canned_id)
    if row is None:
        abort(404, "No such canned response.")
    return row


def _invalid(exc: ValidationError):
    db.session.rollback()
    return problem(422, "The data sent is not valid.", exc.messages)


@blp.route("/admin/canned-responses")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(CannedOut, "CannedResponsePage"))
@blp.alt_response(403, **problem_doc, description="Neither a tenant admin nor a director")
def list_canned(args):
    """The canned responses the caller keeps (a director: those of the units they direct)"""
    _managers_only()
    return paginate(canned.manageable_query(caller()), args, model=CannedResponse)


@blp.route("/admin/canned-responses", methods=["POST"])
@blp.arguments(CannedIn)
@blp.response(201, CannedOut)
@blp.alt_response(403, **problem_doc, description="Neither a tenant admin nor a director")
@blp.alt_response(422, **problem_doc, description="Invalid data, or a template the sandbox "
                                                  "refuses; nothing saved")
def create_canned(data):
    """Write a canned response"""
    _managers_only()
    try:
        row = canned.create(caller(), data)
        db.session.commit()
    except ValidationError as exc:
        return _invalid(exc)
    return row


@blp.route("/admin/canned-responses/<int:canned_id>")
@blp.response(200, CannedOut)
@blp.alt_response(404, **problem_doc, description="No such canned response for the caller")
def get_canned(canned_id):
    """One canned response"""
    return _managed_or_404(canned_id)


@blp.route("/admin/canned-responses/<int:canned_id>", methods=["PATCH"])
@blp.arguments(CannedPatch)
@blp.response(200, CannedOut)
@blp.alt_response(404, **problem_doc, description="No such canned response for the caller")
@blp.alt_response(422, **problem_doc, description="Invalid data; nothing changed")
def update_canned(data, canned_id):
    """Change a canned response (the fields sent)"""
    row = _managed_or_404(canned_id)
    try:
        canned.update(caller(), row, data, partial=True)
        db.session.commit()
    except ValidationError as exc:
        return _invalid(exc)
    return row


@blp.route("/admin/canned-responses/<int:canned_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, **problem_doc, description="No such canned response for the caller")
def delete_canned(canned_id):
    """Delete a canned response"""
    canned.delete(caller(), _managed_or_404(canned_id))
    db.session.commit()
