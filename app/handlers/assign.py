"""The services director assigns a worker (and helpers) with planned dates."""

from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validates_schema
from sqlalchemy import select

from app.extensions import db
from app.handlers.base import FormSchema, TaskHandler, ident, length
from app.models import Membership, User


class AssignSchema(FormSchema):
    worker_id = ident(required=True, metadata={"label": _l("Worker"), "widget": "worker"})
    planned_start = fields.Date(required=True, metadata={"label": _l("Planned start")})
    planned_end = fields.Date(required=True, metadata={"label": _l("Planned end")})
    helper_ids = fields.List(
        ident(),
        load_default=list,
        validate=length(max=20),
        metadata={"label": _l("Helpers"), "widget": "helpers"},
    )
    comment = fields.String(
        validate=length(max=2000),
        metadata={"label": _l("Comment"), "widget": "textarea"},
    )

    @validates_schema
    def _dates(self, data, **kwargs):
        start, end = data.get("planned_start"), data.get("planned_end")
        if end and end < date.today():
            raise ValidationError(
                {"planned_end": [str(_l("The planned end is already past."))]}
            )
        if start and end and end < start:
            raise ValidationError(
                {"planned_end": [str(_l("The end cannot be before the start."))]}
            )


def workers_of(tenant_id: int, service_unit_id: int) -> list[User]:
    """The active workers of a service unit, by name."""
    return list(db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.tenant_id == tenant_id,
            User.active.is_(True),
            Membership.tenant_id == tenant_id,
            Membership.role == "worker",
            Membership.unit_id == service_unit_id,
        )
        .order_by(User.name)
    ).unique())


class AssignHandler(TaskHandler):
    name = "assign"
    title = _l("Assign worker")
    submit_label = _l("Assign and create ticket")
    schema = AssignSchema

    def check(self, ctx, data):
        allowed = {w.id for w in workers_of(ctx.request.tenant_id, ctx.request.service_unit_id)}
        if data["worker_id"] not in allowed:
            raise ValidationError(
                {"worker_id": [str(_l("Choose a worker of this service unit."))]}
            )
        helpers = data.get("helper_ids") or []
        if any(h not in allowed for h in helpers):
            raise ValidationError(
                {"helper_ids": [str(_l("Helpers must be workers of this service unit."))]}
            )
        if data["worker_id"] in helpers:
            raise ValidationError(
                {"helper_ids": [str(_l("The assigned worker cannot also be a helper."))]}
            )

    def event(self, data):
        return "ticket.assigned"

    def describe(self, ctx, data):
        names = {w.id: w.name for w in workers_of(ctx.request.tenant_id,
                                                   ctx.request.service_unit_id)}
        described = {"worker": names.get(data["worker_id"]),
                     "planned_start": data["planned_start"],
                     "planned_end": data["planned_end"]}
        if data.get("helper_ids"):
            described["helpers"] = [names.get(h) for h in data["helper_ids"]]
        return described

    def _suggestion(self, ctx):
        """Whom automatic assignment would choose (app.classification.assignment), read once
        per page: the form preselects them and says why; the director may choose another."""
        if not hasattr(ctx, "suggested"):
            from app.classification import assignment

            ctx.suggested = assignment.suggestion(ctx.request)
        return ctx.suggested

    def prefill(self, ctx) -> dict:
        choice = self._suggestion(ctx)
        return {"worker_id": choice.worker.id} if choice is not None else {}

    def form_notes(self, ctx) -> dict:
        from app.classification import assignment

        choice = self._suggestion(ctx)
        return {"worker_id": {"help": assignment.why(choice)}}

    samples = ({"assignment": {"worker_id": 1, "helper_ids": [], "planned_start": "2026-01-05",
                               "planned_end": "2026-01-06"}},)

    def apply(self, ctx, data):
        # The create_ticket operation that follows in the diagram reads this.
        return {
            "assignment": {
                "worker_id": data["worker_id"],
                "helper_ids": sorted(set(data.get("helper_ids") or [])),
                "planned_start": data["planned_start"].isoformat(),
                "planned_end": data["planned_end"].isoformat(),
            }
        }
