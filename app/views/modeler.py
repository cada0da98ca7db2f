"""The browser modeler of a tenant's process (bpmn-js) and the JSON calls its page makes.

Process owners only; everyone else gets 404. Every read and write is scoped to the owner's
tenant. The page's script is bundled from frontend/modeler.js (``make assets``); its texts and
choices come from the template, so they follow the interface language.
"""

from pathlib import Path

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

from app import labels
from app.engine.validation import LANE_ROLES
from app.engine.xml import DiagramError
from app.extensions import db
from app.kinds import KINDS
from app.models import PRIORITIES, REQUEST_STATUSES, TICKET_STATUSES, ProcessDefinition
from app.models.tenant import DEFAULT_SETTINGS
from app.services import definitions, drafts, processes
from app.views.common import process_owners_only

bp = Blueprint("modeler", __name__, url_prefix="/processes")

BUNDLE = "dist/modeler.js"  # under app/static/, built by `make assets`
MAX_NOTE = 500
# The pages' JSON calls; the page itself answers errors with the usual HTML pages.
JSON_ENDPOINTS = {"modeler.diagram", "modeler.save_draft", "modeler.validate", "modeler.deploy"}

OPERATION_LABELS = {
    "create_ticket": _l("Create the ticket"),
    "set_status": _l("Set the request or ticket status"),
    "send_reminder": _l("Send a reminder"),
    "close_request": _l("Close the request"),
    "notify": _l("Send a notice (to a role, with a message of yours)"),
    "classify": _l("Classify by the company's rules (category, priority, service unit)"),
    "auto_assign": _l("Assign the least-loaded worker (result variable: assignment)"),
}
# Parameters each operation reads, offered as suggestions in the panel (any id may be typed).
OPERATION_PARAMETERS = {
    "set_status": ["request_status", "ticket_status"],
    "send_reminder": ["step"],
    "close_request": ["confirmed"],
    "notify": ["to", "template"],
}

# What the service desk itself writes into task data that a condition may read, for the
# panel's "Data you can use" (the diagram's own forms and service task results are added by
# the page, from the diagram). Values are written as in an expression; the steps writing them
# are the handlers' (see app/handlers/*.py, their ``apply``). The timer settings in task data
# are offered by the timer panel, and ``assignment`` is read by the create_ticket operation.
# tests/views/test_modeler.py keeps this in step with engine.forms.HOST_DATA_NAMES and with
# what validation accepts (handlers.registry.DATA_VOCABULARY); this list adds who writes each
# value and a description, for people.
UNLISTED_DATA_NAMES = {"authorization_reminder_after", "auto_close_after", "assignment",
                       # the change window (app.teams.window): what its timer reads
                       "window_start", "window_start_hour", "window_end", "window_time_zone",
                       "window_start_at"}


def _literals(values) -> list[str]:
    return [repr(value) for value in values]


def _category_field_names(process_key: str) -> list[dict]:
    """The fields of the company's categories following this process (app.request_fields):
    a request starts with its category's, the others None."""
    from app.request_fields import process as request_fields

    return [{"name": entry["name"],
             "description": _("Field \"%(label)s\" of the category: %(categories)s (None on "
                              "requests of other categories)", label=entry["label"],
                              categories=", ".join(entry["categories"])),
             "sources": [{"step": _("When the request is filed"), "values": entry["values"]}]}
            for entry in request_fields.known_names(current_user.tenant_id, process_key)]


