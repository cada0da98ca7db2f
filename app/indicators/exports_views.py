"""Downloads of an indicators view, under /indicators/export: ``requests.<fmt>``,
``tickets.<fmt>`` and ``figures.<fmt>`` (fmt ``csv`` or ``xlsx``), with the page's query
parameters (period, unit, service unit, category, priority, worker). Thin: parse the filters
for the person (``filters.parse``: their scope; 404/422 for a value outside it or not valid;
404 for someone who sees no indicators, as on the page), build the table, stream it. Nothing
is written, so nothing is committed."""

from flask import Blueprint, abort, request
from flask_login import current_user

from app.extensions import login_manager
from app.indicators import exports, exports_figures, exports_formats
from app.indicators import filters as flt

bp = Blueprint("indicators_exports", __name__, url_prefix="/indicators/export")


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def view_filters() -> flt.Filters:
    try:
        return flt.parse(current_user, request.args)
    except flt.FilterError as exc:
        abort(exc.status, str(exc.message))
    except PermissionError:
        abort(404)  # as the page: who sees no indicators finds nothing here


def _format(fmt: str) -> str:
    if fmt not in exports_formats.FORMATS:
        abort(404)
    return fmt


def _one_table(build, fmt: str):
    """A download of one table: the format checked, then the view's, then the table."""
    fmt = _format(fmt)
    table = build(current_user, view_filters())
    return exports_formats.response([table], fmt, table.stem)


@bp.get("/requests.<fmt>")
def requests(fmt):
    return _one_table(exports.requests_table, fmt)


@bp.get("/tickets.<fmt>")
def tickets(fmt):
    return _one_table(exports.tickets_table, fmt)


@bp.get("/figures.<fmt>")
def figures(fmt):
    fmt = _format(fmt)
    f = view_filters()
    sheets, whole = exports_figures.figures_tables(current_user, f)
    return exports_formats.response(sheets, fmt, whole.stem, single=whole)


def init_app(app) -> None:
    app.register_blueprint(bp)
