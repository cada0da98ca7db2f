"""``GET /api/v1/requests/{id}/viability``: what the evaluation page shows, as JSON: the budget
the request would draw on (and what is left after it), similar past requests, and the staff
picture for an estimate of cost and hours. For the directors of its service unit and tenant
admins; amounts are decimal strings in the company's currency."""

from decimal import Decimal

from flask import abort
from marshmallow import Schema, ValidationError, fields

from app import policy
from app.api.common import Blueprint, caller, scoped_or_404
from app.api.errors import problem, problem_doc
from app.handlers.evaluate import MAX_HOURS
from app.models import ServiceRequest
from app.tenancy import clock
from app.viability import assessment, staff
from app.viability.costs import CENT
from app.viability.panel import MAX_COST

blp = Blueprint("api_viability", __name__, url_prefix="/api/v1/requests",
                description="Viability of a request: budget, similar requests, staff")


def _between(most: int):
    """0..most; a plain function, not ``validate.Range``, which apispec writes into the
    document as strings for a Decimal field (the limits are given as numbers instead)."""
    def check(value):
        if not 0 <= value <= most:
            raise ValidationError(f"Must be between 0 and {most}.")
    return check


class Estimate(fields.Decimal):
    """An estimate in the query: a decimal with at most 2 decimals, as the forms take it
    (e.g. "1e-999999999" or "0.001" is refused, not echoed back with its 999999999 places)."""

    default_error_messages = {"places": "At most 2 decimals."}

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)  # finite, or refused
        if abs(number) > MAX_COST:
            return number  # _between refuses it
        cents = number.quantize(CENT)
        if cents != number:
            raise self.make_error("places")
        # As typed ("10", "12.5"), unless written with an exponent ("0E-1000", "1E+5")
        return number if -2 <= number.as_tuple().exponent <= 0 else cents


class ViabilityArgs(Schema):
    estimated_cost = Estimate(
        validate=_between(int(MAX_COST)),
        metadata={"minimum": 0, "maximum": int(MAX_COST),
                  "description": "The cost to weigh (decimal, the company's currency); "
                                 "default: the request's estimate, if any"})
    estimated_hours = Estimate(
        validate=_between(MAX_HOURS),
        metadata={"minimum": 0, "maximum": MAX_HOURS,
                  "description": "Hours of work to place; default: the request's estimate"})
    start = fields.Date(metadata={"description": "No earlier than this day (default: today "
                                                 "in the company's time zone)"})


class ViabilityBudgetOut(Schema):
    id = fields.Integer()
    service_unit_id = fields.Integer()
    category_id = fields.Integer(allow_none=True)
    requesting_unit_id = fields.Integer(allow_none=True)
    period = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    amount = fields.String()
    committed = fields.String()
    spent = fields.String()
    left = fields.String()
    own = fields.String(metadata={"description": "What this request already holds in it"})
    left_after = fields.String(allow_none=True, metadata={
        "description": "Left once this estimate is committed (null without a cost)"})
    over_budget = fields.Boolean()


class SimilarRequestOut(Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    actual_cost = fields.String(allow_none=True)
    hours_spent = fields.String(allow_none=True)
    estimated_cost = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)


class SimilarOut(Schema):
    count = fields.Integer(metadata={"description": "Finished requests of the category the "
                                                    "medians are taken from (the latest 50)"})
    median_cost = fields.String(allow_none=True)
    median_hours = fields.String(allow_none=True)
    latest = fields.List(fields.Nested(SimilarRequestOut))


class StaffWindowOut(Schema):
    worker_id = fields.Integer()
    start = fields.Date()
    end = fields.Date()
    hours = fields.String()


class StaffDayOut(Schema):
    date = fields.Date()
    capacity = fields.String()
    free = fields.String()


class StaffWorkerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    open_tickets = fields.Integer()
    free_hours = fields.String(metadata={"description": "In the working days shown"})
    earliest = fields.Nested(StaffWindowOut, allow_none=True)
    days = fields.List(fields.Nested(StaffDayOut))