def _data_names() -> list[dict]:
    """[{name, description, sources: [{step, values}]}], translated for the page."""
    from app.handlers import authorize, evaluate, over_budget
    from app.handlers.registry import TASK_HANDLERS

    def by(handler: str, values=()) -> dict:
        return {"step": str(TASK_HANDLERS[handler].title), "values": _literals(values)}

    filed = _("When the request is filed")
    return [
        {"name": "priority", "description": _("Priority of the request"),
         "sources": [{"step": filed, "values": _literals(PRIORITIES)}]},
        {"name": "requester_is_head",
         "description": _("True when the requester heads their unit (no authorization "
                          "needed)"),
         "sources": [{"step": filed, "values": _literals((True, False))}]},
        {"name": "decision", "description": _("The decision taken at the step"),
         "sources": [by("authorize", [d for d, _label in authorize.DECISIONS]),
                     by("evaluate", [d for d, _label in evaluate.DECISIONS])]},
        {"name": "estimated_cost",
         "description": _("Estimated cost, a number (None unless approved)"),
         "sources": [by("evaluate")]},
        {"name": "staff_available",
         "description": _("Whether staff is available (None unless approved)"),
         "sources": [by("evaluate", (True, False))]},
        {"name": "estimated_hours",
         "description": _("Estimated hours of work, a number (None unless approved)"),
         "sources": [by("evaluate")]},
        {"name": "over_budget",
         "description": _("True when the approval leaves its budget below zero"),
         "sources": [{"step": filed, "values": _literals((False,))},
                     by("evaluate", (True, False))]},
        {"name": "earliest_start",
         "description": _("The earliest day a worker could start, as text YYYY-MM-DD "
                          "(None when nobody can within a year)"),
         "sources": [by("evaluate")]},
        {"name": "over_budget_approval",
         "description": _("The company's setting: approvals over budget need a tenant "
                          "admin's approval too"),
         "sources": [{"step": filed, "values": _literals((True, False))},
                     by("evaluate", (True, False))]},
        {"name": "budget_decision", "description": _("The tenant admin's decision on an "
                                                     "approval over budget"),
         "sources": [by("approve_over_budget", [d for d, _label in over_budget.DECISIONS])]},
        {"name": "action", "description": _("What the worker did"),
         "sources": [by("hold", ["hold"]), by("finish", ["finish"])]},
        {"name": "rating", "description": _("The requester's rating"),
         "sources": [by("confirm", range(1, 6))]},
        {"name": "solved", "description": _("The requester's answer at the confirmation: "
                                            "False when not solved (the work goes back)"),
         "sources": [by("confirm", (True,)), by("reopen", (False,))]},
    ]


# The diagram a process without versions, draft or product default starts from.
NEW_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" \
xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" id="Definitions_{key}" \
targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="Start_{key}" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_{key}">
    <bpmndi:BPMNPlane id="BPMNPlane_{key}" bpmnElement="{key}">
      <bpmndi:BPMNShape id="Start_{key}_di" bpmnElement="Start_{key}">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


bp.before_request(process_owners_only)


@bp.errorhandler(HTTPException)
def _json_errors(error):
    """The JSON calls answer errors as JSON the page can show; the page keeps the HTML ones."""
    if request.endpoint not in JSON_ENDPOINTS:
        from app.views.pages import http_error

        return http_error(error)
    if isinstance(error, CSRFError):
        message = _("The security token of the page is missing or has expired. Reload the page "
                    "(copy your changes with Export first) and try again.")
    elif error.code == 404:
        message = _("Not found.")
    elif error.code == 413:
        message = _("The diagram is too large to send.")
    else:
        message = error.description
    return jsonify(error=message), error.code


def _problems(error: DiagramError) -> list[dict]:
    return [{"element_id": eid, "message": msg} for eid, msg in error.problems]


