"""The viability panel of an evaluation page: the assessment for the estimate typed so far.

The page shows it when it opens (with the estimate of a form sent back with errors), and the
panel is fetched again as the director types (``GET /tasks/<id>/viability``), so the budget
left after this request and who could do it from when follow the figures in the form."""

from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.handlers.base import Amount
from app.handlers.evaluate import MAX_HOURS
from app.models import HistoryEvent, HumanTask, User
from app.tenancy import clock
from app.viability import assessment, budgets

PANEL_HANDLERS = ("evaluate", "approve_over_budget")
MAX_COST = Decimal(10**12)


def shows_panel(user: User, task: HumanTask) -> bool:
    return (task.status == "open" and any(h in task.handler_list for h in PANEL_HANDLERS)
            and policy.can_view_viability(user, task.request))


def typed_amount(value, most: Decimal) -> Decimal | None:
    """An amount as the person typed it so far ("1.500.000", "12,5"), or None when it is not
    one yet (empty, half typed, negative or absurd): the panel then shows what it can."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Amount(allow_none=True).deserialize(value)
    except ValidationError:
        return None
    if amount is None or not amount.is_finite() or amount < 0 or amount > most:
        return None
    return amount


def context(user: User, task: HumanTask, values: dict | None = None) -> dict:
    """What ``viability/_panel.html`` needs; ``values``: the form as typed (may be empty)."""
    req = task.request
    values = values or {}
    cost = typed_amount(values.get("estimated_cost"), MAX_COST)
    hours = typed_amount(values.get("estimated_hours"), Decimal(MAX_HOURS))
    if "approve_over_budget" in task.handler_list and cost is None:
        cost, hours = req.estimated_cost, req.estimated_hours  # what the director approved
    assessed = assessment.assess(req, cost=cost, hours=hours)
    second = "approve_over_budget" in task.handler_list
    return {
        "assessed": assessed,
        # The tenant admin's second approval: what the director decided, and why
        "approval": _director_approval(req) if second else None,
        "second_approval_on": not second and bool(
            clock.tenant_of(req).setting("over_budget_approval")),
        "can_manage_budgets": policy.can_manage_budgets(user, req.service_unit_id),
        "similar_visible": _visible_similar(user, assessed),
        "zero": budgets.ZERO,
        "task": task,
    }


def _director_approval(req) -> HistoryEvent | None:
    """The evaluation that approved ``req`` (the latest), with its actor."""
    return db.session.scalars(
        select(HistoryEvent).where(HistoryEvent.tenant_id == req.tenant_id,
                                   HistoryEvent.request_id == req.id,
                                   HistoryEvent.action == "evaluate")
        .order_by(HistoryEvent.id.desc()).limit(1)).first()


def _visible_similar(user: User, assessed) -> list:
    if assessed.similar is None:
        return []
    return [r for r in assessed.similar.latest if policy.can_view_request(user, r)]
