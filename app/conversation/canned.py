"""Canned responses: replies a company keeps ready, for all its service units or for one.

Their text is a template written by the company, so it renders in the one sandbox of
tenant-written text (``app.notifications.sandbox``) over plain strings of the request it
answers: ``{{ requester_name }}``, ``{{ request_number }}``... Who writes them: tenant admins
(any, and those for the whole company), directors (those of the units they direct). Who uses
them: whoever may write an internal note on the request (its service unit's people), among
those of the request's service unit and the company-wide ones. Services only flush.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields
from sqlalchemy import or_, select

from app import policy
from app.conversation.models import CannedResponse
from app.extensions import db
from app.handlers.base import FormSchema, ident, length
from app.models import ServiceRequest, Tenant, Unit, User
from app.notifications import sandbox

VARIABLES = ("requester_name", "request_number", "request_title", "ticket_number",
             "agent_name", "worker_name", "category", "service_unit", "tenant_name")
VARIABLE_HELP = {
    "requester_name": _l("Who filed the request"),
    "request_number": _l("The request's number (SOL-…)"),
    "request_title": _l("The request's title"),
    "ticket_number": _l("The ticket's number (TKT-…), when it has one"),
    "agent_name": _l("You: the person who writes the reply"),
    "worker_name": _l("The worker of its ticket"),
    "category": _l("The request's category"),
    "service_unit": _l("The service unit it went to"),
    "tenant_name": _l("Your company's name"),
}
MAX_BODY = 4000  # a comment's length


class Refused(ValueError):
    """Not allowed for this person (403 on the API, not found on the pages)."""


class CannedSchema(FormSchema):
    title = fields.String(required=True, validate=length(min=1, max=120),
                          metadata={"label": _l("Title")})
    body = fields.String(required=True, validate=length(min=1, max=MAX_BODY),
                         metadata={"label": _l("Text"), "widget": "textarea"})
    service_unit_id = ident(allow_none=True, metadata={"label": _l("Service unit")})


def can_manage(user: User, service_unit_id: int | None) -> bool:
    """Tenant admins write any; a director writes those of the units they direct."""
    if not (user.is_authenticated and user.active):
        return False
    if policy.is_tenant_admin(user):
        return True
    return service_unit_id is not None and service_unit_id in policy.directed_unit_ids(user)


def can_manage_any(user: User) -> bool:
    return user.is_authenticated and user.active and (
        policy.is_tenant_admin(user) or bool(policy.directed_unit_ids(user)))


def manageable_query(user: User):
    """The canned responses ``user`` may edit, by title."""
    stmt = select(CannedResponse).where(CannedResponse.tenant_id == user.tenant_id)
    if not policy.is_tenant_admin(user):
        stmt = stmt.where(CannedResponse.service_unit_id.in_(
            sorted(policy.directed_unit_ids(user)) or [-1]))
    return stmt.order_by(CannedResponse.title, CannedResponse.id)


def manageable_units(user: User) -> list[Unit]:
    """The service units ``user`` may write canned responses for."""
    stmt = select(Unit).where(Unit.tenant_id == user.tenant_id, Unit.is_service_unit.is_(True))
    if not policy.is_tenant_admin(user):
        stmt = stmt.where(Unit.id.in_(sorted(policy.directed_unit_ids(user)) or [-1]))
    return list(db.session.scalars(stmt.order_by(Unit.name)))


def get_manageable(user: User, canned_id: int) -> CannedResponse | None:
    row = db.session.scalar(select(CannedResponse).where(
        CannedResponse.tenant_id == user.tenant_id, CannedResponse.id == canned_id))
    return row if row is not None and can_manage(user, row.service_unit_id) else None


def _load(user: User, form: dict, partial: bool = False) -> dict:
    data = CannedSchema().load(form, partial=partial)
    if not partial:
        data.setdefault("service_unit_id", None)  # left empty: the whole company
    if "body" in data:
        try:
            sandbox.check(data["body"], VARIABLES)
        except sandbox.TemplateRefused as exc:
            raise ValidationError({"body": [str(exc)]}) from None
    if "service_unit_id" in data:
        unit_id = data["service_unit_id"]
        if unit_id is not None and unit_id not in {u.id for u in manageable_units(user)}:
            raise ValidationError({"service_unit_id": [_("Choose one of your service units.")]})
        if unit_id is None and not policy.is_tenant_admin(user):
            raise ValidationError({"service_unit_id": [
                _("Only a tenant admin writes replies for the whole company.")]})
    return data


def create(user: User, form: dict) -> CannedResponse:
    if not can_manage_any(user):
        raise Refused("not a manager")
    data = _load(user, form)
    row = CannedResponse(tenant_id=user.tenant_id, title=data["title"], body=data["body"],
                         service_unit_id=data.get("service_unit_id"))
    db.session.add(row)
    db.session.flush()
    return row


def update(user: User, row: CannedResponse, form: dict, partial: bool = False) -> None:
    if not can_manage(user, row.service_unit_id):
        raise Refused("not a manager")
    for name, value in _load(user, form, partial).items():
        setattr(row, name, value)
    db.session.flush()


def delete(user: User, row: CannedResponse) -> None:
    if not can_manage(user, row.service_unit_id):
        raise Refused("not a manager")
    db.session.delete(row)
    db.session.flush()


# --- using them on a request -----------------------------------------------------------------

def usable_for(user: User, req: ServiceRequest) -> list[CannedResponse]:
    """What ``user`` may insert on ``req``'s comment form: those of its service unit and the
    company-wide ones, for its service unit's people (none for anyone else)."""
    if not policy.can_see_internal(user, req):
        return []
    return list(db.session.scalars(
        select(CannedResponse)
        .where(CannedResponse.tenant_id == req.tenant_id,
               or_(CannedResponse.service_unit_id.is_(None),
                   CannedResponse.service_unit_id == req.service_unit_id))
        .order_by(CannedResponse.title, CannedResponse.id)))


def usable(user: User, req: ServiceRequest, canned_id: int) -> CannedResponse | None:
    return next((c for c in usable_for(user, req) if c.id == canned_id), None)


def values(req: ServiceRequest, agent: User) -> dict:
    """The plain strings a canned response may show about ``req``, written by ``agent``."""
    ticket = req.ticket
    tenant = db.session.get(Tenant, req.tenant_id)
    return {
        "requester_name": req.requester.name, "request_number": req.number,
        "request_title": req.title, "ticket_number": ticket.number if ticket else "",
        "agent_name": agent.name, "worker_name": ticket.worker.name if ticket else "",
        "category": req.category.name if req.category else "",
        "service_unit": req.service_unit.name if req.service_unit else "",
        "tenant_name": tenant.name if tenant else "",
    }


def render(row: CannedResponse, req: ServiceRequest, agent: User) -> str:
    """The reply as it goes into the comment box: plain text (the page escapes it), at most
    a comment's length. Raises TemplateRefused if it cannot render."""
    return sandbox.render(row.body, values(req, agent), names=VARIABLES)[:MAX_BODY]