def _xml_from_body(*, note: bool = False) -> tuple[str, str]:
    """The ``xml`` (and ``note``) of a JSON body; 400 if the body is not what the page sends."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str) \
            or not body["xml"].strip():
        abort(400, _("The request must be JSON with the diagram's XML in \"xml\"."))
    text = body.get("note") or ""
    if note and (not isinstance(text, str) or len(text) > MAX_NOTE):
        abort(400, _("The note must be text of at most %(n)d characters.", n=MAX_NOTE))
    return body["xml"], text.strip() if note else ""


def _active_version(tenant_id: int, process_key: str) -> ProcessDefinition | None:
    return db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.tenant_id == tenant_id, ProcessDefinition.process_key == process_key,
        ProcessDefinition.is_active.is_(True)))


def _saved(moment) -> dict:
    """When something was saved: ISO 8601 for programs, and as the other pages show dates."""
    return {"saved_at": moment.isoformat(), "saved_when": labels.when(moment)}


def _url_or_none(endpoint: str, **values) -> str | None:
    """A link to the processes pages (another blueprint), if they are installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _page_config(process_key: str) -> dict:
    """What the page's script needs besides its texts: URLs, the CSRF token, choices."""
    from flask_wtf.csrf import generate_csrf

    from app.engine.forms import RESERVED_NAMES
    from app.handlers.registry import OPERATIONS, TASK_HANDLERS

    def endpoint(name):
        return url_for(f"modeler.{name}", process_key=process_key)

    return {
        "processKey": process_key,
        "csrfToken": generate_csrf(),
        "urls": {"diagram": endpoint("diagram"), "draft": endpoint("save_draft"),
                 "validate": endpoint("validate"), "deploy": endpoint("deploy"),
                 "versions": _url_or_none("processes.versions", process_key=process_key)},
        "maxNote": MAX_NOTE,
        "roles": [{"value": lane, "label": str(labels.ROLE[role])}
                  for lane, role in LANE_ROLES.items()],
        "handlers": [{"value": name, "label": str(handler.title or name)}
                     for name, handler in TASK_HANDLERS.items()],
        "kinds": [{"value": kind, "label": str(labels.KIND[kind])} for kind in KINDS],
        "requestStatuses": [{"value": s, "label": str(labels.STATUS.get(s, s))}
                            for s in REQUEST_STATUSES],
        "ticketStatuses": [{"value": s, "label": str(labels.STATUS.get(s, s))}
                           for s in TICKET_STATUSES],
        "operations": [{"value": name, "label": str(OPERATION_LABELS.get(name, name)),
                        "parameters": OPERATION_PARAMETERS.get(name, [])}
                       for name in OPERATIONS],
        "timerSettings": sorted(DEFAULT_SETTINGS),
        "reservedFieldNames": sorted(RESERVED_NAMES),
        "dataNames": _data_names() + _category_field_names(process_key),
    }


@bp.route("/<process_key>/modeler")
def page(process_key):
    g.page_scripts = True  # the CSP lets this page run the app's own scripts
    config = _page_config(process_key)
    return render_template(
        "processes/modeler.html", process_key=process_key, config=config,
        versions_url=config["urls"]["versions"],
        has_versions=bool(processes.versions(current_user.tenant_id, process_key)),
        index_url=_url_or_none("processes.index"),
        assets_built=(Path(current_app.static_folder) / BUNDLE).is_file())


@bp.route("/<process_key>/modeler/diagram")
def diagram(process_key):
    """The diagram to open: the draft, else the active version, else the product default."""
    tenant_id = current_user.tenant_id
    draft = drafts.get_draft(tenant_id, process_key)
    if draft is not None:
        return jsonify(xml=draft.bpmn_xml, source="draft", version=None,
                       **_saved(draft.updated_at),
                       saved_by=draft.updated_by.name if draft.updated_by else None)
    active = _active_version(tenant_id, process_key)
    if active is not None:
        return jsonify(xml=active.bpmn_xml, source="version", version=active.version,
                       **_saved(active.created_at), saved_by=None)
    try:
        xml, source = definitions.default_diagram(process_key), "default"
    except FileNotFoundError:
        xml, source = NEW_DIAGRAM.format(key=process_key), "new"
    return jsonify(xml=xml, source=source, version=None, saved_at=None, saved_when=None,
                   saved_by=None)


@bp.route("/<process_key>/modeler/draft", methods=["POST"])
def save_draft(process_key):
    xml, _note = _xml_from_body()
    try:
        draft = drafts.save_draft(current_user.tenant_id, process_key, xml, current_user)
    except DiagramError as exc:
        db.session.rollback()
        return jsonify(problems=_problems(exc)), 422
    db.session.commit()
    return jsonify(**_saved(draft.updated_at))


@bp.route("/<process_key>/modeler/validate", methods=["POST"])
def validate(process_key):
    xml, _note = _xml_from_body()
    try:
        definitions.check_diagram(xml, current_user.tenant_id, process_key)
    except DiagramError as exc:
        return jsonify(valid=False, problems=_problems(exc))
    return jsonify(valid=True, problems=[])


@bp.route("/<process_key>/modeler/deploy", methods=["POST"])
def deploy(process_key):
    xml, note = _xml_from_body(note=True)
    try:
        definition = processes.deploy(current_user.tenant_id, process_key, xml, current_user,
                                      note)
    except DiagramError as exc:
        db.session.rollback()
        return jsonify(problems=_problems(exc)), 422
    except processes.DeployConflict:
        db.session.rollback()
        return jsonify(error=_("Someone else deployed this process at the same moment. "
                               "Reload the page to see their version.")), 409
    db.session.commit()
    return jsonify(version=definition.version)
