"""Business calendars and SLA targets over the API: /api/v1/admin/sla/calendars and
/api/v1/admin/sla/targets. The same rules (``calendars``, ``targets``) and policy as the pages:
tenant admins change them, directors read them, anyone else is refused (403); another
company's ids are not found (404); bad input is a 422 by field and changes nothing."""

from flask import abort, request
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_responses
from app.extensions import db
from app.models import PRIORITIES, Tenant
from app.sla import calendars, targets
from app.sla import clock as clk
from app.sla.calendar import WEEKDAYS
from app.sla.calendars import Refused
from app.sla.models import BusinessCalendar, SlaTarget

blp = Blueprint("api_sla", __name__, url_prefix="/api/v1/admin/sla",
                description="Business calendars and SLA targets (tenant admins change them; "
                            "directors read them)")

NOT_A_READER = "Only tenant admins and service directors see the service levels."
NOT_A_MANAGER = "Only tenant admins change calendars and SLA targets."


_doc = problem_responses(blp, {
    403: "The caller's role may not (or the company is suspended, past its plan)",
    404: "No such calendar or target in the caller's company",
    409: "The calendar is in use (the default, a target's, or a request's clock)",
    422: "Invalid data: messages by field; nothing changed",
})


# --- schemas ---------------------------------------------------------------------------------

def _day_field(**kwargs) -> fields.List:
    shift = fields.List(fields.String(validate=validate.Length(max=5)),
                        validate=validate.Length(equal=2),
                        metadata={"description": 'A shift: ["08:00", "12:00"]; "24:00" ends '
                                                 "the day"})
    return fields.List(shift, validate=validate.Length(max=calendars.MAX_SHIFTS), **kwargs)


SlaWeek = type("SlaWeek", (Schema,), {
    "__doc__": "Each weekday's shifts in local time, at most 6; [] is a day off",
    **{day: _day_field(load_default=list) for day in WEEKDAYS}})
# In a PATCH the days left out keep their shifts (a missing day is not a day off)
SlaWeekPatch = type("SlaWeekPatch", (Schema,), {
    "__doc__": "The weekdays to change, each with its shifts in local time, at most 6; [] is "
               "a day off; the days left out keep theirs",
    **{day: _day_field() for day in WEEKDAYS}})


class SlaHoliday(Schema):
    date = fields.Date(required=True, metadata={
        "description": "The day; for a yearly holiday only its month and day count"})
    yearly = fields.Boolean(load_default=False, metadata={"description": "Every year"})
    name = fields.String(load_default="", validate=validate.Length(max=calendars.NAME_CHARS))


class SlaCalendarOut(Schema):
    id = fields.Integer()
    name = fields.String()
    time_zone = fields.String(metadata={"description": "IANA time zone"})
    is_default = fields.Boolean()
    week = fields.Nested(SlaWeek)
    holidays = fields.List(fields.Nested(SlaHoliday))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SlaCalendarPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=calendars.NAME_CHARS))
    time_zone = fields.String(validate=validate.Length(max=64), metadata={
        "description": "IANA time zone, e.g. America/Bogota"})
    week = fields.Nested(SlaWeekPatch, validate=validate.Length(
        min=1, error="Give at least one weekday to change."))
    holidays = fields.List(fields.Nested(SlaHoliday),
                           validate=validate.Length(max=calendars.MAX_HOLIDAYS))
    is_default = fields.Boolean(metadata={
        "description": "true: the company's default (the old default no longer is); a default "
                       "cannot be set to false, make another one the default instead"})


class SlaCalendarIn(SlaCalendarPatch):
    name = fields.String(required=True,
                         validate=validate.Length(min=1, max=calendars.NAME_CHARS))
    time_zone = fields.String(validate=validate.Length(max=64), metadata={
        "description": "IANA time zone; the company's when not given"})
    week = fields.Nested(SlaWeek, required=True)
    holidays = fields.List(fields.Nested(SlaHoliday), load_default=list,
                           validate=validate.Length(max=calendars.MAX_HOLIDAYS))


class SlaTargetOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "decision, start or resolution"})
    category_id = fields.Integer(allow_none=True, metadata={"description": "null: any"})
    category_name = fields.String(allow_none=True)
    priority = fields.String(allow_none=True, metadata={"description": "null: any"})
    minutes = fields.Integer(metadata={"description": "Length in business minutes"})
    warn_percent = fields.Integer()
    pause_statuses = fields.List(fields.String())
    calendar_id = fields.Integer()
    calendar_name = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SlaTargetPatch(Schema):
    kind = fields.String(validate=validate.OneOf(clk.KINDS))
    category_id = Id(allow_none=True, metadata={
        "description": "A category of the company; null: any"})
    priority = fields.String(allow_none=True, validate=validate.OneOf(PRIORITIES),
                             metadata={"description": "null: any"})
    minutes = fields.Integer(strict=True, validate=validate.Range(
        min=1, max=targets.MAX_MINUTES), metadata={
        "description": "Length in business minutes, more than 0, at most 60 days"})
    warn_percent = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))
    pause_statuses = fields.List(
        fields.String(validate=validate.OneOf(clk.PAUSABLE_STATUSES)),
        validate=validate.Length(max=len(clk.PAUSABLE_STATUSES) * 2),
        metadata={"description": "Request or ticket statuses during which the clock pauses"})
    calendar_id = Id(allow_none=True, metadata={
        "description": "A calendar of the company; null: the default one"})
    apply_to_open = fields.Boolean(load_default=False, load_only=True, metadata={
        "description": "Flag the open requests the target may match (before and after the "
                       "change) so their targets are matched again; without it they keep "
                       "the terms they were filed with"})


