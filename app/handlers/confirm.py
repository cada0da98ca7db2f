"""The requester confirms the service and rates it."""

from flask_babel import lazy_gettext as _l
from marshmallow import fields

from app.handlers.base import FormSchema, TaskHandler, in_range, length

RATINGS = [(str(n), str(n)) for n in range(5, 0, -1)]


class ConfirmSchema(FormSchema):
    rating = fields.Integer(
        required=True, strict=False, validate=in_range(min=1, max=5),
        metadata={"label": _l("Rating (1 to 5)"), "choices": RATINGS, "widget": "rating"},
    )
    comment = fields.String(
        validate=length(max=2000),
        metadata={"label": _l("Comment"), "widget": "textarea"},
    )


class ConfirmHandler(TaskHandler):
    name = "confirm"
    title = _l("Confirm and rate the service")
    submit_label = _l("Confirm")
    schema = ConfirmSchema

    def event(self, data):
        return "request.confirmed"

    samples = ({"rating": 1}, {"rating": 5})

    def apply(self, ctx, data):
        ctx.request.rating = data["rating"]
        ctx.request.rating_comment = data.get("comment")
        return {"rating": data["rating"]}
