"""Recurring requests over the API: /api/v1/admin/recurring. The same rules (``schedules``)
and policy as the page: tenant admins (every category) and directors (their units'
categories); anyone else 403; another company's or another unit's schedule 404; bad input a
422 by field, nothing changed. A rule is sent as ``rrule`` (RRULE text, without DTSTART or
UNTIL) or ``recurrence`` (the friendly form)."""

from flask import abort
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, Id, PageArgs, caller, page_schema, paginate
from app.api.errors import problem, problem_responses
from app.extensions import db
from app.models import PRIORITIES, Tenant
from app.models.base import utcnow
from app.recurring import forms, rules, schedules, wording
from app.recurring.models import CATCH_UP
from app.recurring.schedules import Refused
from app.tenancy import clock

blp = Blueprint("api_recurring", __name__, url_prefix="/api/v1/admin/recurring",
                description="Recurring requests (tenant admins; directors for their units' "
                            "categories)")
NOT_A_SCHEDULER = "Only tenant admins and service directors schedule recurring requests."


_doc = problem_responses(blp, {
    403: "The caller's role may not (or the company is suspended, past its plan)",
    404: "No such recurring request the caller may change",
    422: "Invalid data: messages by field; nothing changed",
})


class RecurrenceIn(Schema):
    frequency = fields.String(required=True, validate=validate.OneOf(rules.FRIENDLY))
    interval = fields.Integer(load_default=1, validate=validate.Range(min=1, max=366))
    time = fields.String(required=True, validate=validate.Length(max=5),
                         metadata={"description": "Time of day, HH:MM (local)"})
    weekdays = fields.List(fields.String(validate=validate.OneOf(rules.WEEKDAYS)),
                           load_default=list, validate=validate.Length(max=7))
    monthly_by = fields.String(load_default="day", validate=validate.OneOf(("day", "weekday")))
    month_day = fields.Integer(load_default=1, validate=validate.Range(min=-1, max=31),
                               metadata={"description": "1..31, -1: the last day"})
    ordinal = fields.Integer(load_default=1, validate=validate.Range(min=-1, max=5),
                             metadata={"description": "1..4, -1: the last (with weekday)"})
    weekday = fields.String(load_default="MO", validate=validate.OneOf(rules.WEEKDAYS))
    month = fields.Integer(load_default=1, validate=validate.Range(min=1, max=12))


class OccurrenceOut(Schema):
    at = fields.DateTime(metadata={"description": "The instant (UTC)"})
    local = fields.String(metadata={"description": "The wall-clock time in the time zone"})


class RecurringPatch(Schema):
    title = fields.String(validate=validate.Length(min=3, max=200))
    description = fields.String(validate=validate.Length(min=3, max=10000))
    category_id = Id()
    priority = fields.String(allow_none=True, validate=validate.OneOf(PRIORITIES),
                             metadata={"description": "null: the category's default"})
    location = fields.String(validate=validate.Length(max=200))
    fields_ = fields.Dict(data_key="fields", attribute="fields", metadata={
        "description": "The category's own fields, name: value"})
    requester_id = Id(metadata={"description": "On whose behalf it is filed"})
    rrule = fields.String(validate=validate.Length(max=rules.MAX_RULE_CHARS), metadata={
        "description": "RRULE text, e.g. FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9 (no DTSTART, UNTIL)"})
    recurrence = fields.Nested(RecurrenceIn, metadata={
        "description": "The rule as the page's friendly form (instead of rrule)"})
    starts_on = fields.Date(metadata={"description": "Local date the pattern starts (default: "
                                                     "today)"})
    ends_on = fields.Date(allow_none=True, metadata={"description": "Last day (included)"})
    catch_up = fields.String(validate=validate.OneOf(CATCH_UP), metadata={
        "description": "After a downtime: all (default, file every missed occurrence) or "
                       "latest (skip to the latest)"})


class RecurringIn(RecurringPatch):
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    description = fields.String(required=True, validate=validate.Length(min=3, max=10000))
    category_id = Id(required=True)
    requester_id = Id(required=True)


class PreviewIn(Schema):
    rrule = fields.String(validate=validate.Length(max=rules.MAX_RULE_CHARS))
    recurrence = fields.Nested(RecurrenceIn)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class PreviewOut(Schema):
    rule = fields.String()
    words = fields.String()
    per_month = fields.Integer()
    upcoming = fields.List(fields.Nested(OccurrenceOut))


