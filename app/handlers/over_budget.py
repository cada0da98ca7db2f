"""A tenant admin's second approval of a request its director approved over budget (the
default process asks for it when the company's ``over_budget_approval`` setting is on)."""

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validates_schema

from app.handlers.base import FormSchema, TaskHandler, length, one_of, require_when

DECISIONS = [
    ("approve", _l("Approve over budget")),
    ("reject", _l("Reject")),
]


class OverBudgetSchema(FormSchema):
    budget_decision = fields.String(
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
    def _rules(self, data, **kwargs):
        require_when(data, "comment", data.get("budget_decision") == "reject",
                     _l("Explain the decision to the requester."))


class OverBudgetApprovalHandler(TaskHandler):
    name = "approve_over_budget"
    title = _l("Approve over budget")
    submit_label = _l("Send decision")
    schema = OverBudgetSchema

    samples = ({"budget_decision": "approve"}, {"budget_decision": "reject"})

    def event(self, data):
        return "request.rejected" if data["budget_decision"] == "reject" else None

    def apply(self, ctx, data):
        if data["budget_decision"] == "reject":  # what was committed is released
            ctx.request.committed_on = None
        return {"budget_decision": data["budget_decision"]}