class SlaTargetIn(SlaTargetPatch):
    kind = fields.String(required=True, validate=validate.OneOf(clk.KINDS))
    category_id = Id(allow_none=True, load_default=None)
    priority = fields.String(allow_none=True, load_default=None,
                             validate=validate.OneOf(PRIORITIES))
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(
        min=1, max=targets.MAX_MINUTES))
    warn_percent = fields.Integer(strict=True, load_default=clk.DEFAULT_WARN_PERCENT,
                                  validate=validate.Range(min=1, max=100))
    pause_statuses = fields.List(
        fields.String(validate=validate.OneOf(clk.PAUSABLE_STATUSES)),
        load_default=lambda: list(clk.DEFAULT_PAUSES),
        validate=validate.Length(max=len(clk.PAUSABLE_STATUSES) * 2))
    calendar_id = Id(allow_none=True, load_default=None)


class SlaTargetArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(clk.KINDS))


# --- shared ----------------------------------------------------------------------------------

def _readers_only():
    if not policy.can_view_sla_settings(caller()):
        abort(403, NOT_A_READER)


def _managers_only():
    if not policy.can_manage_sla(caller()):
        abort(403, NOT_A_MANAGER)


def _refused(exc: Refused, status: int = 422):
    db.session.rollback()
    if status == 422:
        return problem(422, "The data sent is not valid.", errors=exc.errors)
    return problem(status, " ".join(m for ms in exc.errors.values() for m in ms))


# --- calendars -------------------------------------------------------------------------------

def _calendar_or_404(calendar_id: int) -> BusinessCalendar:
    _readers_only()
    if request.method != "GET":
        _managers_only()
    row = calendars.find(caller(), calendar_id, to_change=request.method != "GET")
    if row is None:
        abort(404, "No such calendar.")
    return row


def _calendar_out(row: BusinessCalendar) -> dict:
    return {"id": row.id, "name": row.name, "time_zone": row.time_zone,
            "is_default": row.is_default,
            "week": {day: (row.week or {}).get(day) or [] for day in WEEKDAYS},
            "holidays": calendars.stored_holidays(row),
            "created_at": row.created_at, "updated_at": row.updated_at}


def _calendar_input(data: dict, row: BusinessCalendar | None) -> calendars.CalendarInput:
    """The JSON (with the row's values for what it leaves out) as a CalendarInput."""
    if row is not None:
        kept = {"name": row.name, "time_zone": row.time_zone, "week": row.week or {},
                "holidays": calendars.stored_holidays(row)}
    else:
        kept = {"time_zone": db.session.get(Tenant, caller().tenant_id).timezone,
                "holidays": []}
    merged = {**kept, **{k: v for k, v in data.items() if k != "is_default"}}
    if row is not None and "week" in data:  # a PATCH's days left out keep their shifts
        merged["week"] = {**(row.week or {}), **data["week"]}
    return calendars.CalendarInput(name=merged["name"], time_zone=merged["time_zone"],
                                   week=merged["week"], holidays=merged["holidays"])


def _apply_default(row: BusinessCalendar, data: dict) -> None:
    if "is_default" not in data:
        return
    if data["is_default"]:
        calendars.make_default(caller(), row)
    elif row.is_default:
        raise Refused({"is_default": [str(calendars.MESSAGES["is_default"])]})


@blp.route("/calendars")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(SlaCalendarOut, "SlaCalendarPage"))
@_doc(403)
def list_calendars(args):
    """The company's business calendars, the default first, then by name"""
    _readers_only()
    page = paginate(calendars.search(caller().tenant_id), args)
    page["items"] = [_calendar_out(row) for row in page["items"]]
    return page


@blp.route("/calendars", methods=["POST"])
@blp.arguments(SlaCalendarIn)
@blp.response(201, SlaCalendarOut)
@_doc(403, 422)
def create_calendar(data):
    """Create a calendar (the company's first one is its default); an audit entry records it"""
    _readers_only()
    _managers_only()
    try:
        row = calendars.create(caller(), _calendar_input(data, None))
        _apply_default(row, data)
    except Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _calendar_out(row)


@blp.route("/calendars/<int:calendar_id>")
@blp.response(200, SlaCalendarOut)
@_doc(403, 404)
def get_calendar(calendar_id):
    """One calendar"""
    return _calendar_out(_calendar_or_404(calendar_id))


