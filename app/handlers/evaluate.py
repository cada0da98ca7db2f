"""The services director weighs cost and staff and approves, rejects or returns the request.

Before an approval the handler asks ``app.viability.assessment`` what the director saw on the
page, afresh and with the budget's row locked: the budget left after this estimate, and whether
staff is available (a computed fact the director confirms or overrides). Approving over budget,
without staff, or against the computed availability needs a justification; all of it is
recorded in the history, and ``over_budget``, ``estimated_hours`` and ``earliest_start`` go to
the diagram's data for its gateways.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validates_schema

from app.handlers.base import (
    MAX_AMOUNT,
    Amount,
    FormSchema,
    TaskHandler,
    in_range,
    length,
    one_of,
    require_when,
)
from app.tenancy.clock import tenant_of

DECISIONS = [
    ("approve", _l("Approve")),
    ("reject", _l("Reject")),
    ("return", _l("Return for more information")),
]
MAX_HOURS = 10000


class EvaluateSchema(FormSchema):
    decision = fields.String(
        required=True,
        validate=one_of([d for d, _ in DECISIONS]),
        metadata={"label": _l("Decision"), "choices": DECISIONS, "widget": "radio"},
    )
    estimated_cost = Amount(
        validate=in_range(min=0, max=MAX_AMOUNT),
        metadata={"label": _l("Estimated cost"), "help": _l("Required when approving.")},
    )
    estimated_hours = Amount(
        validate=in_range(min=0, max=MAX_HOURS),
        metadata={"label": _l("Estimated hours of work"),
                  "help": _l("Required when approving.")},
    )
    staff_available = fields.Boolean(
        metadata={"label": _l("Staff available"), "widget": "yesno",
                  "help": _l("Computed from the workers' open tickets; change it only with "
                             "a justification.")},
    )
    justification = fields.String(
        validate=length(max=2000),
        metadata={"label": _l("Justification"), "widget": "textarea",
                  "help": _l("Required when approving over budget, with no staff available, "
                             "or against the computed staff availability.")},
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
            if data.get("estimated_hours") is None:
                errors["estimated_hours"] = [str(_l("Give the estimated hours of work."))]
            if errors:
                raise ValidationError(errors)


def justification_needed(assessed, staff_available: bool) -> list:
    """Why an approval with this assessment needs a justification (empty: it does not)."""
    reasons = []
    if assessed.over_budget:
        reasons.append(_l("it goes over the budget"))
    if not staff_available:
        reasons.append(_l("no staff is available"))
    if staff_available != assessed.staff_available:
        reasons.append(_l("it overrides the computed staff availability"))
    return reasons


class EvaluateHandler(TaskHandler):
    name = "evaluate"
    title = _l("Evaluate viability")
    submit_label = _l("Send decision")
    schema = EvaluateSchema

    def event(self, data):
        return {"approve": "request.approved", "reject": "request.rejected",
                "return": "request.returned"}.get(data["decision"])

    def check(self, ctx, data):
        if data["decision"] != "approve":
            return
        from app.viability import assessment

        assessed = assessment.assess(ctx.request, cost=data["estimated_cost"],
                                     hours=data["estimated_hours"], lock=True,
                                     with_similar=False)
        computed = assessed.staff_available
        given = data.get("staff_available")
        staff_available = computed if given is None else given
        reasons = justification_needed(assessed, staff_available)
        if reasons and not (data.get("justification") or "").strip():
            message = _l("Give a justification: %(reasons)s.",
                         reasons=", ".join(str(r) for r in reasons))
            raise ValidationError({"justification": [str(message)]})
        if not reasons:
            data.pop("justification", None)
        data["staff_available"] = staff_available
        if staff_available != computed:
            data["staff_computed"] = computed
        data["over_budget"] = assessed.over_budget
        data["earliest_start"] = assessed.earliest_start
        data["committed_on"] = assessed.on
        if assessed.budget is not None:
            data["budget_left_after"] = assessed.left_after

    def describe(self, ctx, data):
        described = super().describe(ctx, data)
        if data["decision"] != "approve":
            for name in ("estimated_cost", "estimated_hours", "staff_available",
                         "justification"):
                described.pop(name, None)
        return described

    samples = (
        {"decision": "approve", "estimated_cost": 0.0, "estimated_hours": 0.0,
         "staff_available": True, "over_budget": False, "earliest_start": "2026-01-05",
         "over_budget_approval": False},
        {"decision": "approve", "estimated_cost": 1500.5, "estimated_hours": 12.5,
         "staff_available": False, "over_budget": True, "earliest_start": None,
         "over_budget_approval": True},
        {"decision": "approve", "estimated_cost": 1500.5, "estimated_hours": 4.0,
         "staff_available": True, "over_budget": True, "earliest_start": "2026-01-05",
         "over_budget_approval": False},
        {"decision": "reject", "estimated_cost": None, "estimated_hours": None,
         "staff_available": None, "over_budget": False, "earliest_start": None,
         "over_budget_approval": False},
        {"decision": "return", "estimated_cost": None, "estimated_hours": None,
         "staff_available": None, "over_budget": False, "earliest_start": None,
         "over_budget_approval": False},
    )

    def apply(self, ctx, data):
        req = ctx.request
        approved = data["decision"] == "approve"
        if approved:
            req.estimated_cost = data["estimated_cost"]
            req.estimated_hours = data["estimated_hours"]
            req.staff_available = data["staff_available"]
            req.committed_on = data["committed_on"]
        else:  # nothing stays committed until approved again
            req.committed_on = None
        start = data.get("earliest_start")
        return {
            "decision": data["decision"],
            "estimated_cost": float(data["estimated_cost"]) if approved else None,
            "estimated_hours": float(data["estimated_hours"]) if approved else None,
            "staff_available": data.get("staff_available") if approved else None,
            "over_budget": bool(data.get("over_budget")),
            "earliest_start": start.isoformat() if start is not None else None,
            "over_budget_approval": bool(tenant_of(req).setting("over_budget_approval")),
        }
