"""The requester confirms the service and rates it, or answers that it is not solved.

"Not solved" (the ``reopen`` kind) sends the work back to the worker: the diagram routes on
``solved`` after the confirmation (the default one's gateway "¿Resuelto?"). A diagram whose
confirmation does not offer ``reopen`` (every version deployed before it existed) never shows
that answer; one that offers it must route on ``solved`` (deploy checks it, and so does each
answer: a "not solved" never closes a request silently).
"""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

from app.handlers.base import FormSchema, TaskHandler, in_range, length

RATINGS = [(str(n), str(n)) for n in range(5, 0, -1)]
SOLVED = "solved"  # the name the diagram's gateway after the confirmation reads


class ConfirmSchema(FormSchema):
    rating = fields.Integer(
        required=True, strict=False, validate=in_range(min=1, max=5),
        metadata={"label": _l("Rating (1 to 5)"), "choices": RATINGS, "widget": "rating"},
    )
    comment = fields.String(
        validate=length(max=2000),
        metadata={"label": _l("Comment"), "widget": "textarea"},
    )


class ReopenSchema(FormSchema):
    reason = fields.String(
        required=True,
        validate=length(min=1, max=2000),
        metadata={"label": _l("What is still wrong"), "widget": "textarea"},
    )


def routes_not_solved(task) -> bool:
    """Whether the diagram of ``task`` decides on ``solved`` right after it. The instance
    and its definition are in the session already when a step locked them."""
    from app.engine.branching import names_read_after
    from app.extensions import db
    from app.models import ProcessInstance
    from app.services import definitions

    instance = db.session.get(ProcessInstance, task.instance_id)
    if instance is None or instance.tenant_id != task.tenant_id:
        return False
    return SOLVED in names_read_after(definitions.compiled(instance.definition), task.spec_id)


class ConfirmHandler(TaskHandler):
    name = "confirm"
    title = _l("Confirm and rate the service")
    submit_label = _l("Confirm")
    schema = ConfirmSchema

    def event(self, data):
        return "request.confirmed"

    samples = ({"rating": 1, SOLVED: True}, {"rating": 5, SOLVED: True})

    def apply(self, ctx, data):
        ctx.request.rating = data["rating"]
        ctx.request.rating_comment = data.get("comment")
        return {"rating": data["rating"], SOLVED: True}


class ReopenHandler(TaskHandler):
    """Not solved: the ticket goes back to its worker, with the reason."""

    name = "reopen"
    title = _l("Not solved: send it back to the worker")
    submit_label = _l("Send it back")
    schema = ReopenSchema

    def event(self, data):
        return "ticket.reopened"

    samples = ({SOLVED: False},)

    def check(self, ctx, data):
        if not routes_not_solved(ctx.task):
            raise ValidationError({"_schema": [str(_l(
                "This request's process cannot send the work back; confirm it, or ask the "
                "service unit to reopen it with a comment."))]})

    def apply(self, ctx, data):
        ticket = ctx.request.ticket
        if ticket is not None:
            ticket.actual_end = None  # open again; the hours, materials and actual cost
            # recorded stay, and the next finish adds its own to them (the budget's spent too)
        ctx.request.rating = None
        ctx.request.rating_comment = None
        return {SOLVED: False}

    def comment(self, data):
        return data.get("reason")