def _save_calendar(row: BusinessCalendar, data: dict):
    try:
        calendars.update(caller(), row, _calendar_input(data, row))
        _apply_default(row, data)
    except Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _calendar_out(row)


@blp.route("/calendars/<int:calendar_id>", methods=["PUT"])
@blp.arguments(SlaCalendarIn)
@blp.response(200, SlaCalendarOut)
@_doc(403, 404, 422)
def put_calendar(data, calendar_id):
    """Replace a calendar; the open requests' clocks on it are recomputed when its time
    changed; an audit entry records what changed"""
    return _save_calendar(_calendar_or_404(calendar_id), data)


@blp.route("/calendars/<int:calendar_id>", methods=["PATCH"])
@blp.arguments(SlaCalendarPatch)
@blp.response(200, SlaCalendarOut)
@_doc(403, 404, 422)
def patch_calendar(data, calendar_id):
    """Change what is given (``is_default: true`` makes it the default)"""
    return _save_calendar(_calendar_or_404(calendar_id), data)


@blp.route("/calendars/<int:calendar_id>", methods=["DELETE"])
@blp.response(204)
@_doc(403, 404, 409)
def delete_calendar(calendar_id):
    """Delete a calendar that is not the default and that no target and no request's clock
    uses (409 otherwise)"""
    row = _calendar_or_404(calendar_id)
    try:
        calendars.delete(caller(), row)
    except Refused as exc:
        return _refused(exc, 409)
    db.session.commit()
    return None


# --- targets ---------------------------------------------------------------------------------

def _target_or_404(target_id: int) -> SlaTarget:
    _readers_only()
    if request.method != "GET":
        _managers_only()
    row = targets.find(caller(), target_id, to_change=request.method != "GET")
    if row is None:
        abort(404, "No such target.")
    return row


def _target_out(row: SlaTarget) -> dict:
    return {"id": row.id, "kind": row.kind, "category_id": row.category_id,
            "category_name": row.category.name if row.category is not None else None,
            "priority": row.priority, "minutes": row.minutes,
            "warn_percent": row.warn_percent, "pause_statuses": row.pause_statuses or [],
            "calendar_id": row.calendar_id, "calendar_name": row.calendar.name,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _target_input(data: dict, row: SlaTarget | None) -> targets.TargetInput:
    kept = {} if row is None else {
        "kind": row.kind, "category_id": row.category_id, "priority": row.priority,
        "minutes": row.minutes, "warn_percent": row.warn_percent,
        "pause_statuses": list(row.pause_statuses or []), "calendar_id": row.calendar_id}
    return targets.TargetInput(**{**kept, **data})


@blp.route("/targets")
@blp.arguments(SlaTargetArgs, location="query")
@blp.response(200, page_schema(SlaTargetOut, "SlaTargetPage"))
@_doc(403)
def list_targets(args):
    """The company's SLA targets by kind, category (any first) and priority (any first)"""
    _readers_only()
    page = paginate(targets.search(caller().tenant_id, args.get("kind")), args,
                    model=SlaTarget, load=targets.LIST_LOAD)
    page["items"] = [_target_out(row) for row in page["items"]]
    return page


@blp.route("/targets", methods=["POST"])
@blp.arguments(SlaTargetIn)
@blp.response(201, SlaTargetOut)
@_doc(403, 422)
def create_target(data):
    """Create a target (one per kind, category and priority); ``apply_to_open`` also flags the
    open requests it may match; an audit entry records it"""
    _readers_only()
    _managers_only()
    try:
        row, _flagged = targets.create(caller(), _target_input(data, None))
    except Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _target_out(row)


@blp.route("/targets/<int:target_id>")
@blp.response(200, SlaTargetOut)
@_doc(403, 404)
def get_target(target_id):
    """One target"""
    return _target_out(_target_or_404(target_id))


def _save_target(row: SlaTarget, data: dict):
    try:
        targets.update(caller(), row, _target_input(data, row))
    except Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _target_out(row)


@blp.route("/targets/<int:target_id>", methods=["PUT"])
@blp.arguments(SlaTargetIn)
@blp.response(200, SlaTargetOut)
@_doc(403, 404, 422)
def put_target(data, target_id):
    """Replace a target; open requests keep their terms unless ``apply_to_open``"""
    return _save_target(_target_or_404(target_id), data)


@blp.route("/targets/<int:target_id>", methods=["PATCH"])
@blp.arguments(SlaTargetPatch)
@blp.response(200, SlaTargetOut)
@_doc(403, 404, 422)
def patch_target(data, target_id):
    """Change what is given; open requests keep their terms unless ``apply_to_open``"""
    return _save_target(_target_or_404(target_id), data)


@blp.route("/targets/<int:target_id>", methods=["DELETE"])
@blp.response(204)
@_doc(403, 404)
def delete_target(target_id):
    """Delete a target: the clocks that ran under it keep their terms"""
    targets.delete(caller(), _target_or_404(target_id))
    db.session.commit()
    return None


def init_api(api) -> None:
    api.register_blueprint(blp)
