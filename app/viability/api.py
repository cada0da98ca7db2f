"""Budgets and hourly rates over the API: /api/v1/admin/budgets and /api/v1/admin/hourly-rates.
The same rules (``budget_edits``, ``rates``) and policy as the pages: budgets for tenant admins
(every service unit) and directors (their units); rates for tenant admins. Amounts are decimal
strings in the company's currency; numbers are accepted on input, never stored as floats."""

from flask import abort, request
from marshmallow import Schema, ValidationError, fields, validate

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_responses
from app.extensions import db
from app.models import Tenant, User
from app.viability import budget_edits, budgets, rates
from app.viability.models import PERIODS, Budget

blp = Blueprint("api_budgets", __name__, url_prefix="/api/v1/admin",
                description="Budgets of the service units (tenant admins; directors for their "
                            "units) and hourly rates (tenant admins)")

NOT_A_MANAGER = "Only tenant admins and service directors manage budgets."


_doc = problem_responses(blp, {
    403: "The caller's role may not (or the company is suspended, past its plan)",
    404: "No such budget among those the caller manages",
    422: "Invalid data: messages by field; nothing changed",
})


class Money(fields.Decimal):
    """An amount: a decimal string ("1500000.50") or a JSON number, at most 2 decimals."""

    default_error_messages = {"places": "At most 2 decimals."}

    def __init__(self, **kwargs):
        kwargs.setdefault("as_string", True)
        kwargs.setdefault("metadata", {}).setdefault("type", "string")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        if number is not None and number.is_finite() \
                and number.normalize().as_tuple().exponent < -2:  # e.g. 10.005
            raise self.make_error("places")
        return number


# --- schemas ---------------------------------------------------------------------------------

class BudgetOut(Schema):
    id = fields.Integer()
    service_unit_id = fields.Integer()
    service_unit_name = fields.String()
    category_id = fields.Integer(allow_none=True)
    category_name = fields.String(allow_none=True)
    requesting_unit_id = fields.Integer(allow_none=True)
    requesting_unit_name = fields.String(allow_none=True)
    period = fields.String(metadata={"description": "month, quarter or year"})
    starts_on = fields.Date()
    ends_on = fields.Date(metadata={"description": "The period's last day, included"})
    amount = Money()
    committed = Money(metadata={"description": "Estimated cost of the approved requests it "
                                               "covers whose ticket has no actual cost yet"})
    spent = Money(metadata={"description": "Actual cost of their finished tickets"})
    left = Money(metadata={"description": "amount - committed - spent (negative: over)"})
    requests = fields.Integer(metadata={"description": "Requests holding an amount in it"})
    currency = fields.String(metadata={"description": "ISO 4217, the company's setting"})
    note = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class BudgetArgs(PageArgs):
    service_unit_id = Id()
    period = fields.String(validate=validate.OneOf(PERIODS))
    year = fields.Integer(validate=validate.Range(min=1900, max=9999),
                          metadata={"description": "Budgets whose period is in this year"})


class BudgetPatch(Schema):
    service_unit_id = Id(metadata={"description": "A service unit the caller manages"})
    category_id = Id(allow_none=True, metadata={
        "description": "A category the service unit attends; null: every category"})
    requesting_unit_id = Id(allow_none=True, metadata={
        "description": "A unit of the company; null: every requesting unit"})
    period = fields.String(validate=validate.OneOf(PERIODS))
    starts_on = fields.Date(metadata={
        "description": "The period's first day: the 1st of a month; a quarter's in January, "
                       "April, July or October; a year's on 1 January"})
    amount = Money(metadata={"description": "0 to 999999999999.99"})
    note = fields.String(validate=validate.Length(max=500))


