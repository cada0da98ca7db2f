"""SLA targets as the tenant admin edits them, shared by the pages and the API: one target per
kind, category and priority (either may be "any"), a length in business minutes on a business
calendar, a warning threshold and the statuses that pause its clock.

A request keeps the terms it was filed under; ``apply_to_open`` on a create or an edit flags
the open requests the target could match (before and after the edit) so the background runner
matches their targets again. Deleting a target leaves the clocks that ran under it as they
are. Anything wrong raises ``calendars.Refused`` and changes nothing; every change writes an
audit entry with its fields before and after. Everything only flushes: the view commits.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from app.admin import audit
from app.extensions import db
from app.labels import SLA_TARGET
from app.models import PRIORITIES, Category, User
from app.sla import calendars, service
from app.sla import clock as clk
from app.sla.calendars import Refused
from app.sla.models import BusinessCalendar, SlaTarget

MAX_MINUTES = 60 * 24 * 60  # 60 days of business time
MAX_HOURS = MAX_MINUTES // 60
AUDITED = ("kind", "category_id", "priority", "minutes", "warn_percent", "pause_statuses",
           "calendar_id")
SCOPE = ("kind", "category_id", "priority")
LIST_LOAD = (selectinload(SlaTarget.category), selectinload(SlaTarget.calendar))

KIND_LABELS = SLA_TARGET  # one wording of the three kinds (app.labels)
KIND_HELP = {
    "decision": _l("From filing until the request is approved or rejected (authorization "
                   "and evaluation together)."),
    "start": _l("From approval until the worker starts the work."),
    "resolution": _l("From filing until the ticket is finished."),
}
MESSAGES = {
    "kind": _l("Choose what the target measures."),
    "category": _l("Choose one of the company's categories, or any."),
    "priority": _l("Choose a priority from the list, or any."),
    "number": _l("Enter a whole number."),
    "length": _l("Give a length of more than zero."),
    "too_long": _l("At most 60 days (1440 hours) of business time."),
    "warn": _l("The warning threshold is a percentage from 1 to 100."),
    "pauses": _l("Choose among the statuses listed."),
    "no_calendar": _l("Create a business calendar first."),
    "calendar": _l("Choose one of the company's calendars."),
    "duplicate": _l("There is already a target for %(kind)s, %(category)s, %(priority)s: "
                    "change that one instead."),
    "any_category": _l("any category"),
    "any_priority": _l("any priority"),
}
KIND_ORDER = case({kind: i for i, kind in enumerate(clk.KINDS)}, value=SlaTarget.kind, else_=9)
PRIORITY_ORDER = case({p: i for i, p in enumerate(PRIORITIES)}, value=SlaTarget.priority,
                      else_=-1)


@dataclass
class TargetInput:
    """A target as typed; ``calendar_id`` None: the company's default calendar; ``errors``:
    what could not be read."""

    kind: str | None
    category_id: int | None
    priority: str | None
    minutes: int | None
    warn_percent: int | None = clk.DEFAULT_WARN_PERCENT
    pause_statuses: list[str] = field(default_factory=lambda: list(clk.DEFAULT_PAUSES))
    calendar_id: int | None = None
    apply_to_open: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)


def _add(errors: dict, key: str, message) -> None:
    errors.setdefault(key, []).append(str(message))


# --- reading the page's form -------------------------------------------------------------

def _whole(text, errors: dict, key: str, high: int, too_big) -> int | None:
    """A whole number from 0 to ``high`` typed on the page ("" is None)."""
    text = (text or "").strip()
    if not text:
        return None
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        _add(errors, key, MESSAGES["number"])
        return None
    if digits != text or len(text) > 10 or int(text) > high:
        _add(errors, key, MESSAGES["length"] if digits != text and key == "minutes"
             else too_big)
        return None
    return int(text)


def _choice_id(text, errors: dict, key: str, message) -> int | None:
    """An id chosen from a list ("" is None)."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 10 \
            or not 0 < int(text) <= 2**31 - 1:
        _add(errors, key, message)
        return None
    return int(text)


def read_form(form) -> TargetInput:
    """The page's fields: ``kind``, ``category_id`` / ``priority`` ("" any), ``hours`` and
    ``minutes``, ``warn_percent``, ``pause_statuses`` (checkboxes), ``calendar_id`` and the
    ``apply_to_open`` checkbox."""
    errors: dict[str, list[str]] = {}
    hours = _whole(form.get("hours"), errors, "minutes", MAX_HOURS, MESSAGES["too_long"])
    minutes = _whole(form.get("minutes"), errors, "minutes", MAX_MINUTES, MESSAGES["too_long"])
    total = None if hours is None and minutes is None else (hours or 0) * 60 + (minutes or 0)
    if "minutes" in errors:
        total = None
    warn = _whole(form.get("warn_percent"), errors, "warn_percent", 100, MESSAGES["warn"])
    if warn is None and "warn_percent" not in errors:
        _add(errors, "warn_percent", MESSAGES["warn"])
    return TargetInput(
        kind=form.get("kind", "").strip() or None,
        category_id=_choice_id(form.get("category_id"), errors, "category_id",
                               MESSAGES["category"]),
        priority=form.get("priority", "").strip() or None,
        minutes=total, warn_percent=warn,
        pause_statuses=form.getlist("pause_statuses")[:20],
        calendar_id=_choice_id(form.get("calendar_id"), errors, "calendar_id",
                               MESSAGES["calendar"]),
        apply_to_open=form.get("apply_to_open") in ("1", "on", "y", "true"),
        errors=errors)


