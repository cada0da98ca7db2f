"""Helpers shared by the blueprints: tenant-scoped loading and form description."""

from flask import abort, request
from flask_login import current_user
from marshmallow import fields
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import HumanTask, ServiceRequest, Ticket

MAX_ID = 2**31 - 1  # integer columns; larger ids cannot exist


def scoped_get(model, object_id: int):
    """Fetch by (tenant, id); anything of another tenant is simply not found."""
    if not 0 < object_id <= MAX_ID:
        abort(404)
    obj = db.session.scalar(
        select(model).where(model.tenant_id == current_user.tenant_id, model.id == object_id)
    )
    if obj is None:
        abort(404)
    return obj


def request_or_404(request_id: int) -> ServiceRequest:
    req = scoped_get(ServiceRequest, request_id)
    if not policy.can_view_request(current_user, req):
        abort(404)
    return req


def ticket_or_404(ticket_id: int) -> Ticket:
    ticket = scoped_get(Ticket, ticket_id)
    if not policy.can_view_ticket(current_user, ticket):
        abort(404)
    return ticket


def task_or_404(task_id: int) -> HumanTask:
    task = scoped_get(HumanTask, task_id)
    if not policy.can_view_task(current_user, task):
        abort(404)
    return task


def _widget(field) -> str:
    meta = field.metadata
    if meta.get("widget"):
        return meta["widget"]
    if isinstance(field, fields.Date):
        return "date"
    if isinstance(field, (fields.Decimal, fields.Integer, fields.Float)):
        return "number"
    if isinstance(field, fields.Boolean):
        return "yesno"
    if meta.get("choices"):
        return "select"
    return "text"


def describe_form(schema_cls, values: dict | None = None, errors: dict | None = None,
                  notes: dict | None = None) -> list:
    """The fields of a marshmallow schema, ready for the form macro in templates; ``notes``:
    field name -> {"label", "help"} shown instead of the schema's (``TaskHandler.form_notes``)."""
    values, errors, notes = values or {}, errors or {}, notes or {}
    described = []
    for name, field in schema_cls().fields.items():
        note = notes.get(name) or {}
        described.append({
            "name": name,
            "label": note.get("label") or field.metadata.get("label", name),
            "help": note.get("help") or field.metadata.get("help"),
            "widget": _widget(field),
            "choices": field.metadata.get("choices") or [],
            "required": field.required,
            # Limits as HTML attributes (maxlength, minlength, min, max) and the empty
            # option's text of a select; only diagram forms set them so far.
            "attrs": {k: v for k, v in (field.metadata.get("attrs") or {}).items()
                      if v is not None},
            "placeholder": field.metadata.get("placeholder"),
            "value": values.get(name),
            "errors": errors.get(name) or [],
        })
    return described


def form_values(form) -> dict:
    """request.form as a dict, keeping lists for fields given more than once."""
    values = {}
    for key in form.keys():
        items = form.getlist(key)
        values[key] = items if len(items) > 1 or key.endswith("_ids") else items[0]
    return values


def process_owners_only():
    """``before_request`` of the process owners' blueprints: log in first; anyone else, and
    any malformed process key, gets a 404 (the pages do not exist for them)."""
    from app.extensions import login_manager
    from app.services.processes import is_process_key

    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_own_processes(current_user):
        abort(404)
    key = (request.view_args or {}).get("process_key")
    if key is not None and not is_process_key(key):
        abort(404)
    return None