class BudgetIn(BudgetPatch):
    service_unit_id = Id(required=True)
    category_id = Id(allow_none=True, load_default=None)
    requesting_unit_id = Id(allow_none=True, load_default=None)
    period = fields.String(required=True, validate=validate.OneOf(PERIODS))
    starts_on = fields.Date(required=True)
    amount = Money(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class RateOut(Schema):
    id = fields.Integer()
    name = fields.String()
    hourly_rate = Money(allow_none=True)


class WorkerRateOut(RateOut):
    email = fields.String()
    service_unit_ids = fields.List(fields.Integer())


class RatesOut(Schema):
    currency = fields.String()
    service_units = fields.List(fields.Nested(RateOut))
    workers = fields.Nested(page_schema(WorkerRateOut, "WorkerRatePage"))


class RateIn(Schema):
    id = Id(required=True)
    hourly_rate = Money(required=True, allow_none=True,
                        metadata={"description": "0 to 9999999999.99; null: none"})


class RatesIn(Schema):
    service_units = fields.List(fields.Nested(RateIn), load_default=list,
                                validate=validate.Length(max=1000))
    workers = fields.List(fields.Nested(RateIn), load_default=list,
                          validate=validate.Length(max=1000))


# --- budgets ---------------------------------------------------------------------------------

def _managers_only():
    if not policy.can_manage_budgets(caller()):
        abort(403, NOT_A_MANAGER)


def _budget_or_404(budget_id: int) -> Budget:
    _managers_only()
    budget = budget_edits.find(caller(), budget_id, to_change=request.method != "GET")
    if budget is None:
        abort(404, "No such budget.")
    return budget


def _currency() -> str:
    return db.session.get(Tenant, caller().tenant_id).setting("currency")


def _out(budget: Budget, figures: budgets.Figures, currency: str) -> dict:
    return {
        "id": budget.id, "service_unit_id": budget.service_unit_id,
        "service_unit_name": budget.service_unit.name,
        "category_id": budget.category_id,
        "category_name": budget.category.name if budget.category else None,
        "requesting_unit_id": budget.requesting_unit_id,
        "requesting_unit_name": budget.requesting_unit.name if budget.requesting_unit
        else None,
        "period": budget.period, "starts_on": budget.starts_on, "ends_on": budget.ends_on,
        "note": budget.note, "created_at": budget.created_at, "updated_at": budget.updated_at,
        "currency": currency, **figures.as_dict(),
    }


def _refused(exc: budgets.BudgetError):
    db.session.rollback()
    return problem(422, "The data sent is not valid.", errors=exc.errors)


@blp.route("/budgets")
@blp.arguments(BudgetArgs, location="query")
@blp.response(200, page_schema(BudgetOut, "BudgetPage"))
@_doc(403)
def list_budgets(args):
    """The budgets the caller manages, newest period first, with their figures"""
    _managers_only()
    stmt = budget_edits.search(caller(), service_unit_id=args.get("service_unit_id"),
                               period=args.get("period"), year=args.get("year"))
    page = paginate(stmt, args, model=Budget, load=budget_edits.LIST_LOAD)
    figures, currency = budgets.figures(page["items"]), _currency()
    page["items"] = [_out(b, figures[b.id], currency) for b in page["items"]]
    return page


@blp.route("/budgets", methods=["POST"])
@blp.arguments(BudgetIn)
@blp.response(201, BudgetOut)
@_doc(403, 422)
def create_budget(data):
    """Create a budget (refused when another of the same scope covers part of the period);
    an audit entry records it"""
    _managers_only()
    try:
        budget = budget_edits.create(caller(), budgets.BudgetInput(**data))
    except budgets.BudgetError as exc:
        return _refused(exc)
    db.session.commit()
    return _out(budget, budgets.figures_of(budget), _currency())


@blp.route("/budgets/<int:budget_id>")
@blp.response(200, BudgetOut)
@_doc(403, 404)
def get_budget(budget_id):
    """One budget with its figures"""
    budget = _budget_or_404(budget_id)
    return _out(budget, budgets.figures_of(budget), _currency())


def _save(budget: Budget, data: dict):
    try:
        budget_edits.update(caller(), budget, budget_edits.input_of(budget, **data))
    except budgets.BudgetError as exc:
        return _refused(exc)
    db.session.commit()
    return _out(budget, budgets.figures_of(budget), _currency())


@blp.route("/budgets/<int:budget_id>", methods=["PUT"])
@blp.arguments(BudgetIn)
@blp.response(200, BudgetOut)
@_doc(403, 404, 422)
def put_budget(data, budget_id):
    """Replace a budget (every field); an audit entry records what changed"""
    return _save(_budget_or_404(budget_id), data)


@blp.route("/budgets/<int:budget_id>", methods=["PATCH"])
@blp.arguments(BudgetPatch)
@blp.response(200, BudgetOut)
@_doc(403, 404, 422)
def patch_budget(data, budget_id):
    """Change what is given; an audit entry records what changed"""
    return _save(_budget_or_404(budget_id), data)


@blp.route("/budgets/<int:budget_id>", methods=["DELETE"])
@blp.response(204)
@_doc(403, 404)
def delete_budget(budget_id):
    """Delete a budget only: its requests keep their costs, which then count in another
    budget of their scope, or in none"""
    budget_edits.delete(caller(), _budget_or_404(budget_id))
    db.session.commit()
    return None


# --- hourly rates ----------------------------------------------------------------------------

def _rates(args) -> dict:
    tenant_id = caller().tenant_id
    page = paginate(rates.workers(tenant_id), args, model=User, load=rates.WORKER_LOAD)
    page["items"] = [{"id": w.id, "name": w.name, "email": w.email,
                      "hourly_rate": w.hourly_rate,
                      "service_unit_ids": [u.id for u in rates.worker_units(w)]}
                     for w in page["items"]]
    return {"currency": _currency(), "workers": page,
            "service_units": [{"id": u.id, "name": u.name, "hourly_rate": u.hourly_rate}
                              for u in rates.service_units(tenant_id)]}


def _rate_setters_only():
    if not policy.can_set_rates(caller()):
        abort(403, "Only tenant admins set hourly rates.")


@blp.route("/hourly-rates")
@blp.arguments(PageArgs, location="query")
@blp.response(200, RatesOut)
@_doc(403)
def get_rates(args):
    """Each service unit's hourly rate and each worker's (a page of workers, by name)"""
    _rate_setters_only()
    return _rates(args)


@blp.route("/hourly-rates", methods=["PUT"])
@blp.arguments(RatesIn)
@blp.response(200, RatesOut)
@_doc(403, 422)
def put_rates(data):
    """Set the rates given (null: none); the others stay. Errors are keyed
    ``service_units.<id>`` / ``workers.<id>``; an audit entry per rate changed"""
    _rate_setters_only()
    unit_rates = {row["id"]: row["hourly_rate"] for row in data["service_units"]}
    worker_rates = {row["id"]: row["hourly_rate"] for row in data["workers"]}
    try:
        rates.apply(caller(), caller().tenant_id, unit_rates, worker_rates)
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The data sent is not valid.", errors=exc.messages)
    db.session.commit()
    return _rates({"page": 1, "per_page": 20})


def init_api(api) -> None:
    api.register_blueprint(blp)
