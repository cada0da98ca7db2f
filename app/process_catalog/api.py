"""The catalog in the API (process owners only): the templates, adopting one, and the incident
priority matrix."""

from flask import abort
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.engine.xml import DiagramError
from app.extensions import db
from app.models import Tenant
from app.process_catalog import adoption, matrix, settings, templates
from app.process_catalog.views import adopt_message
from app.services import processes
from app.tenancy.quotas import QuotaExceeded

blp = Blueprint("api_process_catalog", __name__, url_prefix="/api/v1/processes",
                description="Catalog of ready processes and the incident priority matrix "
                            "(process owners only)")


class CatalogTeamOut(Schema):
    key = fields.String()
    name = fields.String(metadata={"description": "in the caller's language"})
    names = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "language -> name (es, en)"})


class CatalogTemplateOut(Schema):
    key = fields.String()
    kind = fields.String(metadata={"description": "request, incident, change or "
                                                  "security_incident"})
    name = fields.String(metadata={"description": "in the caller's language"})
    description = fields.String(metadata={"description": "in the caller's language"})
    names = fields.Dict(keys=fields.String(), values=fields.String())
    descriptions = fields.Dict(keys=fields.String(), values=fields.String(),
                               metadata={"description": "language -> description (es, en)"})
    needs = fields.List(fields.String(), metadata={
        "description": "what the company sets up for it, in the caller's language"})
    teams = fields.List(fields.Nested(CatalogTeamOut))
    checklists = fields.List(fields.String())
    taken = fields.Boolean(metadata={"description": "the company already has a process with "
                                                    "the template's key"})


class CatalogAdoptIn(Schema):
    process_key = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=80),
                                metadata={"description": "default: the template's key"})
    deploy = fields.Boolean(load_default=False, metadata={
        "description": "deploy it as the first version (default: keep it as a draft)"})


class CatalogAdoptOut(Schema):
    template = fields.String()
    process_key = fields.String()
    deployed = fields.Boolean()
    version = fields.Integer(allow_none=True)
    teams = fields.List(fields.String())
    checklists = fields.List(fields.String())


Levels = fields.Dict(keys=fields.String(), values=fields.String())


class PriorityMatrixIn(Schema):
    matrix = fields.Dict(keys=fields.String(), values=Levels, metadata={
        "description": "impact (high, medium, low) -> urgency (high, medium, low) -> "
                       "priority (low, normal, high, urgent)"})
    escalation_after = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "priority -> ISO 8601 duration the first line has before the incident "
                       "is escalated to the second line"})


class PriorityMatrixOut(PriorityMatrixIn):
    is_default = fields.Boolean()


def _owner():
    user = caller()
    if not policy.can_own_processes(user):
        abort(403)
    return user


def _template_out(template: templates.Template, locale: str, taken: set[str]) -> dict:
    return {"key": template.key, "kind": template.kind,
            "name": template.name.get(locale), "description": template.description.get(locale),
            "names": template.name.by_language(),
            "descriptions": template.description.by_language(),
            "needs": [n.get(locale) for n in template.needs],
            "teams": [{"key": t.key, "name": t.name.get(locale), "names": t.names()}
                      for t in template.teams],
            "checklists": list(template.checklists), "taken": template.key in taken}


@blp.route("/catalog")
@blp.response(200, CatalogTemplateOut(many=True))
@blp.alt_response(403, **problem_doc, description="Not a process owner")
def catalog():
    """The process templates the company may adopt, with names and descriptions per language
    (``name``/``description`` in the caller's language)"""
    from flask_babel import get_locale

    user = _owner()
    taken = set(processes.process_keys(user.tenant_id))
    locale = str(get_locale() or "es")
    return [_template_out(t, locale, taken) for t in templates.available()]


@blp.route("/catalog/<template_key>/adopt", methods=["POST"])
@blp.arguments(CatalogAdoptIn)
@blp.response(201, CatalogAdoptOut)
@blp.alt_response(403, **problem_doc, description="Not a process owner, or past the plan's "
                                                   "processes (type .../plan-limit)")
@blp.alt_response(404, **problem_doc, description="No such template")
@blp.alt_response(409, **problem_doc, description="The company already has a process with "
                                                  "that key")
@blp.alt_response(422, **problem_doc, description="An invalid key, or the diagram cannot be "
                                                  "deployed")
def adopt(data, template_key):
    """Adopt a template as a new process of the company: a draft (default) or, with
    ``deploy``, its first version; the teams it names are created (empty) and audited"""
    user = _owner()
    try:
        adopted = adoption.adopt(user.tenant_id, template_key, user,
                                 process_key=data["process_key"], deploy=data["deploy"])
    except adoption.AdoptError as exc:
        db.session.rollback()
        status = {"unknown_template": 404, "key_taken": 409}.get(exc.code, 422)
        return problem(status, adopt_message(exc))
    except QuotaExceeded:
        db.session.rollback()
        raise  # the API's plan-limit answer (403, type .../plan-limit)
    except DiagramError:
        db.session.rollback()
        return problem(422, "The template could not be deployed as it is; adopt it as a "
                            "draft and check it in the modeler.")
    except processes.DeployConflict:
        db.session.rollback()
        return problem(409, "Someone deployed this process at the same moment.")
    db.session.commit()
    return {"template": adopted.template.key, "process_key": adopted.process_key,
            "deployed": adopted.definition is not None,
            "version": adopted.definition.version if adopted.definition else None,
            "teams": list(adopted.teams), "checklists": list(adopted.checklists)}, 201


@blp.route("/priority-matrix")
@blp.response(200, PriorityMatrixOut)
@blp.alt_response(403, **problem_doc, description="Not a process owner")
def get_matrix():
    """The incident priority matrix and the first line's time per priority"""
    user = _owner()
    return settings.current(db.session.get(Tenant, user.tenant_id))


@blp.route("/priority-matrix", methods=["PUT"])
@blp.arguments(PriorityMatrixIn)
@blp.response(200, PriorityMatrixOut)
@blp.alt_response(403, **problem_doc, description="Not a process owner")
@blp.alt_response(422, **problem_doc, description="A cell is not a priority, or a time is not "
                                                  "a duration; nothing saved")
def put_matrix(data):
    """Replace the matrix and/or the escalation times (either may be left out); every cell
    must be one of the priorities"""
    user = _owner()
    tenant = db.session.get(Tenant, user.tenant_id)
    try:
        settings.apply(user, tenant, data.get("matrix"), data.get("escalation_after"))
    except matrix.MatrixError as exc:
        db.session.rollback()
        return problem(422, "The priority matrix was not saved.",
                       {k: [v] for k, v in exc.problems.items()})
    db.session.commit()
    return settings.current(tenant)
