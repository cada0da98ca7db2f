"""Attachments over the API: /api/v1/requests/{id}/attachments (upload as multipart, list),
.../{attachment_id} (download, delete) and .../{attachment_id}/thumbnail; the accepted types
at /api/v1/admin/attachments/types. Same rules as the pages (``service``, ``app.policy``): a
request or attachment the caller may not see is 404; a refused upload is 422 and stores
nothing; past the plan's storage, 403 (type .../plan-limit)."""

from flask import abort, request
from marshmallow import Schema, ValidationError, fields

from app import policy
from app.api.common import Blueprint, caller, scoped_or_404
from app.api.errors import problem, problem_doc
from app.attachments import service, settings, sniffing
from app.attachments.views import UPLOAD_FIELD, served
from app.extensions import db
from app.models import ServiceRequest, Tenant
from app.schemas import PersonSchema

blp = Blueprint("api_attachments", __name__, url_prefix="/api/v1",
                description="Files attached to requests")


class AttachmentOut(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    filename = fields.String()
    content_type = fields.String(metadata={"description": "Told from the content"})
    size = fields.Integer(metadata={"description": "Bytes"})
    sha256 = fields.String()
    internal = fields.Boolean(metadata={"description": "Came with an internal comment"})
    history_event_id = fields.Integer(allow_none=True, metadata={
        "description": "The history entry it came with (a comment, a step, or its own)"})
    uploader = fields.Nested(PersonSchema)
    has_thumbnail = fields.Boolean()
    download_url = fields.String()
    thumbnail_url = fields.String(allow_none=True)
    can_delete = fields.Boolean(metadata={
        "description": "The caller uploaded it and the request is open"})
    created_at = fields.DateTime()


class AttachmentList(Schema):
    items = fields.List(fields.Nested(AttachmentOut))


class TypesOut(Schema):
    types = fields.List(fields.String(), metadata={"description": "Accepted content types"})
    known = fields.List(fields.String(), metadata={"description": "Every type that may be "
                                                                 "accepted"})
    defaults = fields.List(fields.String())


class TypesIn(Schema):
    types = fields.List(fields.String(), required=True)


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [UPLOAD_FIELD],
    "properties": {UPLOAD_FIELD: {"type": "array", "items": {"type": "string",
                                                             "format": "binary"},
                                  "description": "One or more files (the field repeated)"}}}}}}


def _request_or_404(request_id: int) -> ServiceRequest:
    req = scoped_or_404(ServiceRequest, request_id)
    if not policy.can_view_request(caller(), req):
        abort(404)
    return req


def _visible_or_404(request_id: int, attachment_id: int):
    req = _request_or_404(request_id)
    row = service.find(caller(), req, attachment_id)
    if row is None:
        abort(404)
    return req, row


def _out(row, req) -> dict:
    base = f"/api/v1/requests/{req.id}/attachments/{row.id}"
    return {"id": row.id, "request_id": row.request_id, "filename": row.filename,
            "content_type": row.content_type, "size": row.size, "sha256": row.sha256,
            "internal": row.internal, "history_event_id": row.history_event_id,
            "uploader": row.uploader, "has_thumbnail": row.thumbnail_key is not None,
            "download_url": base,
            "thumbnail_url": f"{base}/thumbnail" if row.thumbnail_key else None,
            "can_delete": policy.can_delete_attachment(caller(), row, req),
            "created_at": row.created_at}


@blp.route("/requests/<int:request_id>/attachments")
@blp.response(200, AttachmentList)
@blp.alt_response(404, **problem_doc, description="No such request for the caller")
def list_attachments(request_id):
    """The request's attachments the caller may see, oldest first (those of internal
    comments only for who reads internal comments)"""
    req = _request_or_404(request_id)
    return {"items": [_out(row, req) for row in service.visible(caller(), req)]}