class StaffOut(Schema):
    available = fields.Boolean(metadata={
        "description": "Someone can finish the estimated hours within the next "
                       f"{staff.HORIZON_WORKING_DAYS} working days (without hours: someone "
                       "has free time in them)"})
    earliest = fields.Nested(StaffWindowOut, allow_none=True)
    horizon_working_days = fields.Integer()
    workers = fields.List(fields.Nested(StaffWorkerOut))


class ViabilityOut(Schema):
    request_id = fields.Integer()
    on = fields.Date(metadata={"description": "Today in the company's time zone: the budget "
                                              "date an approval now would take"})
    currency = fields.String()
    estimated_cost = fields.String(allow_none=True)
    estimated_hours = fields.String(allow_none=True)
    budget = fields.Nested(ViabilityBudgetOut, allow_none=True)
    similar = fields.Nested(SimilarOut)
    staff = fields.Nested(StaffOut)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _window(window) -> dict | None:
    if window is None:
        return None
    return {"worker_id": window.worker_id, "start": window.start, "end": window.end,
            "hours": str(window.hours)}


def _budget(assessed) -> dict | None:
    budget, fig = assessed.budget, assessed.figures
    if budget is None:
        return None
    return {"id": budget.id, "service_unit_id": budget.service_unit_id,
            "category_id": budget.category_id, "requesting_unit_id": budget.requesting_unit_id,
            "period": budget.period, "starts_on": budget.starts_on, "ends_on": budget.ends_on,
            "amount": str(fig.amount), "committed": str(fig.committed), "spent": str(fig.spent),
            "left": str(fig.left), "own": str(assessed.own),
            "left_after": _text(assessed.left_after), "over_budget": assessed.over_budget}


def as_json(req: ServiceRequest, assessed) -> dict:
    user = caller()
    visible = {r.id for r in assessed.similar.latest if policy.can_view_request(user, r)}
    return {
        "request_id": req.id, "on": assessed.on, "currency": assessed.currency,
        "estimated_cost": _text(assessed.estimated_cost),
        "estimated_hours": _text(assessed.hours),
        "budget": _budget(assessed),
        "similar": assessed.similar.as_dict(visible),
        "staff": {
            "available": assessed.staff_available,
            "earliest": _window(assessed.earliest),
            "horizon_working_days": staff.HORIZON_WORKING_DAYS,
            "workers": [{
                "id": w.worker_id, "name": w.name, "open_tickets": w.open_bookings,
                "free_hours": str(w.free_total), "earliest": _window(w.earliest),
                "days": [{"date": d, "capacity": str(c), "free": str(f)} for d, c, f in w.days],
            } for w in assessed.staff],
        },
    }


MAX_START_AHEAD_DAYS = 366


@blp.route("/<int:request_id>/viability")
@blp.arguments(ViabilityArgs, location="query")
@blp.response(200, ViabilityOut)
@blp.alt_response(403, **problem_doc, description="The caller may see the request but not "
                                                  "its budget and staff (requesters, heads)")
@blp.alt_response(404, **problem_doc, description="No such request among the caller's")
@blp.alt_response(422, **problem_doc, description="Invalid estimate or start")
def viability(args, request_id: int):
    """The budget, similar requests and staff picture of a request, for an estimate"""
    req = scoped_or_404(ServiceRequest, request_id)
    user = caller()
    if not policy.can_view_request(user, req):
        abort(404)
    if not policy.can_view_viability(user, req):
        return problem(403, "Only the directors of the request's service unit and tenant "
                            "admins see its budget and staff.")
    start = args.get("start")
    today = clock.today(clock.tenant_of(req))
    if start is not None and abs((start - today).days) > MAX_START_AHEAD_DAYS:
        return problem(422, "The data sent is not valid.",
                       {"start": ["Within a year of today."]})
    cost = args.get("estimated_cost", req.estimated_cost)
    hours = args.get("estimated_hours", req.estimated_hours)
    assessed = assessment.assess(req, cost=cost, hours=hours, start=start)
    return as_json(req, assessed)


def init_api(api) -> None:
    api.register_blueprint(blp)
