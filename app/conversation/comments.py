"""Comments on a request: public (its requester reads them) or internal notes (only those
``policy.can_see_internal`` lets: the service unit's people, the head of the requester's unit,
tenant admins). They stay history entries (action ``commented``, ``HistoryEvent.internal``);
every reader of the history asks ``app.services.history`` for it with the person reading, and
gets internal notes only if they may read them. Services only flush."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

from app import policy
from app.conversation import mentions
from app.handlers.base import FormSchema, length
from app.models import ServiceRequest, User
from app.notifications import notices
from app.services import events, history


class CommentSchema(FormSchema):
    comment = fields.String(required=True, validate=length(min=1, max=4000),
                            metadata={"label": _l("Comment"), "widget": "textarea"})
    internal = fields.Boolean(load_default=False, metadata={
        "label": _l("Internal note"),
        "description": "Only the service unit's people, the head of the requester's unit and "
                       "tenant admins read it (never the requester)"})
    mention_ids = fields.List(fields.Integer(), load_default=list, metadata={
        "description": "People to mention beside those named as @e-mail in the text"})


def add_comment(user: User, req: ServiceRequest, form: dict):
    """A comment on the request's history by anyone who may see it (raises ValidationError;
    PermissionError if they may not see the request)."""
    if not policy.can_view_request(user, req):
        raise PermissionError("not visible")
    data = CommentSchema().load(form)
    internal = data["internal"]
    if internal and not policy.can_see_internal(user, req):
        raise ValidationError({"internal": [
            _("Only the service unit's people write internal notes on this request.")]})
    mentioned = mentions.resolve(user, req, data["comment"], data["mention_ids"], internal)
    entry = history.record(req, "commented", user, comment=data["comment"], ticket=req.ticket,
                           internal=internal)
    notices.comment(req, user, entry, mentioned)
    if not internal:  # an internal note never leaves for the company's integrations
        events.emit(req, "request.commented", user, extra={"comment": {
            "author": {"id": user.id, "name": user.name, "email": user.email},
            "text": entry.comment}})
    return entry