class RecurringOut(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    category_id = fields.Integer()
    priority = fields.String(allow_none=True)
    location = fields.String()
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    requester_id = fields.Integer()
    owner_id = fields.Integer()
    rule = fields.String(metadata={"description": "The rule, normalized"})
    words = fields.String(metadata={"description": "The rule in words"})
    time_zone = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    catch_up = fields.String()
    state = fields.String(metadata={"description": "active, paused or ended"})
    per_month = fields.Integer(metadata={"description": "Most requests it files in a month"})
    next_at = fields.DateTime(allow_none=True)
    last_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    failures = fields.Integer()
    upcoming = fields.List(fields.Nested(OccurrenceOut))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def _schedulers_only():
    if not policy.can_schedule_requests(caller()):
        abort(403, NOT_A_SCHEDULER)


def _row_or_404(schedule_id: int):
    _schedulers_only()
    row = schedules.find(caller(), schedule_id)
    if row is None:
        abort(404, "No such recurring request.")
    return row


def _today():
    return clock.today(db.session.get(Tenant, caller().tenant_id))


def _occurrences(found) -> list[dict]:
    return [{"at": o.at, "local": o.local.isoformat()} for o in found]


def _out(row, upcoming: int = 5) -> dict:
    return {**{name: getattr(row, name) for name in (
        "id", "title", "description", "category_id", "priority", "location", "fields",
        "requester_id", "owner_id", "rule", "time_zone", "starts_on", "ends_on", "catch_up",
        "per_month", "next_at", "last_at", "last_error", "failures", "created_at",
        "updated_at")},
        "words": wording.describe(row.rule), "state": schedules.state(row),
        "upcoming": _occurrences(schedules.preview(row, utcnow(), upcoming))}


def _refused(exc: Refused):
    db.session.rollback()
    return problem(422, "The data sent is not valid.", errors=exc.errors)


@blp.route("")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RecurringOut, "RecurringPage"))
@_doc(403)
def list_recurring(args):
    """The recurring requests the caller may change, newest first, with their next two
    occurrences"""
    _schedulers_only()
    page = paginate(schedules.visible(caller()), args)
    page["items"] = [_out(row, 2) for row in page["items"]]
    return page


@blp.route("", methods=["POST"])
@blp.arguments(RecurringIn)
@blp.response(201, RecurringOut)
@_doc(403, 422)
def create_recurring(data):
    """Schedule a request; refused (422) when the rule fires more often than every 15
    minutes, never, or more often in a month than the plan's requests leave room for"""
    _schedulers_only()
    try:
        row = schedules.create(caller(), forms.from_json(data, _today()))
    except Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _out(row)


@blp.route("/preview", methods=["POST"])
@blp.arguments(PreviewIn)
@blp.response(200, PreviewOut)
@_doc(403, 422)
def preview_recurring(data):
    """The next five occurrences of a rule (local time of the company), nothing saved"""
    _schedulers_only()
    try:
        rule = forms.from_json(data, _today()).rule
        tenant = db.session.get(Tenant, caller().tenant_id)
        starts_on = data.get("starts_on") or _today()
        problem_text = schedules.start_error(starts_on, _today())
        if problem_text:
            raise Refused({"starts_on": [problem_text]})
        recurrence = rules.Recurrence(rule, clock.zone(tenant), starts_on, data.get("ends_on"))
        summary = rules.check(recurrence, utcnow())
    except Refused as exc:
        return _refused(exc)
    except rules.RuleError as exc:
        return _refused(Refused(exc.messages))
    return {"rule": rule, "words": wording.describe(rule), "per_month": summary.per_month,
            "upcoming": _occurrences(recurrence.upcoming(utcnow(), 5))}


@blp.route("/<int:schedule_id>")
@blp.response(200, RecurringOut)
@_doc(403, 404)
def get_recurring(schedule_id):
    """One recurring request, with its next five occurrences"""
    return _out(_row_or_404(schedule_id))


def _save(row, data: dict):
    try:
        schedules.update(caller(), row, forms.from_json(data, _today(), forms.input_of(row)))
    except Refused as exc:
        db.session.rollback()
        db.session.refresh(row)
        return _refused(exc)
    db.session.commit()
    return _out(row)


@blp.route("/<int:schedule_id>", methods=["PUT"])
@blp.arguments(RecurringIn)
@blp.response(200, RecurringOut)
@_doc(403, 404, 422)
def put_recurring(data, schedule_id):
    """Replace a recurring request (its next occurrence is computed again from now)"""
    return _save(_row_or_404(schedule_id), data)


@blp.route("/<int:schedule_id>", methods=["PATCH"])
@blp.arguments(RecurringPatch)
@blp.response(200, RecurringOut)
@_doc(403, 404, 422)
def patch_recurring(data, schedule_id):
    """Change what is given"""
    return _save(_row_or_404(schedule_id), data)


@blp.route("/<int:schedule_id>/pause", methods=["POST"])
@blp.response(200, RecurringOut)
@_doc(403, 404)
def pause_recurring(schedule_id):
    """Pause: nothing is filed until resumed"""
    row = _row_or_404(schedule_id)
    schedules.pause(caller(), row)
    db.session.commit()
    return _out(row)


@blp.route("/<int:schedule_id>/resume", methods=["POST"])
@blp.response(200, RecurringOut)
@_doc(403, 404, 422)
def resume_recurring(schedule_id):
    """Resume from the next occurrence on (what fell due while paused is not filed); refused
    (422, under `rule`; it stays paused) when it no longer fits the plan's monthly requests
    beside the company's other schedules that file (paused ones do not count)"""
    row = _row_or_404(schedule_id)
    try:
        schedules.resume(caller(), row)
    except Refused as exc:
        return _refused(exc)
    db.session.commit()
    return _out(row)


@blp.route("/<int:schedule_id>", methods=["DELETE"])
@blp.response(204)
@_doc(403, 404)
def delete_recurring(schedule_id):
    """Delete a recurring request; the requests it filed stay (still marked recurring)"""
    schedules.delete(caller(), _row_or_404(schedule_id))
    db.session.commit()
    return None


def init_api(api) -> None:
    api.register_blueprint(blp)
