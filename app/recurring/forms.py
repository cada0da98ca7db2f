"""What the page's form and the API's JSON send, read into a ``ScheduleInput``: the rule from
the friendly fields (``rules.from_form``) or an RRULE text, dates, ids. Bad input is a
``Refused`` with messages by field, never an exception of another kind."""

from datetime import date

from flask_babel import lazy_gettext as _l

from app.recurring import rules
from app.recurring.schedules import Refused, ScheduleInput
from app.request_fields import values as request_fields

FRIENDLY_FIELDS = ("frequency", "interval", "time", "weekdays", "monthly_by", "month_day",
                   "ordinal", "weekday", "month")


def _date(value, name: str, required: bool) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        if required:
            raise Refused({name: [str(_l("Give a date."))]})
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused({name: [str(_l("Give a date as YYYY-MM-DD."))]}) from None


def _id(value) -> int | None:
    text = str(value or "").strip()
    # ASCII digits only: "²" and "١" are digits to str.isdigit, and int("²") raises
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    return int(text) if int(text) <= 2**31 - 1 else None


def rule_of(mode: str, rrule_text, friendly: dict) -> str:
    """The rule's text from an RRULE (``mode`` "rrule") or the friendly fields."""
    try:
        if mode == "rrule":
            return rules.normalized(rrule_text)
        return rules.from_form(friendly)
    except rules.RuleError as exc:
        if mode == "rrule":
            raise Refused({"rrule": exc.messages.get("rule", [])}) from None
        raise Refused(exc.messages) from None


def from_page(form: dict, today: date) -> ScheduleInput:
    """The page's form (``form_values`` of request.form)."""
    mode = "rrule" if form.get("mode") == "rrule" else "friendly"
    friendly = {name: form.get(name) for name in FRIENDLY_FIELDS}
    weekdays = form.get("weekdays") or []
    friendly["weekdays"] = [weekdays] if isinstance(weekdays, str) else weekdays
    errors: dict = {}
    rule = ""
    try:
        rule = rule_of(mode, form.get("rrule"), friendly)
    except Refused as exc:
        errors.update(exc.errors)
    starts_on = ends_on = None
    for name, required in (("starts_on", True), ("ends_on", False)):
        try:
            value = _date(form.get(name), name, required)
        except Refused as exc:
            errors.update(exc.errors)
            continue
        if name == "starts_on":
            starts_on = value
        else:
            ends_on = value
    if errors:
        raise Refused(errors)
    return ScheduleInput(
        title=str(form.get("title") or ""), description=str(form.get("description") or ""),
        category_id=_id(form.get("category_id")), requester_id=_id(form.get("requester_id")),
        rule=rule, starts_on=starts_on or today, ends_on=ends_on,
        priority=str(form.get("priority") or "") or None,
        location=str(form.get("location") or ""),
        fields=request_fields.from_page(form) or {},
        catch_up=str(form.get("catch_up") or "all"))


def from_json(data: dict, today: date, kept: ScheduleInput | None = None) -> ScheduleInput:
    """The API's JSON (already checked by its schema); ``kept``: the schedule's values for
    what a PATCH leaves out."""
    base = dict(kept.__dict__) if kept is not None else {}
    if "rrule" in data and "recurrence" in data:
        raise Refused({"rrule": [str(_l("Send either rrule or recurrence, not both."))]})
    if "rrule" in data:
        base["rule"] = rule_of("rrule", data["rrule"], {})
    elif "recurrence" in data:
        base["rule"] = rule_of("friendly", None, data["recurrence"])
    elif kept is None:
        raise Refused({"rrule": [str(_l("Send rrule (an RRULE text) or recurrence (its "
                                        "friendly form)."))]})
    for name in ("title", "description", "category_id", "requester_id", "priority",
                 "location", "fields", "catch_up", "starts_on", "ends_on"):
        if name in data:
            base[name] = data[name]
    base.setdefault("starts_on", today)
    base.setdefault("location", "")
    base["fields"] = base.get("fields") or {}
    base.setdefault("catch_up", "all")
    return ScheduleInput(**{name: base.get(name) for name in (
        "title", "description", "category_id", "requester_id", "rule", "starts_on", "ends_on",
        "priority", "location", "fields", "catch_up")})


def input_of(row) -> ScheduleInput:
    """A schedule's own values as an input (to change some of them)."""
    return ScheduleInput(
        title=row.title, description=row.description, category_id=row.category_id,
        requester_id=row.requester_id, rule=row.rule, starts_on=row.starts_on,
        ends_on=row.ends_on, priority=row.priority, location=row.location or "",
        fields=dict(row.fields or {}), catch_up=row.catch_up)
