"""The services director weighs cost and staff and approves, rejects or returns the request."""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validates_schema

from app.handlers.base import (
    Amount,
    FormSchema,
    TaskHandler,
    in_range,
    length,
    one_of,
    require_when,
)

DECISIONS = [
    ("approve", _l("Approve")),
    ("reject", _l("Reject")),
    ("return", _l("Return for more information")),
]


class EvaluateSchema(FormSchema):
    decision = fields.String(
        required=True,
        validate=one_of([d for d, _ in DECISIONS]),
        metadata={"label": _l("Decision"), "choices": DECISIONS, "widget": "radio"},
    )
    estimated_cost = Amount(
        validate=in_range(min=0, max=10**12),
        metadata={"label": _l("Estimated cost"), "help": _l("Required when approving.")},
    )
    staff_available = fields.Boolean(
        metadata={"label": _l("Staff available"), "widget": "yesno",
                  "help": _l("Required when approving.")},
    )
    comment = fields.String(
        validate=length(max=2000),
        metadata={"label": _l("Comment"), "widget": "textarea",
                  "help": _l("Required when rejecting or returning.")},
    )

    @validates_schema
    def _rules(self, data, **kwargs):
        decision = data.get("decision")
        require_when(data, "comment", decision in ("reject", "return"),
                     _l("Explain the decision to the requester."))
        if decision == "approve":
            errors = {}
            if data.get("estimated_cost") is None:
                errors["estimated_cost"] = [str(_l("Give the estimated cost."))]
            if data.get("staff_available") is None:
                errors["staff_available"] = [str(_l("Say whether staff is available."))]
            if errors:
                raise ValidationError(errors)


class EvaluateHandler(TaskHandler):
    name = "evaluate"
    title = _l("Evaluate viability")
    submit_label = _l("Send decision")
    schema = EvaluateSchema

    def event(self, data):
        return {"approve": "request.approved", "reject": "request.rejected",
                "return": "request.returned"}.get(data["decision"])

    def describe(self, ctx, data):
        described = super().describe(ctx, data)
        if data["decision"] != "approve":
            described.pop("estimated_cost", None)
            described.pop("staff_available", None)
        return described

    samples = (
        {"decision": "approve", "estimated_cost": 0.0, "staff_available": True},
        {"decision": "approve", "estimated_cost": 1500.5, "staff_available": False},
        {"decision": "reject", "estimated_cost": None, "staff_available": None},
        {"decision": "return", "estimated_cost": None, "staff_available": None},
    )

    def apply(self, ctx, data):
        req = ctx.request
        if data["decision"] == "approve":
            req.estimated_cost = data["estimated_cost"]
            req.staff_available = data["staff_available"]
        cost = data.get("estimated_cost") if data["decision"] == "approve" else None
        return {
            "decision": data["decision"],
            "estimated_cost": float(cost) if cost is not None else None,
            "staff_available": data.get("staff_available"),
        }
