"""The unit head authorizes or rejects a request."""

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validates_schema

from app.handlers.base import FormSchema, TaskHandler, length, one_of, require_when

DECISIONS = [("authorize", _l("Authorize")), ("reject", _l("Reject"))]


class AuthorizeSchema(FormSchema):
    decision = fields.String(
        required=True,
        validate=one_of([d for d, _ in DECISIONS]),
        metadata={"label": _l("Decision"), "choices": DECISIONS, "widget": "radio"},
    )
    comment = fields.String(
        validate=length(max=2000),
        metadata={"label": _l("Comment"), "widget": "textarea",
                  "help": _l("Required when rejecting.")},
    )

    @validates_schema
    def _comment_on_reject(self, data, **kwargs):
        require_when(data, "comment", data.get("decision") == "reject",
                     _l("Say why the request is rejected."))


class AuthorizeHandler(TaskHandler):
    name = "authorize"
    title = _l("Authorize request")
    submit_label = _l("Send decision")
    schema = AuthorizeSchema

    def event(self, data):
        return "request.authorized" if data["decision"] == "authorize" else "request.rejected"

    samples = tuple({"decision": d} for d, _ in DECISIONS)

    def apply(self, ctx, data):
        return {"decision": data["decision"]}