def form_values(row: SlaTarget | None, default_calendar: BusinessCalendar | None) -> dict:
    """What the page's form shows: a row's values, or a new target's defaults."""
    if row is None:
        return {"kind": "resolution", "category_id": "", "priority": "", "hours": "",
                "minutes": "", "warn_percent": clk.DEFAULT_WARN_PERCENT,
                "pause_statuses": list(clk.DEFAULT_PAUSES),
                "calendar_id": default_calendar.id if default_calendar else ""}
    hours, minutes = divmod(row.minutes, 60)
    return {"kind": row.kind, "category_id": row.category_id or "",
            "priority": row.priority or "", "hours": hours, "minutes": minutes,
            "warn_percent": row.warn_percent, "pause_statuses": list(row.pause_statuses or []),
            "calendar_id": row.calendar_id}


def typed_values(form) -> dict:
    """The form as typed, to show it again when refused."""
    values = {key: form.get(key, "") for key in (
        "kind", "category_id", "priority", "hours", "minutes", "warn_percent", "calendar_id")}
    values["pause_statuses"] = form.getlist("pause_statuses")
    values["apply_to_open"] = form.get("apply_to_open") in ("1", "on", "y", "true")
    return values


# --- checking ----------------------------------------------------------------------------

def _category(tenant_id: int, category_id: int) -> Category | None:
    return db.session.scalar(select(Category).where(Category.tenant_id == tenant_id,
                                                    Category.id == category_id))


def _calendar(tenant_id: int, calendar_id: int | None, errors: dict) -> int | None:
    if calendar_id is None:
        default = calendars.default_of(tenant_id)
        if default is None:
            _add(errors, "calendar_id", MESSAGES["no_calendar"])
            return None
        return default.id
    found = db.session.scalar(select(BusinessCalendar.id).where(
        BusinessCalendar.tenant_id == tenant_id, BusinessCalendar.id == calendar_id))
    if found is None:
        _add(errors, "calendar_id", MESSAGES["calendar"])
    return found


def _pauses(statuses, errors: dict) -> list[str]:
    statuses = list(statuses or [])
    if any(s not in clk.PAUSABLE_STATUSES for s in statuses):
        _add(errors, "pause_statuses", MESSAGES["pauses"])
    return [s for s in clk.PAUSABLE_STATUSES if s in statuses]  # one order, no repeats


def scope_text(kind: str, category: Category | None, priority: str | None,
               locale: str | None = None) -> tuple[str, str, str]:
    """The kind, category and priority as a reader says them."""
    from app.labels import PRIORITY, label

    return (str(KIND_LABELS.get(kind, kind)),
            category.label(locale) if category is not None else str(MESSAGES["any_category"]),
            str(label(PRIORITY, priority)) if priority else str(MESSAGES["any_priority"]))


def _duplicate(tenant_id: int, values: dict, row: SlaTarget | None) -> bool:
    stmt = select(SlaTarget.id).where(
        SlaTarget.tenant_id == tenant_id, SlaTarget.kind == values["kind"],
        SlaTarget.category_id.is_(None) if values["category_id"] is None
        else SlaTarget.category_id == values["category_id"],
        SlaTarget.priority.is_(None) if values["priority"] is None
        else SlaTarget.priority == values["priority"])
    if row is not None:
        stmt = stmt.where(SlaTarget.id != row.id)
    return db.session.scalar(stmt.limit(1)) is not None


def check(tenant_id: int, data: TargetInput, row: SlaTarget | None = None) -> dict:
    """The row's values for ``data``, or Refused with every field's messages."""
    errors = {key: list(messages) for key, messages in data.errors.items()}
    if data.kind not in clk.KINDS:
        _add(errors, "kind", MESSAGES["kind"])
    category = None
    if data.category_id is not None and "category_id" not in errors:
        category = _category(tenant_id, data.category_id)
        if category is None:
            _add(errors, "category_id", MESSAGES["category"])
    if data.priority is not None and data.priority not in PRIORITIES:
        _add(errors, "priority", MESSAGES["priority"])
    if "minutes" not in errors:
        if data.minutes is None or data.minutes <= 0:
            _add(errors, "minutes", MESSAGES["length"])
        elif data.minutes > MAX_MINUTES:
            _add(errors, "minutes", MESSAGES["too_long"])
    if "warn_percent" not in errors and not (
            data.warn_percent is not None and 1 <= data.warn_percent <= 100):
        _add(errors, "warn_percent", MESSAGES["warn"])
    pauses = _pauses(data.pause_statuses, errors)
    calendar_id = _calendar(tenant_id, data.calendar_id, errors) \
        if "calendar_id" not in errors else None
    values = {"kind": data.kind, "category_id": data.category_id, "priority": data.priority,
              "minutes": data.minutes, "warn_percent": data.warn_percent,
              "pause_statuses": pauses, "calendar_id": calendar_id}
    if not errors and _duplicate(tenant_id, values, row):
        kind, cat, prio = scope_text(data.kind, category, data.priority)
        _add(errors, "_schema", str(MESSAGES["duplicate"]) % {
            "kind": kind, "category": cat, "priority": prio})
    if not errors:
        try:  # what the clocks will run on: the last word
            clk.Target(data.kind, timedelta(minutes=data.minutes), data.warn_percent,
                       frozenset(pauses))
        except ValueError as exc:
            _add(errors, "_schema", str(exc))
    if errors:
        raise Refused(errors)
    return values


