"""The bell over the API: the caller's notices (mark one or all read) and what they choose to
receive: ``/api/v1/notifications``, ``/api/v1/me/preferences``."""

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from app.api.common import MAX_ID, Blueprint, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.models import Notification, Tenant
from app.notifications import service
from app.notifications.catalog import CHANNELS, GROUPS
from app.notifications.compose import titles

blp = Blueprint("api_notifications", __name__, url_prefix="/api/v1",
                description="Notifications and the caller's notification preferences")


class NoticeArgs(PageArgs):
    unread = fields.Boolean(load_default=False,
                            metadata={"description": "Only those not read yet"})


class DeliveryOut(Schema):
    channel = fields.String(metadata={"description": "email, sms or whatsapp"})
    status = fields.String(metadata={"description": "pending, delivered, failed or unsent"})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class NoticeOut(Schema):
    id = fields.Integer()
    event = fields.String()
    title = fields.String()
    link = fields.String(metadata={"description": "The page it is about"})
    request_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    deliveries = fields.List(fields.Nested(DeliveryOut))


class ReadAllOut(Schema):
    marked = fields.Integer(metadata={"description": "How many were unread"})


def _channels_field():
    return fields.List(fields.String(validate=validate.OneOf(CHANNELS)))


PreferencesSchema = Schema.from_dict(
    {group: _channels_field() for group in GROUPS}, name="NotificationPreferences")


class PreferencesOut(Schema):
    channels = fields.Nested(PreferencesSchema, metadata={
        "description": "For each group of events, the channels it comes by"})
    phone = fields.String(allow_none=True, metadata={"description": "E.164"})


class PreferencesIn(Schema):
    channels = fields.Nested(PreferencesSchema, metadata={
        "description": "The groups to change (the others keep their channels)"})
    phone = fields.String(allow_none=True, metadata={
        "description": "E.164, such as +573001234567; null or empty removes it"})


def _out(rows: list[Notification]) -> list[dict]:
    user = caller()
    names = titles(rows, user, db.session.get(Tenant, user.tenant_id))
    base = current_app.config["PUBLIC_BASE_URL"]
    return [{
        "id": n.id, "event": n.event, "title": names[n.id], "link": base + service.safe_path(n),
        "request_id": n.request_id, "task_id": n.task_id, "created_at": n.created_at,
        "read_at": n.read_at, "deliveries": n.messages,
    } for n in rows]


@blp.route("/notifications")
@blp.arguments(NoticeArgs, location="query")
@blp.response(200, page_schema(NoticeOut, "NoticePage"))
def list_notifications(args):
    """The caller's notifications, newest first"""
    user = caller()
    stmt = select(Notification).where(
        Notification.tenant_id == user.tenant_id, Notification.user_id == user.id,
        Notification.inapp.is_(True)).order_by(Notification.id.desc())
    if args["unread"]:
        stmt = stmt.where(*service.unread_clause(user))
    page = paginate(stmt, args)
    page["items"] = _out(page["items"])
    return page


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NoticeOut)
@blp.alt_response(404, **problem_doc, description="No such notification of the caller")
def read_notification(notification_id):
    """Mark one notification read"""
    notification = service.find(caller(), notification_id) \
        if 0 < notification_id <= MAX_ID else None
    if notification is None:
        return problem(404, "No such notification.")
    service.mark_read(notification)
    db.session.commit()
    return _out([notification])[0]


@blp.route("/notifications/read-all", methods=["POST"])
@blp.response(200, ReadAllOut)
def read_all_notifications():
    """Mark all the caller's notifications read"""
    marked = service.mark_all_read(caller())
    db.session.commit()
    return {"marked": marked}


def _preferences() -> dict:
    user = caller()
    return {"channels": service.preferences_of(user), "phone": user.phone}


@blp.route("/me/preferences")
@blp.response(200, PreferencesOut)
def get_preferences():
    """What the caller receives, by group of events and channel"""
    return _preferences()


@blp.route("/me/preferences", methods=["PUT"])
@blp.arguments(PreferencesIn)
@blp.response(200, PreferencesOut)
@blp.alt_response(422, **problem_doc, description="An unknown group or channel, a bad phone")
def put_preferences(data):
    """Change what the caller receives (and their phone number)"""
    user = caller()
    try:
        chosen = service.clean_channels(data.get("channels") or {})
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "Some values are not valid.", errors={"channels": exc.messages})
    try:
        phone = service.clean_phone(data["phone"]) if "phone" in data else user.phone
    except ValidationError as exc:
        db.session.rollback()
        return problem(422, "The phone number is not valid.", errors={"phone": exc.messages})
    wanted = {**service.preferences_of(user), **chosen}
    if not phone and any({"sms", "whatsapp"} & set(c) for c in wanted.values()):
        db.session.rollback()
        return problem(422, "Text messages and WhatsApp need a phone number.",
                       errors={"phone": ["Give a phone number, or choose other channels."]})
    service.set_preferences(user, chosen)
    user.phone = phone
    db.session.commit()
    return _preferences()

