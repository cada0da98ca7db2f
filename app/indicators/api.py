"""The indicators over the API: ``GET /api/v1/indicators``, the same figures and filters as
the page (``data.indicators``), scoped by the same rule (``filters``): tenant admins the whole
company, directors their service units, unit heads their units; anyone else 403. A filter
outside the caller's scope or company is 404, a bad one 422, both by field."""

from flask import request
from flask_babel import force_locale
from marshmallow import Schema, fields, pre_load, validate

from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.indicators import data, filters
from app.kinds import KINDS
from app.models import PRIORITIES

blp = Blueprint("api_indicators", __name__, url_prefix="/api/v1",
                description="Service indicators: volumes, rates, lead times, backlog, SLA "
                            "compliance, workload, cost and satisfaction")


class IndicatorArgs(Schema):
    """The view: a preset period or from/to (company dates, both included, at most three
    years), and filters that narrow what the caller may see."""

    preset = fields.String(validate=validate.OneOf(list(filters.PRESETS)),
                           metadata={"description": "A named period (default last_30_days)"})
    # Read by filters.parse from the raw query: declared here for the document only
    from_ = fields.Date(data_key="from", metadata={"description": "First day (YYYY-MM-DD)"})
    to = fields.Date(metadata={"description": "Last day (YYYY-MM-DD), included"})
    unit_id = fields.Integer(metadata={"description": "Requesting unit"})
    service_unit_id = fields.Integer(metadata={"description": "Service unit attending"})
    category_id = fields.Integer()
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={
        "description": "Kind of work of the requests (`request`, `incident`, `change`, "
                       "`security_incident`)"})
    worker_id = fields.Integer(metadata={"description": "Worker of the ticket"})

    @pre_load
    def _empty_is_absent(self, data, **kwargs):
        """The page's form sends its empty fields (``unit_id=&from=``): no filter, as on the
        page, so a shared view's query string works here too."""
        return {key: value for key, value in data.items() if value != ""}


class Rate(Schema):
    value = fields.Float(allow_none=True, metadata={"description": "0..1; null: no decisions"})
    numerator = fields.Integer()
    denominator = fields.Integer()


class LeadTime(Schema):
    stage = fields.String(metadata={"description": "authorization, evaluation, assignment, "
                                                   "start, work, confirmation, resolution"})
    count = fields.Integer()
    median_minutes = fields.Float(allow_none=True, metadata={"description": "Business minutes"})
    p90_minutes = fields.Float(allow_none=True)


class SlaKind(Schema):
    kind = fields.String()
    met = fields.Integer()
    breached = fields.Integer()
    compliance = fields.Float(allow_none=True)
    mean_overrun_minutes = fields.Float(allow_none=True)
    open_breached = fields.Integer()


class Worker(Schema):
    worker_id = fields.Integer()
    name = fields.String()
    open_tickets = fields.Integer()
    hours_planned = fields.String()
    hours_spent = fields.String()
    available_hours = fields.String()
    utilization = fields.Float(allow_none=True)


class CostGroup(Schema):
    id = fields.Integer()
    name = fields.String()
    requests = fields.Integer()
    estimated_cost = fields.String(metadata={"description": "Exact decimal, 2 places"})
    actual_cost = fields.String()
    materials_cost = fields.String()
    estimated_hours = fields.String()
    hours_spent = fields.String()


class Indicators(Schema):
    """Every figure of the view; the README's "Indicators" section defines each."""

    filters = fields.Dict(metadata={"description": "The view as understood, with its bucket"})
    volumes = fields.Dict(metadata={"description": "buckets (first day of each), series and "
                                                   "totals per event kind"})
    rates = fields.Dict(keys=fields.String(), values=fields.Nested(Rate))
    lead_times = fields.List(fields.Nested(LeadTime))
    backlog = fields.Dict(metadata={"description": "Open requests now by status and age band"})
    overdue = fields.Dict()
    on_time = fields.Dict()
    sla = fields.List(fields.Nested(SlaKind))
    workload = fields.List(fields.Nested(Worker))
    cost = fields.Dict(metadata={"description": "total, by_category and by_unit "
                                                "(CostGroup each)"})
    satisfaction = fields.Dict()


NO_INDICATORS = "Only tenant admins, service directors and unit heads see indicators."


@blp.route("/indicators")
@blp.arguments(IndicatorArgs, location="query", as_kwargs=True)
@blp.response(200, Indicators)
@blp.alt_response(403, **problem_doc, description=NO_INDICATORS)
@blp.alt_response(404, **problem_doc,
                  description="A filter names something not in the caller's scope or company")
@blp.alt_response(422, **problem_doc, description="A bad filter: messages by field")
def indicators(**_args):
    """The indicators of a period, in the caller's scope"""
    user = caller()
    try:
        view = filters.parse(user, request.args)
    except PermissionError:
        return problem(403, NO_INDICATORS)
    except filters.FilterError as exc:
        with force_locale("en"):
            message = str(exc.message)
        return problem(exc.status, message, {exc.field: [message]})
    return data.indicators(user, view)


def init_api(api) -> None:
    api.register_blueprint(blp)