# --- finding -----------------------------------------------------------------------------

def find(user: User, target_id, *, to_change: bool = False) -> SlaTarget | None:
    """The target ``target_id`` of ``user``'s company, else None. ``to_change``: read after
    taking the company's lock."""
    if not isinstance(target_id, int) or not 0 < target_id <= 2**31 - 1:
        return None
    if to_change:
        calendars.lock_company(user.tenant_id)
    return db.session.scalar(select(SlaTarget).where(SlaTarget.tenant_id == user.tenant_id,
                                                     SlaTarget.id == target_id))


def search(tenant_id: int, kind: str | None = None):
    """A SELECT of the company's targets by kind, then category (any first, then by name),
    then priority (any first, then low to urgent)."""
    stmt = (select(SlaTarget).outerjoin(Category, Category.id == SlaTarget.category_id)
            .where(SlaTarget.tenant_id == tenant_id))
    if kind is not None:
        stmt = stmt.where(SlaTarget.kind == kind)
    return stmt.order_by(KIND_ORDER, SlaTarget.category_id.is_not(None), Category.name,
                         PRIORITY_ORDER, SlaTarget.id)


def categories(tenant_id: int) -> list[Category]:
    return list(db.session.scalars(select(Category).where(Category.tenant_id == tenant_id)
                                   .order_by(Category.name, Category.id)))


# --- audited changes ---------------------------------------------------------------------

def _label(row: SlaTarget) -> str:
    category = row.category or (_category(row.tenant_id, row.category_id)
                                if row.category_id else None)
    return f"{row.kind} · {category.name if category else '*'} · {row.priority or '*'}"


def create(actor: User, data: TargetInput) -> tuple[SlaTarget, int | None]:
    """A new target, and how many open requests were flagged (None: not applied to them)."""
    calendars.lock_company(actor.tenant_id)
    values = check(actor.tenant_id, data)
    row = SlaTarget(tenant_id=actor.tenant_id, **values)
    db.session.add(row)
    db.session.flush()
    after = audit.snapshot(row, AUDITED)
    flagged = None
    if data.apply_to_open:
        flagged = service.mark_target_applied(row)
        after["applied_to_open"] = True
    audit.record(actor.tenant_id, actor, "sla_target.created", "sla_target", row.id,
                 target_label=_label(row), after=after)
    return row, flagged


def update(actor: User, row: SlaTarget, data: TargetInput) -> tuple[bool, int | None]:
    """Save ``data`` over ``row`` (found ``to_change``): whether anything changed, and how
    many open requests were flagged (None: not applied). Applied with a new scope, both the
    requests it matched and those it matches now are flagged."""
    values = check(actor.tenant_id, data, row)
    before = audit.snapshot(row, AUDITED)
    flagged = None
    if data.apply_to_open and any(values[key] != getattr(row, key) for key in SCOPE):
        flagged = service.mark_target_applied(row)  # those it matched until now
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    after = audit.snapshot(row, AUDITED)
    changed = [key for key in AUDITED if before[key] != after[key]]
    if data.apply_to_open:
        flagged = (flagged or 0) + service.mark_target_applied(row)
    if changed:
        audit.record(actor.tenant_id, actor, "sla_target.updated", "sla_target", row.id,
                     target_label=_label(row), before={k: before[k] for k in changed},
                     after={**{k: after[k] for k in changed},
                            **({"applied_to_open": True} if data.apply_to_open else {})})
    elif data.apply_to_open:
        audit.record(actor.tenant_id, actor, "sla_target.applied", "sla_target", row.id,
                     target_label=_label(row), after={"applied_to_open": True})
    return bool(changed), flagged


def delete(actor: User, row: SlaTarget) -> None:
    """Remove the target (found ``to_change``): the clocks that ran under it keep their
    terms; requests filed from now on no longer match it."""
    audit.record(actor.tenant_id, actor, "sla_target.deleted", "sla_target", row.id,
                 target_label=_label(row), before=audit.snapshot(row, AUDITED))
    db.session.delete(row)
    db.session.flush()
