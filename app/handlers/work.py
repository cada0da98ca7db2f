"""The worker starts, holds, resumes and finishes the ticket."""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

from app.handlers.base import MAX_AMOUNT, Amount, FormSchema, TaskHandler, in_range, length
from app.models.base import utcnow


class CommentSchema(FormSchema):
    comment = fields.String(
        validate=length(max=2000),
        metadata={"label": _l("Comment"), "widget": "textarea"},
    )


class HoldSchema(FormSchema):
    reason = fields.String(
        required=True,
        validate=length(min=1, max=2000),
        metadata={"label": _l("Reason"), "widget": "textarea"},
    )


class FinishSchema(FormSchema):
    resolution = fields.String(
        required=True,
        validate=length(min=1, max=10000),
        metadata={"label": _l("Resolution"), "widget": "textarea"},
    )
    hours_spent = Amount(
        required=True, validate=in_range(min=0, max=10000),
        metadata={"label": _l("Hours spent")},
    )
    materials_cost = Amount(
        required=True, validate=in_range(min=0, max=MAX_AMOUNT),
        metadata={"label": _l("Materials cost")},
    )


class StartHandler(TaskHandler):
    name = "start"
    title = _l("Start work")
    submit_label = _l("Start")
    schema = CommentSchema

    def event(self, data):
        return "ticket.started"

    def apply(self, ctx, data):
        ctx.request.ticket.actual_start = utcnow()
        return {}


class HoldHandler(TaskHandler):
    name = "hold"
    title = _l("Put on hold")
    submit_label = _l("Put on hold")
    schema = HoldSchema

    def event(self, data):
        return "ticket.on_hold"

    samples = ({"action": "hold"},)

    def apply(self, ctx, data):
        ctx.request.ticket.hold_reason = data["reason"]
        return {"action": "hold"}

    def comment(self, data):
        return data.get("reason")


class ResumeHandler(TaskHandler):
    name = "resume"
    title = _l("Resume work")
    submit_label = _l("Resume")
    schema = CommentSchema

    def event(self, data):
        return "ticket.resumed"

    def apply(self, ctx, data):
        ctx.request.ticket.hold_reason = None
        return {}


class FinishHandler(TaskHandler):
    name = "finish"
    title = _l("Finish work")
    submit_label = _l("Finish")
    schema = FinishSchema

    def event(self, data):
        return "ticket.finished"

    samples = ({"action": "finish"},)

    def check(self, ctx, data):
        """The actual cost, hours x the rate that applies + materials, known before the
        history entry is written so that it records it (``app.viability.ledger`` reads it)."""
        from app.tenancy import clock
        from app.viability import costs

        req = ctx.request
        data["hourly_rate"], data["actual_cost"] = costs.ticket_cost(
            req.ticket, data["hours_spent"], data["materials_cost"])
        if data["actual_cost"] > MAX_AMOUNT:  # an absurd rate or hours: no amount holds it
            raise ValidationError({"hours_spent": [str(_l(
                "These hours at the hourly rate plus the materials cost more than %(max)s; "
                "check the hours and the materials.", max=MAX_AMOUNT))]})
        if req.committed_on is None:  # never approved (a diagram without an evaluation)
            data["committed_on"] = clock.today(clock.tenant_of(req))

    def apply(self, ctx, data):
        ticket = ctx.request.ticket
        ticket.resolution = data["resolution"]
        ticket.hours_spent = data["hours_spent"]
        ticket.materials_cost = data["materials_cost"]
        ticket.hourly_rate = data.get("hourly_rate")
        ticket.actual_cost = data.get("actual_cost")
        if data.get("committed_on") is not None:
            ctx.request.committed_on = data["committed_on"]
        ticket.actual_end = utcnow()
        return {"action": "finish"}

    def comment(self, data):
        return data.get("resolution")
