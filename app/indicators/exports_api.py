"""The exports over the API, under /api/v1/exports: ``requests.csv|.xlsx``,
``tickets.csv|.xlsx`` and ``indicators.csv|.xlsx`` (the figures), with the query parameters
of ``GET /api/v1/indicators`` and the same scope (``filters``): tenant admins the whole
company, directors their service units, unit heads their units; anyone else 403. A filter
outside the caller's scope or company is 404, a bad one 422, both by field. Streamed, without
a row cap; labels in the token owner's language, dates in the company's zone
(``app.indicators.exports``)."""

from flask import request
from flask_babel import force_locale

from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.indicators import exports, exports_figures, exports_formats
from app.indicators import filters as flt
from app.indicators.api import NO_INDICATORS, IndicatorArgs

blp = Blueprint("api_exports", __name__, url_prefix="/api/v1/exports",
                description="Exports of the indicators' requests, tickets and figures as CSV "
                            "or XLSX, streamed without a row cap")

CONTENT = {
    "csv": (exports_formats.CSV_TYPE, {"type": "string"},
            "CSV (UTF-8 with a byte-order mark, comma-separated, RFC 4180); a text starting "
            "with = + - @, a tab or a carriage return gets a leading apostrophe"),
    "xlsx": (exports_formats.XLSX_TYPE, {"type": "string", "format": "binary"},
             "An Excel workbook, streamed as it is written (past 1,048,575 rows, or 2 GB of a "
             "sheet's XML, a sheet continues on another)"),
}
WHAT = {
    "requests": "The requests the filters select that were filed in the period, one row each "
                "with its ticket, milestones, stage lead times and SLA clocks",
    "tickets": "The tickets of the requests the filters select that were assigned (created) "
               "in the period, one row each with its request and SLA clocks",
    "indicators": "The figures of GET /api/v1/indicators, one row each: key (its path in the "
                  "JSON), figure (its name), value; a sheet per section in XLSX, a section "
                  "column in CSV",
}


def _filters():
    """The caller's view, or a problem answer."""
    try:
        return flt.parse(caller(), request.args), None
    except PermissionError:
        return None, problem(403, NO_INDICATORS)
    except flt.FilterError as exc:
        with force_locale("en"):
            message = str(exc.message)
        return None, problem(exc.status, message, {exc.field: [message]})


def _export(name: str, fmt: str):
    f, refused = _filters()
    if refused is not None:
        return refused
    user = caller()
    if name == "indicators":
        sheets, whole = exports_figures.figures_tables(user, f)
        return exports_formats.response(sheets, fmt, whole.stem, single=whole)
    table = (exports.requests_table if name == "requests" else exports.tickets_table)(user, f)
    return exports_formats.response([table], fmt, table.stem)


def _register(name: str, fmt: str) -> None:
    content_type, schema, described = CONTENT[fmt]

    def view(**_args):
        return _export(name, fmt)

    view.__name__ = f"{name}_{fmt}"
    view.__doc__ = f"{name.capitalize()} as {fmt.upper()}\n\n{WHAT[name]}. {described}."
    view = blp.alt_response(422, **problem_doc, description="A bad filter: messages by "
                                                             "field")(view)
    view = blp.alt_response(404, **problem_doc, description="A filter names something not "
                                                             "in the caller's scope or "
                                                             "company")(view)
    view = blp.alt_response(403, **problem_doc, description=NO_INDICATORS)(view)
    view = blp.response(200, schema, content_type=content_type,
                        description=f"{WHAT[name]}: a file download")(view)
    view = blp.arguments(IndicatorArgs, location="query", as_kwargs=True)(view)
    blp.route(f"/{name}.{fmt}")(view)


for _name in ("requests", "tickets", "indicators"):
    for _fmt in exports_formats.FORMATS:
        _register(_name, _fmt)


def init_api(api) -> None:
    api.register_blueprint(blp)
