"""The indicators page (/indicators): where the service stands, for tenant admins (the whole
company), service directors (their service units) and unit heads (their units); anyone else
finds nothing (404). Thin: read the filters (``filters.parse``: a value outside what the
person may see is refused, never answered with zeros), read the figures
(``data.indicators``), show them. The URL keeps the filters, so a view can be shared."""

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from app.extensions import login_manager
from app.indicators import data, display, filters, labels
from app.labels import KIND, PRIORITY, label

bp = Blueprint("indicators", __name__, url_prefix="/indicators", template_folder="templates")
FORM_FIELDS = ("preset", "from", "to", *filters.ID_FILTERS, "priority", "kind")
# What the exports (app.indicators.exports_views) offer, by endpoint of that blueprint
EXPORTS = (("requests", _l("Requests")), ("tickets", _l("Tickets")),
           ("figures", _l("Figures")))
EXPORT_FORMATS = (("csv", "CSV"), ("xlsx", "XLSX"))


def visible(user) -> bool:
    """Whether ``user`` sees any indicators (the menu shows them the link): the same scope
    ``filters.parse`` reads."""
    return bool(user and user.is_authenticated and not filters.scope_of(user).empty)


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.context_processor
def _labels():
    return {"volume_labels": labels.VOLUME, "rate_labels": labels.RATE,
            "stage_labels": labels.STAGE, "stage_spans": labels.STAGE_SPAN,
            "band_labels": labels.BAND, "business_time": display.business_time}


def _no_store(page, status=200):
    return page, status, {"Cache-Control": "no-store"}


def _page_args(args) -> dict:
    """The form's fields (a period chosen from the list wins over the days below it, in
    ``filters.parse`` for the page and the API alike)."""
    return {name: args.get(name, "") for name in FORM_FIELDS if name in args}


def _form_values(f: filters.Filters) -> dict:
    values = {"preset": f.preset or "", "from": f.start.isoformat(), "to": f.end.isoformat(),
              "priority": f.priority or "", "kind": f.kind or ""}
    for name in filters.ID_FILTERS:
        value = getattr(f, name)
        values[name] = "" if value is None else str(value)
    return values


def _optional_url(endpoint: str, **values) -> str | None:
    """The URL of a page another part of the indicators adds (the exports of
    ``exports_views``, the heatmap of ``heatmap_views``); None while it is not registered,
    so this page never fails for want of it."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _exports(f: filters.Filters) -> list:
    found = []
    for name, title in EXPORTS:
        links = [(text, _optional_url(f"indicators_exports.{name}", fmt=fmt, **f.query_args()))
                 for fmt, text in EXPORT_FORMATS]
        links = [(text, url) for text, url in links if url]
        if links:
            found.append((title, links))
    return found


def _page(values: dict, errors: dict, status: int = 200, **shown):
    options = filters.options(current_user)
    return _no_store(render_template(
        "indicators/index.html", values=values, errors=errors, options=options,
        priority_choices=[(p, label(PRIORITY, p)) for p in options["priorities"]],
        kind_choices=[(k, label(KIND, k)) for k in options["kinds"]], **shown),
        status)


@bp.get("")
def index():
    try:
        f = filters.parse(current_user, _page_args(request.args))
    except PermissionError:
        abort(404)
    except filters.FilterError as err:
        typed = {name: request.args.get(name, "") for name in FORM_FIELDS}
        return _page(typed, {err.field: err.message}, err.status, figures=None)
    figures = data.indicators(current_user, f, locale=g.get("locale"))
    g.page_scripts = True  # the charts (app/static/dist/indicators.js)
    backlog_statuses = display.lifecycle_order(list(figures["backlog"]["by_status"]))
    return _page(
        _form_values(f), {}, f=f, figures=figures, statuses=backlog_statuses,
        charts=display.charts(figures, f.bucket, current_user.tenant.setting("currency")),
        bucket_heading=display.bucket_heading(f.bucket),
        bucket_labels=[display.bucket_label(f.bucket, b)
                       for b in figures["volumes"]["buckets"]],
        exports=_exports(f), heatmap_url=_optional_url("indicators_heatmap.page",
                                                       **f.query_args()))


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.context_processor(lambda: {"can_view_indicators": visible})
