"""The process heatmap over the API: ``GET /api/v1/indicators/heatmap``, the figures the
heatmap page draws on the diagram (``heatmap.heatmap``), for one version of a process, with
the indicators' period and filters, scoped as the page is (``heatmap.view_of``): tenant
admins the whole company, directors their service units, unit heads their units, process
owners the whole company without unit, service-unit or worker filters; anyone else 403."""

from flask import request
from flask_babel import force_locale
from marshmallow import Schema, fields, validate

from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.indicators import filters, heatmap
from app.indicators.api import IndicatorArgs
from app.services import definitions
from app.services.processes import is_process_key

blp = Blueprint("api_indicators_heatmap", __name__, url_prefix="/api/v1",
                description="The process heatmap: per element of a process version, passes, "
                            "time spent (median and p90), requests waiting, and flows taken")

NO_HEATMAP = ("Only tenant admins, service directors, unit heads and process owners see the "
              "process heatmap.")
NO_VERSION = "No such process or version in the caller's company."


class HeatmapArgs(IndicatorArgs):
    """Which version, and the indicators' view (period and filters)."""

    process_key = fields.String(
        load_default=definitions.DEFAULT_PROCESS_KEY, validate=validate.Length(max=80),
        metadata={"description": "The process (default service_request)"})
    version = fields.Integer(validate=validate.Range(min=1, max=2_000_000_000), metadata={
        "description": "The version number (default: the active version)"})


class HeatElement(Schema):
    id = fields.String(metadata={"description": "The BPMN element id"})
    name = fields.String(metadata={"description": "Its name in the diagram"})
    kind = fields.String(metadata={"description": "userTask, serviceTask, exclusiveGateway, "
                                                  "boundaryEvent..."})
    passes = fields.Integer(metadata={"description": "Passes completed in the period"})
    requests = fields.Integer(metadata={"description": "Requests that completed a pass"})
    cut_short = fields.Integer(metadata={"description": "Passes ended otherwise in the "
                                                        "period (withdrawn, interrupted, "
                                                        "moved to another version)"})
    waiting = fields.Integer(metadata={"description": "Passes open now, begun before the "
                                                      "period ended"})
    median_minutes = fields.Float(allow_none=True, metadata={
        "description": "Median time of a completed pass (business minutes; wall-clock "
                       "minutes when the company has no business calendar)"})
    p90_minutes = fields.Float(allow_none=True, metadata={"description": "90th percentile"})
    sampled = fields.Boolean(metadata={"description": "The times are over the latest "
                                                      "`sample` passes only"})


class HeatFlow(Schema):
    id = fields.String()
    name = fields.String()
    source = fields.String()
    target = fields.String()
    taken = fields.Integer(metadata={"description": "Times taken in the period"})


class Heatmap(Schema):
    """The figures of one version in the view; the README's "Process heatmap" defines them."""

    filters = fields.Dict(metadata={"description": "The view as understood"})
    process_key = fields.String()
    version = fields.Integer()
    active = fields.Boolean()
    deployed_at = fields.String(allow_none=True)
    measure = fields.String(metadata={"description": "business or wall_clock"})
    sample = fields.Integer(metadata={"description": "Most passes per element the times are "
                                                     "computed over"})
    requests = fields.Integer(metadata={"description": "Requests with a pass ended in the "
                                                       "period"})
    elements = fields.List(fields.Nested(HeatElement))
    flows = fields.List(fields.Nested(HeatFlow))


@blp.route("/indicators/heatmap")
@blp.arguments(HeatmapArgs, location="query", as_kwargs=True)
@blp.response(200, Heatmap)
@blp.alt_response(403, **problem_doc, description=NO_HEATMAP)
@blp.alt_response(404, **problem_doc, description="No such process or version in the "
                                                  "caller's company, or a filter names "
                                                  "something outside the caller's scope")
@blp.alt_response(422, **problem_doc, description="A bad parameter: messages by field")
def heatmap_figures(process_key: str, version: int | None = None, **_args):
    """Where a process version's requests spend their time, in the caller's scope"""
    user = caller()
    if not heatmap.may_view(user):
        return problem(403, NO_HEATMAP)
    try:
        view = heatmap.view_of(user, request.args)
    except PermissionError:
        return problem(403, NO_HEATMAP)
    except filters.FilterError as exc:
        with force_locale("en"):
            message = str(exc.message)
        return problem(exc.status, message, {exc.field: [message]})
    found = (heatmap.find_version(user.tenant_id, process_key, version)
             if is_process_key(process_key) else None)
    if found is None:
        return problem(404, NO_VERSION, {"version" if version else "process_key": [NO_VERSION]})
    return heatmap.heatmap(view, found)


def init_api(api) -> None:
    api.register_blueprint(blp)
