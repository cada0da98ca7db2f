"""The requester completes a returned request and sends it back for evaluation."""

from flask_babel import lazy_gettext as _l
from marshmallow import fields

from app.handlers.base import FormSchema, TaskHandler, length


class ResubmitSchema(FormSchema):
    title = fields.String(
        validate=length(min=3, max=200), metadata={"label": _l("Title")}
    )
    description = fields.String(
        validate=length(min=3, max=10000),
        metadata={"label": _l("Description"), "widget": "textarea"},
    )
    location = fields.String(validate=length(max=200), metadata={"label": _l("Location")})
    comment = fields.String(
        required=True,
        validate=length(min=1, max=2000),
        metadata={"label": _l("Information requested"), "widget": "textarea"},
    )


class ResubmitHandler(TaskHandler):
    name = "resubmit"
    title = _l("Provide more information")
    submit_label = _l("Resubmit")
    schema = ResubmitSchema

    def prefill(self, ctx) -> dict:
        req = ctx.request
        return {"title": req.title, "description": req.description, "location": req.location}

    def apply(self, ctx, data):
        req = ctx.request
        for field in ("title", "description", "location"):
            if field in data:
                setattr(req, field, data[field])
        return {}
