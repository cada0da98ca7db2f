"""The process heatmap page (/indicators/heatmap): a version of a process drawn by the
diagram viewer, each element coloured by where the time goes, with its figures beside it
(``heatmap.heatmap``); a second version side by side to compare. The same period and filters
as the indicators page, scoped by ``heatmap.view_of``; anyone who may not see it finds
nothing (404). The URL keeps the view, so it can be shared."""

from flask import Blueprint, abort, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.engine.validation import TASK_ROLES
from app.extensions import login_manager
from app.indicators import display, filters, heatmap
from app.labels import PRIORITY, ROLE, STEP, label
from app.services import definitions, trail
from app.services.processes import is_process_key

bp = Blueprint("indicators_heatmap", __name__, url_prefix="/indicators",
               template_folder="templates")
FILTER_FIELDS = ("preset", "from", "to", *filters.ID_FILTERS, "priority")
METRICS = (("median", _l("Median time")), ("p90", _l("90th percentile time")),
           ("passes", _l("Passes")), ("waiting", _l("Waiting now")))
KINDS = {"userTask": _l("Task"), "serviceTask": _l("Automatic step"),
         "exclusiveGateway": _l("Decision"), "parallelGateway": _l("Parallel paths"),
         "inclusiveGateway": _l("Decision"), "eventBasedGateway": _l("Decision"),
         "startEvent": _l("Start"), "endEvent": _l("End"), "boundaryEvent": _l("Timer or event"),
         "intermediateCatchEvent": _l("Wait"), "intermediateThrowEvent": _l("Event")}


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not heatmap.may_view(current_user):
        abort(404)
    return None


def _filter_args(args) -> dict:
    """As the indicators page: a period chosen from the list wins over the days."""
    wanted = {name: args.get(name, "") for name in FILTER_FIELDS if name in args}
    if (wanted.get("preset") or "").strip():
        wanted.pop("from", None)
        wanted.pop("to", None)
    return wanted


def _number(args, name: str) -> int | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:  # '²' is a digit too
        abort(404)
    return int(text)


def _form_values(f: filters.Filters | None, args) -> dict:
    if f is None:
        return {name: args.get(name, "") for name in FILTER_FIELDS}
    values = {"preset": f.preset or "", "from": f.start.isoformat(), "to": f.end.isoformat(),
              "priority": f.priority or ""}
    for name in filters.ID_FILTERS:
        value = getattr(f, name)
        values[name] = "" if value is None else str(value)
    return values


def _shown(figures: dict, definition) -> dict:
    """What the page draws of one version: its diagram (lanes named for readers) and
    figures, with the element names readers see."""
    lanes = {role: str(label(ROLE, role)) for role in TASK_ROLES}
    names = {e["id"]: str(label(STEP, e["name"])) if e["name"]
             else str(KINDS.get(e["kind"], e["id"])) for e in figures["elements"]}
    return {"xml": trail.lanes_named(definition.bpmn_xml, definition.checksum, lanes),
            "figures": figures, "names": names}


def _labels() -> dict:
    return {
        "passes": _l("%(count)s passes", count="%(count)s"),
        "onePass": _l("1 pass"),
        "times": _l("median %(median)s · p90 %(p90)s", median="%(median)s", p90="%(p90)s"),
        "waiting": _l("%(count)s waiting", count="%(count)s"),
        "cutShort": _l("%(count)s cut short", count="%(count)s"),
        "flow": _l("%(count)s×", count="%(count)s"),
        "minutes": _l("%(m)s min", m="%(m)s"),
        "hours": _l("%(h)s h", h="%(h)s"),
        "none": _l("No pass in the period"),
        "scaleTitle": _l("Colour scale"),
        "zoomIn": _l("Zoom in"), "zoomOut": _l("Zoom out"), "fit": _l("Fit the diagram"),
        "loadError": _l("The diagram could not be shown. Its figures are in the table."),
    }


@bp.get("/heatmap")
def page():
    args = request.args
    tenant_id = current_user.tenant_id
    key = (args.get("process_key") or "").strip() or definitions.DEFAULT_PROCESS_KEY
    if not is_process_key(key):
        abort(404)
    number, compare = _number(args, "version"), _number(args, "compare")
    definition = heatmap.find_version(tenant_id, key, number)
    other = heatmap.find_version(tenant_id, key, compare) if compare is not None else None
    if definition is None or (compare is not None and other is None):
        abort(404)
    errors, view, shown = {}, None, []
    status = 200
    try:
        view = heatmap.view_of(current_user, _filter_args(args))
    except PermissionError:
        abort(404)
    except filters.FilterError as err:
        errors, status = {err.field: err.message}, err.status
    if view is not None:
        shown = [_shown(heatmap.heatmap(view, d), d) for d in (definition, other) if d]
        g.page_scripts = True  # the diagrams (app/static/dist/heatmap.js)
    options = filters.options(current_user)
    page_html = render_template(
        "indicators/heatmap.html", key=key, definition=definition, other=other,
        keys=heatmap.process_keys(tenant_id), versions=heatmap.versions(tenant_id, key),
        view=view, shown=shown, errors=errors, values=_form_values(
            view.filters if view else None, args),
        options=options, whole_company=bool(view and view.whole_company),
        priority_choices=[(p, label(PRIORITY, p)) for p in options["priorities"]],
        metrics=METRICS, kind_label=lambda kind: KINDS.get(kind, kind),
        business_time=display.business_time,
        heatmap_config={"labels": {k: str(v) for k, v in _labels().items()},
                        "views": shown})
    return page_html, status, {"Cache-Control": "no-store"}


def init_app(app) -> None:
    app.register_blueprint(bp)
