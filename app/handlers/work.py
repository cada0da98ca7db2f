"""The worker starts, holds, resumes and finishes the ticket."""

from decimal import Decimal

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


# What a ticket's hours column holds (8 digits, 2 decimals): every round's hours added up
MAX_TOTAL_HOURS = Decimal("999999.99")


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
        """This round's hours and materials added to the earlier rounds' (a reopened ticket
        is finished again) and the actual cost, total hours x the rate that applies + total
        materials, known before the history entry is written so that it records them
        (``app.viability.ledger`` reads the actual cost)."""
        from app.tenancy import clock
        from app.viability import costs

        req = ctx.request
        done = costs.finish_round(req.ticket, data["hours_spent"], data["materials_cost"])
        if done.total_hours > MAX_TOTAL_HOURS:
            raise ValidationError({"hours_spent": [str(_l(
                "With the hours already recorded this ticket would have more than "
                "%(max)s hours; check the hours.", max=MAX_TOTAL_HOURS))]})
        if done.actual_cost > MAX_AMOUNT:  # an absurd rate or hours: no amount holds it
            raise ValidationError({"hours_spent": [str(_l(
                "These hours at the hourly rate plus the materials cost more than %(max)s; "
                "check the hours and the materials.", max=MAX_AMOUNT))]})
        if done.again:  # the history tells this round's figures and the totals apart
            data["total_hours_spent"] = done.total_hours
            data["total_materials_cost"] = done.total_materials
        data["hourly_rate"], data["actual_cost"] = done.rate, done.actual_cost
        if req.committed_on is None:  # never approved (a diagram without an evaluation)
            data["committed_on"] = clock.today(clock.tenant_of(req))

    def apply(self, ctx, data):
        ticket = ctx.request.ticket
        ticket.resolution = data["resolution"]
        ticket.hours_spent = data.get("total_hours_spent", data["hours_spent"])
        ticket.materials_cost = data.get("total_materials_cost", data["materials_cost"])
        ticket.hourly_rate = data.get("hourly_rate")
        ticket.actual_cost = data.get("actual_cost")
        if data.get("committed_on") is not None:
            ctx.request.committed_on = data["committed_on"]
        ticket.actual_end = utcnow()
        return {"action": "finish"}

    def form_notes(self, ctx) -> dict:
        """A reopened ticket's finish asks for this round's hours and materials, and says
        what the earlier rounds recorded (they are added up, never replaced)."""
        from flask_babel import format_decimal

        from app.viability.money import money

        ticket = ctx.request.ticket
        if ticket is None or ticket.hours_spent is None:
            return {}
        currency = ctx.user.tenant.setting("currency")
        return {
            "hours_spent": {
                "label": _l("Hours of this round (already recorded: %(hours)s h)",
                            hours=format_decimal(ticket.hours_spent)),
                "help": _l("The ticket was reopened: these hours are added to those "
                           "already recorded.")},
            "materials_cost": {
                "label": _l("Materials cost of this round (already recorded: %(amount)s)",
                            amount=money(ticket.materials_cost or 0, currency)),
                "help": _l("Added to the materials already recorded.")},
        }

    def comment(self, data):
        return data.get("resolution")
