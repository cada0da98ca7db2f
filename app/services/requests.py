"""Filing a service request."""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields
from sqlalchemy import select

from app import policy
from app.conversation.comments import CommentSchema, add_comment  # noqa: F401 (the pages' and API's)
from app.extensions import db
from app.handlers.base import FormSchema, ident, length, one_of
from app.models import PRIORITIES, Category, ServiceRequest, Unit, User
from app.models.base import utcnow
from app.request_fields import values as request_fields
from app.services import definitions, events, history, workflow
from app.services.numbering import next_number
from app.sla import service as sla
from app.tenancy import quotas

PRIORITY_CHOICES = [
    ("low", _l("Low")), ("normal", _l("Normal")), ("high", _l("High")), ("urgent", _l("Urgent")),
]


class NewRequestSchema(FormSchema):
    title = fields.String(required=True, validate=length(min=3, max=200),
                          metadata={"label": _l("Title")})
    description = fields.String(required=True, validate=length(min=3, max=10000),
                                metadata={"label": _l("Description"), "widget": "textarea"})
    category_id = ident(required=True, metadata={"label": _l("Category"), "widget": "category"})
    priority = fields.String(validate=one_of(PRIORITIES),
                             metadata={"label": _l("Priority"), "choices": PRIORITY_CHOICES})
    location = fields.String(validate=length(max=200), load_default="",
                             metadata={"label": _l("Location")})


def categories_for(tenant_id: int) -> list[Category]:
    return list(db.session.scalars(
        select(Category).where(Category.tenant_id == tenant_id, Category.active.is_(True))
        .order_by(Category.name)
    ))


def _category_id(form: dict) -> int | None:
    """The category a refused form chose, if it names one (to check its fields too)."""
    try:
        return NewRequestSchema().load({"category_id": form.get("category_id")},
                                       partial=True).get("category_id")
    except ValidationError:
        return None


def file_request(user: User, form: dict) -> ServiceRequest:
    """Validate, number and store a request and start its workflow (raises ValidationError).
    ``form["fields"]``: the answers to the category's own fields, name -> value."""
    if not policy.can_file_request(user):
        raise ValidationError({"_schema": [str(_l("You do not belong to any unit."))]})
    home = db.session.get(Unit, user.home_unit_id)
    if home is not None and home.archived_at is not None:
        raise ValidationError({"_schema": [str(_l(
            "Your unit %(name)s is archived, so it takes no new requests. Ask your company's "
            "administrator to put you in another unit.", name=home.name))]})
    form = dict(form)
    answers = form.pop("fields", None)  # the category's own fields (app.request_fields)
    errors: dict = {}
    try:
        data = NewRequestSchema().load(form)
    except ValidationError as exc:  # said together with the category fields' messages
        errors, data = exc.messages, {"category_id": _category_id(form)}
    category = db.session.scalar(
        select(Category).where(Category.tenant_id == user.tenant_id,
                               Category.id == data["category_id"],
                               Category.active.is_(True))
    ) if data["category_id"] is not None else None
    if category is None and "category_id" not in errors:
        errors["category_id"] = [str(_l("Choose a category from the list."))]
    values = {}
    if category is not None:
        try:
            values = request_fields.load(category, answers)
        except ValidationError as exc:
            errors.update(exc.messages)
    if errors:
        raise ValidationError(errors)
    quotas.require(user.tenant_id, "requests_per_month")  # raises QuotaExceeded
    # The version it will follow, read before the INSERT so that its kind of work goes in it
    definition = definitions.active_definition(user.tenant_id, category.process_key)
    req = ServiceRequest(
        kind=definition.kind,
        tenant_id=user.tenant_id,
        number=next_number(user.tenant_id, "SOL", utcnow().year),
        title=data["title"],
        description=data["description"],
        category=category,
        priority=data.get("priority") or category.default_priority,
        location=data.get("location", ""),
        requester=user,
        unit_id=user.home_unit_id,
        service_unit_id=category.service_unit_id,
        status="pending_authorization",
        fields=values,
    )
    db.session.add(req)
    db.session.flush()
    changes = {"category": category.name, "priority": req.priority}
    if values:  # with the labels they were filed under (the category may change later)
        changes["form"] = request_fields.described(category, values)
    event = history.record(req, "filed", user, changes=changes)
    req.filing = True
    workflow.start(req, user, definition)
    event.to_status = req.status  # pending_evaluation when no authorization is needed
    sla.open_clocks(req)  # the targets it is filed under, its clocks started
    req.filing = False
    events.emit(req, "request.filed", user)
    return req