@blp.route("/requests/<int:request_id>/attachments", methods=["POST"])
@blp.doc(requestBody=UPLOAD_BODY)
@blp.response(201, AttachmentList)
@blp.alt_response(404, **problem_doc, description="No such request for the caller")
@blp.alt_response(413, **problem_doc, description="The body passes the largest upload")
@blp.alt_response(422, **problem_doc, description=(
    "Refused, nothing stored: no file, too many, too big, a name with a path separator or a "
    "control character, a type the company does not accept (told from the content), HTML or "
    "SVG, a zip bomb, an image of too many pixels, a damaged file, or a finished request"))
def upload(request_id):
    """Attach files (multipart/form-data, field `files`, repeated for several) to an open
    request; a history entry lists them"""
    req = _request_or_404(request_id)
    files = service.chosen(request.files.getlist(UPLOAD_FIELD))
    if not files:
        return problem(422, "The data sent is not valid.",
                       {UPLOAD_FIELD: ["Send one or more files in the field 'files'."]})
    try:
        rows = service.attach_uploads(caller(), req, files)
    except service.Refused as exc:
        db.session.rollback()
        return problem(422, exc.message, {UPLOAD_FIELD: [exc.message]},
                       headers={"X-Refusal": exc.reason})
    db.session.commit()
    return {"items": [_out(row, req) for row in rows]}


@blp.route("/requests/<int:request_id>/attachments/<int:attachment_id>")
@blp.response(200, {"type": "string", "format": "binary"},
              content_type="application/octet-stream",
              description="The file as uploaded, with Content-Disposition: attachment and "
                          "its detected type")
@blp.alt_response(404, **problem_doc, description="No such attachment for the caller")
def download(request_id, attachment_id):
    """Download an attachment"""
    _req, row = _visible_or_404(request_id, attachment_id)
    return served(row)


@blp.route("/requests/<int:request_id>/attachments/<int:attachment_id>/thumbnail")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg",
              description="A JPEG of at most 320 pixels a side")
@blp.alt_response(404, **problem_doc, description="No such attachment, or no thumbnail")
def thumbnail(request_id, attachment_id):
    """An image attachment's thumbnail"""
    _req, row = _visible_or_404(request_id, attachment_id)
    if row.thumbnail_key is None:
        abort(404)
    return served(row, thumbnail=True)


@blp.route("/requests/<int:request_id>/attachments/<int:attachment_id>",
           methods=["DELETE"])
@blp.response(204)
@blp.alt_response(403, **problem_doc, description="Not the uploader, or the request is "
                                                  "finished")
@blp.alt_response(404, **problem_doc, description="No such attachment for the caller")
def delete(request_id, attachment_id):
    """Delete an attachment (its uploader, while the request is open); the file is removed
    once the deletion is committed"""
    req, row = _visible_or_404(request_id, attachment_id)
    try:
        service.delete(caller(), req, row)
    except service.NotAllowed:
        db.session.rollback()
        return problem(403, "Only its uploader deletes an attachment, while the request is "
                            "open.")
    db.session.commit()
    return None


def _types_out(tenant) -> dict:
    return {"types": list(settings.allowed_types(tenant)), "known": list(sniffing.KNOWN),
            "defaults": list(sniffing.DEFAULT_ALLOWED)}


@blp.route("/admin/attachments/types")
@blp.response(200, TypesOut)
def get_types():
    """The file types the company accepts (tenant admins)"""
    if not policy.can_administer_tenant(caller()):
        abort(403, "Only tenant admins see the accepted file types.")
    return _types_out(db.session.get(Tenant, caller().tenant_id))


@blp.route("/admin/attachments/types", methods=["PUT"])
@blp.arguments(TypesIn)
@blp.response(200, TypesOut)
@blp.alt_response(422, **problem_doc, description="A type that cannot be accepted")
def put_types(data):
    """Choose the accepted file types among `known` (tenant admins); an audit entry records
    the change"""
    if not policy.can_administer_tenant(caller()):
        abort(403, "Only tenant admins change the accepted file types.")
    tenant = db.session.get(Tenant, caller().tenant_id)
    try:
        settings.apply(caller(), tenant, settings.clean(data["types"]))
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The data sent is not valid.", exc.messages)
    db.session.commit()
    return _types_out(tenant)


def init_api(api) -> None:
    api.register_blueprint(blp)
