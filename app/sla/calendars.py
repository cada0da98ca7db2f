"""Business calendars as the tenant admin edits them, shared by the pages and the API: the
form a person types (one line of shifts per weekday, one holiday per line) or the JSON the API
receives, checked into a row, and the audited create, change, default and delete.

A calendar is checked by building the pure ``app.sla.calendar.Calendar`` it stands for, after
checks of our own that name each wrong field in the reader's language. Anything wrong raises
``Refused`` (field -> messages) and changes nothing. Edits of a company take turns (its row is
locked), so the first calendar is the only default, a name is taken once, and a calendar is
never deleted while a target is being given it. Everything only flushes: the view commits.
"""

import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.admin import audit
from app.extensions import db
from app.models import Tenant, User
from app.sla import service
from app.sla.calendar import (
    WEEKDAYS,
    Calendar,
    CalendarError,
    check_day,
    format_hhmm,
    known_zone,
    parse_hhmm,
)
from app.sla.models import BusinessCalendar, SlaClock, SlaTarget

MAX_SHIFTS = 6
MAX_HOLIDAYS = 400
MAX_LINE_MESSAGES = 10          # unreadable holiday lines named one by one, then no more
WORK_HORIZON_DAYS = 4 * 366 + 7  # a leap day and every weekday come within it
NAME_CHARS = 120
DAY_TEXT_CHARS = 200            # one weekday's line on the page
HOLIDAYS_TEXT_CHARS = 64_000    # the holidays' textarea
YEARLY_YEAR = 2000  # a yearly holiday is stored on this (leap) year: 29 February fits
AUDITED = ("name", "time_zone", "is_default", "week", "holidays")
CLOCK_FIELDS = ("time_zone", "week", "holidays")  # what moves the clocks running on it
NEW_WEEK = {day: ([["08:00", "12:00"], ["14:00", "18:00"]] if day not in ("sat", "sun")
                  else []) for day in WEEKDAYS}

WEEKDAY_LABELS = {
    "mon": _l("Monday"), "tue": _l("Tuesday"), "wed": _l("Wednesday"),
    "thu": _l("Thursday"), "fri": _l("Friday"), "sat": _l("Saturday"), "sun": _l("Sunday"),
}
MESSAGES = {
    "name": _l("Give the calendar a name of at most 120 characters."),
    "name_taken": _l("Another calendar of the company has this name."),
    "name_line": _l("Write the name on one line, without invisible characters."),
    "zone": _l("Unknown time zone: choose one from the list, e.g. America/Bogota."),
    "shift_text": _l("Write each shift as 08:00-12:00 and separate shifts with commas; "
                     "leave the day empty for a day off."),
    "day_text": _l("Too long: at most 200 characters."),
    "shifts": _l("At most 6 shifts a day."),
    "hhmm": _l("Write times as HH:MM, from 00:00 to 24:00."),
    "order": _l("A shift must end after it starts (%(shift)s)."),
    "overlap": _l("The shifts of this day overlap."),
    "no_work": _l("Give the calendar some working time in the week."),
    "holidays": _l("At most 400 holidays."),
    "holiday_line": _l("Line %(line)s: write a date and its name, 2026-12-25 Navidad, or "
                       "12-25 Navidad for every year."),
    "holiday_date": _l("%(date)s is not a date."),
    "holiday_name": _l("A holiday's name has at most 120 characters (%(date)s)."),
    "holiday_twice": _l("%(date)s is listed twice."),
    "holiday_name_line": _l("Write a holiday's name on one line, without invisible "
                            "characters (%(date)s)."),
    "holidays_more": _l("The lines after these were not read: correct these first."),
    "no_work_days": _l("The holidays leave the calendar no working day in the next four "
                       "years."),
    "is_default": _l("A company always has a default calendar: make another one the "
                     "default instead."),
    "default": _l("The default calendar cannot be deleted: make another calendar the "
                  "default first."),
    "targets": _l("SLA targets use this calendar (%(count)s): give them another calendar "
                  "first."),
    "open_clocks": _l("Open requests are measured by this calendar (%(count)s): it can be "
                      "deleted once their clocks have stopped."),
    "used_meanwhile": _l("A request filed meanwhile is measured by this calendar: it "
                         "cannot be deleted."),
    "past_clocks": _l("Requests were measured by this calendar (%(count)s) and keep it "
                      "with their clocks, so it cannot be deleted."),
}
HOLIDAY_RE = re.compile(r"^(?:(\d{4})-)?(\d{1,2})-(\d{1,2})(?:\s+(.*))?$")
SHIFT_SPLIT = re.compile(r"\s*[-\u2013\u2014]\s*")  # 08:00-12:00, also with an en dash


class Refused(ValueError):
    """An edit that cannot be made: messages by field (``_schema``: about no one field)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class CalendarInput:
    """A calendar as typed: shifts as [start, end] text pairs per weekday, holidays as
    ``{"date": date, "yearly": bool, "name": str}``; ``errors``: what could not be read."""

    name: str
    time_zone: str
    week: dict[str, list]
    holidays: list[dict]
    errors: dict[str, list[str]] = field(default_factory=dict)


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The IANA time zones this machine knows, sorted (for the page's list)."""
    return tuple(sorted(available_timezones()))


def _add(errors: dict, key: str, message) -> None:
    errors.setdefault(key, []).append(str(message))


def _format(key: str, **values) -> str:
    """MESSAGES[key] in the reader's language with ``values`` filled in."""
    return str(MESSAGES[key]) % values


# --- reading the page's form -------------------------------------------------------------

def read_form(form) -> CalendarInput:
    """The page's fields: ``name``, ``time_zone``, ``week_<day>`` ("08:00-12:00, 14:00-18:00")
    and ``holidays`` (one per line)."""
    errors: dict[str, list[str]] = {}
    week = {day: _read_day(form.get(f"week_{day}", ""), day, errors) for day in WEEKDAYS}
    return CalendarInput(name=form.get("name", ""), time_zone=form.get("time_zone", "").strip(),
                         week=week, holidays=_read_holidays(form.get("holidays", ""), errors),
                         errors=errors)


def _read_day(text: str, day: str, errors: dict) -> list:
    if len(text) > DAY_TEXT_CHARS:
        _add(errors, f"week.{day}", MESSAGES["day_text"])
        return []
    shifts = []
    for piece in re.split(r"[,;]", text):
        if not piece.strip():
            continue
        parts = SHIFT_SPLIT.split(piece.strip())
        if len(parts) != 2:
            _add(errors, f"week.{day}", MESSAGES["shift_text"])
            return []
        shifts.append(parts)
    return shifts


def _read_holidays(text: str, errors: dict) -> list[dict]:
    if len(text) > HOLIDAYS_TEXT_CHARS:
        _add(errors, "holidays", MESSAGES["holidays"])
        return []
    holidays = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if len(errors.get("holidays", ())) >= MAX_LINE_MESSAGES:
            _add(errors, "holidays", MESSAGES["holidays_more"])  # the page stays a page
            break
        match = HOLIDAY_RE.match(line)
        if match is None:
            _add(errors, "holidays", _format("holiday_line", line=number))
            continue
        year, month, day, name = match.groups()
        try:
            when = date(int(year) if year else YEARLY_YEAR, int(month), int(day))
        except ValueError:
            _add(errors, "holidays", _format("holiday_date", date=line.split()[0]))
            continue
        holidays.append({"date": when, "yearly": year is None, "name": (name or "").strip()})
    return holidays


# --- the values a row holds, and back ----------------------------------------------------

def _holiday_key(item: dict) -> tuple:
    day = item["date"]
    return (0, day.month, day.day) if item["yearly"] else (1, day.year, day.month, day.day)


def _holiday_text(item: dict) -> str:
    day = item["date"]
    return f"{day.month:02d}-{day.day:02d}" if item["yearly"] else day.isoformat()


def stored_holidays(row: BusinessCalendar) -> list[dict]:
    """The row's holidays with dates as ``date``."""
    out = []
    for item in row.holidays or []:
        try:
            out.append({"date": date.fromisoformat(item["date"]),
                        "yearly": bool(item.get("yearly")), "name": item.get("name") or ""})
        except (KeyError, TypeError, ValueError):
            continue
    return out


def form_values(row: BusinessCalendar | None, tenant: Tenant) -> dict:
    """What the page's form shows: a row's values, or a new calendar's (Monday to Friday
    08:00-12:00 and 14:00-18:00 in the company's time zone)."""
    week = row.week if row is not None else NEW_WEEK
    values = {f"week_{day}": ", ".join(f"{a}-{b}" for a, b in (week or {}).get(day) or [])
              for day in WEEKDAYS}
    holidays = stored_holidays(row) if row is not None else []
    values.update(
        name=row.name if row is not None else "",
        time_zone=row.time_zone if row is not None else tenant.timezone,
        holidays="\n".join(f"{_holiday_text(h)} {h['name']}".rstrip() for h in holidays))
    return values


def holiday_lines(row: BusinessCalendar) -> list[tuple[str, str, bool]]:
    """(date as written, name, yearly) per holiday, yearly ones first."""
    return [(_holiday_text(h), h["name"], h["yearly"]) for h in stored_holidays(row)]


# --- checking ----------------------------------------------------------------------------

def _check_name(tenant_id: int, name: str, row: BusinessCalendar | None, errors: dict) -> str:
    name = name.strip()
    if not name or len(name) > NAME_CHARS:
        _add(errors, "name", MESSAGES["name"])
        return name
    if not _one_visible_line(name):  # as people's and units' names (app/admin)
        _add(errors, "name", MESSAGES["name_line"])
        return name
    # Compared here, not with SQL lower(): SQLite's knows only ASCII letters ("ÁREA" would
    # pass beside "Área", and "Área" itself reach the unique index)
    stmt = select(BusinessCalendar.name).where(BusinessCalendar.tenant_id == tenant_id)
    if row is not None:
        stmt = stmt.where(BusinessCalendar.id != row.id)
    key = _name_key(name)
    if any(_name_key(taken) == key for taken in db.session.scalars(stmt)):
        _add(errors, "name", MESSAGES["name_taken"])
    return name


def _one_visible_line(text: str) -> bool:
    """No line break, direction override or other invisible character; some visible one."""
    return text.isprintable() and any(not ch.isspace() for ch in text)


def _name_key(name: str) -> str:
    """A name as compared: one Unicode form, any case."""
    return unicodedata.normalize("NFKC", name).casefold()


def _check_zone(zone: str, errors: dict) -> None:
    try:
        known_zone(zone)
        if zone not in zone_names():
            raise CalendarError("time_zone", zone)
    except CalendarError:
        _add(errors, "time_zone", MESSAGES["zone"])


def _check_week(week: dict, errors: dict) -> tuple[dict, tuple]:
    """The week as stored ({"mon": [["08:00", "12:00"]], ...}) and as the pure calendar
    takes it (minutes), with each day's errors under ``week.<day>``."""
    stored, minutes = {}, []
    for day in WEEKDAYS:
        key = f"week.{day}"
        shifts = week.get(day) or []
        if len(shifts) > MAX_SHIFTS:
            _add(errors, key, MESSAGES["shifts"])
            shifts = []
        parsed = []
        for start, end in shifts:
            try:
                a, b = parse_hhmm(start), parse_hhmm(end)
            except (ValueError, AttributeError):
                _add(errors, key, MESSAGES["hhmm"])
                parsed = None
                break
            if a >= b:
                _add(errors, key, _format("order", shift=f"{start}-{end}"))
                parsed = None
                break
            parsed.append((a, b))
        if parsed:
            try:
                parsed = list(check_day(parsed, day))
            except CalendarError:
                _add(errors, key, MESSAGES["overlap"])
                parsed = None
        minutes.append(tuple(parsed or ()))
        stored[day] = [[format_hhmm(a), format_hhmm(b)] for a, b in parsed or ()]
    if not any(key.startswith("week.") for key in errors) and not any(minutes):
        _add(errors, "week", MESSAGES["no_work"])
    return stored, tuple(minutes)


def _check_holidays(holidays: list[dict], errors: dict) -> list[dict]:
    if len(holidays) > MAX_HOLIDAYS:
        _add(errors, "holidays", MESSAGES["holidays"])
        return []
    seen = set()
    for item in holidays:
        written = _holiday_text(item)
        if len(item["name"]) > NAME_CHARS:
            _add(errors, "holidays", _format("holiday_name", date=written))
        elif item["name"].strip() and not item["name"].isprintable():
            _add(errors, "holidays", _format("holiday_name_line", date=written))
        if _holiday_key(item) in seen:
            _add(errors, "holidays", _format("holiday_twice", date=written))
        seen.add(_holiday_key(item))
    ordered = sorted(holidays, key=_holiday_key)
    return [{"date": (h["date"].replace(year=YEARLY_YEAR) if h["yearly"] else h["date"])
             .isoformat(), "yearly": h["yearly"], "name": h["name"].strip()} for h in ordered]


def _works_within(calendar: Calendar, today: date) -> bool:
    """Whether a day of the next four years has shifts and is no holiday: yearly holidays on
    every date of the year would leave a week with shifts no working time at all."""
    return any(calendar.week[day.weekday()] and not calendar.is_holiday(day)
               for day in (today + timedelta(days=n) for n in range(WORK_HORIZON_DAYS)))


def check(tenant_id: int, data: CalendarInput, row: BusinessCalendar | None = None) -> dict:
    """The row's values for ``data``, or Refused with every field's messages."""
    errors = {key: list(messages) for key, messages in data.errors.items()}
    name = _check_name(tenant_id, data.name, row, errors)
    _check_zone(data.time_zone, errors)
    week, minutes = _check_week(data.week, errors) if not any(
        k.startswith("week.") for k in errors) else ({}, ())
    holidays = _check_holidays(data.holidays, errors) if "holidays" not in errors else []
    if not errors:
        try:  # what the clocks will run on: the last word
            built = Calendar(data.time_zone, minutes,
                             frozenset(date.fromisoformat(h["date"]) for h in holidays
                                       if not h["yearly"]),
                             frozenset((int(h["date"][5:7]), int(h["date"][8:10]))
                                       for h in holidays if h["yearly"]))
        except CalendarError as exc:
            key = exc.field if exc.field in CLOCK_FIELDS else (
                f"week.{exc.field}" if exc.field in WEEKDAYS else "week")
            _add(errors, key, exc.message)
        else:
            if not _works_within(built, datetime.now(UTC).date()):
                _add(errors, "holidays", MESSAGES["no_work_days"])
    if errors:
        raise Refused(errors)
    return {"name": name, "time_zone": data.time_zone, "week": week, "holidays": holidays}


# --- finding -----------------------------------------------------------------------------

def lock_company(tenant_id: int) -> None:
    """Edits of a company's calendars and targets take turns. FOR NO KEY UPDATE: every insert
    of the company takes a KEY SHARE lock on its row, which this does not block."""
    db.session.scalars(select(Tenant.id).where(Tenant.id == tenant_id)
                       .with_for_update(key_share=True)).all()


def find(user: User, calendar_id, *, to_change: bool = False) -> BusinessCalendar | None:
    """The calendar ``calendar_id`` of ``user``'s company, else None (another company's or a
    bad id: not found). ``to_change``: read after taking the company's lock."""
    if not isinstance(calendar_id, int) or not 0 < calendar_id <= 2**31 - 1:
        return None
    if to_change:
        lock_company(user.tenant_id)
    return db.session.scalar(select(BusinessCalendar).where(
        BusinessCalendar.tenant_id == user.tenant_id, BusinessCalendar.id == calendar_id))


def search(tenant_id: int):
    """A SELECT of the company's calendars: the default first, then by name."""
    return (select(BusinessCalendar).where(BusinessCalendar.tenant_id == tenant_id)
            .order_by(BusinessCalendar.is_default.desc(), BusinessCalendar.name,
                      BusinessCalendar.id))


def all_of(tenant_id: int) -> list[BusinessCalendar]:
    return list(db.session.scalars(search(tenant_id)))


def default_of(tenant_id: int) -> BusinessCalendar | None:
    return db.session.scalar(search(tenant_id).where(BusinessCalendar.is_default.is_(True))
                             .limit(1))


@dataclass
class Usage:
    targets: int
    open_clocks: int
    past_clocks: int


def usage(row: BusinessCalendar) -> Usage:
    """How many targets and clocks (running or stopped) refer to the calendar."""
    targets = db.session.scalar(select(func.count()).select_from(SlaTarget).where(
        SlaTarget.tenant_id == row.tenant_id, SlaTarget.calendar_id == row.id))
    open_, past = (db.session.scalar(select(func.count()).select_from(SlaClock).where(
        SlaClock.tenant_id == row.tenant_id, SlaClock.calendar_id == row.id, condition))
        for condition in (SlaClock.stopped_at.is_(None), SlaClock.stopped_at.is_not(None)))
    return Usage(targets or 0, open_ or 0, past or 0)


def week_hours(row: BusinessCalendar) -> str:
    """Working time of a week, e.g. "40 h" or "37 h 30 min"."""
    total = 0
    for day in WEEKDAYS:
        for start, end in (row.week or {}).get(day) or []:
            try:
                total += parse_hhmm(end) - parse_hhmm(start)
            except (ValueError, AttributeError):
                continue
    return duration_text(total)


def duration_text(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return str(_l("%(h)s h %(m)s min", h=hours, m=rest))
    if hours:
        return str(_l("%(h)s h", h=hours))
    return str(_l("%(m)s min", m=rest))


# --- audited changes ---------------------------------------------------------------------

@contextmanager
def _name_taken_once():
    """The changes made inside are written in a savepoint (begin_nested flushes what was
    pending before it, outside the savepoint): the unique (company, name) index refusing them
    is a Refused, and the session stays usable for the page that says so."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError:  # the unique (company, name) index: taken meanwhile
        raise Refused({"name": [str(MESSAGES["name_taken"])]}) from None


def create(actor: User, data: CalendarInput) -> BusinessCalendar:
    """A new calendar; the company's first one becomes its default."""
    lock_company(actor.tenant_id)
    values = check(actor.tenant_id, data)
    first = default_of(actor.tenant_id) is None
    row = BusinessCalendar(tenant_id=actor.tenant_id, is_default=first, **values)
    with _name_taken_once():
        db.session.add(row)
    audit.record(actor.tenant_id, actor, "sla_calendar.created", "business_calendar", row.id,
                 target_label=row.name, after=audit.snapshot(row, AUDITED))
    return row


def update(actor: User, row: BusinessCalendar, data: CalendarInput) -> list[str]:
    """Save ``data`` over ``row`` (found ``to_change``); the fields that changed (none: an
    empty list). The clocks running on it are marked for recomputing when its time
    changed."""
    values = check(actor.tenant_id, data, row)
    before = audit.snapshot(row, AUDITED)
    with _name_taken_once():
        for name, value in values.items():
            setattr(row, name, value)  # an equal value changes nothing (no UPDATE)
    after = audit.snapshot(row, AUDITED)
    changed = [key for key in AUDITED if before[key] != after[key]]
    if not changed:
        return changed
    if any(key in CLOCK_FIELDS for key in changed):
        service.mark_calendar_changed(row)
    audit.record(actor.tenant_id, actor, "sla_calendar.updated", "business_calendar", row.id,
                 target_label=row.name, before={k: before[k] for k in changed},
                 after={k: after[k] for k in changed})
    return changed


def make_default(actor: User, row: BusinessCalendar) -> bool:
    """Make ``row`` (found ``to_change``) the company's default; the old one no longer is.
    False when it already was."""
    if row.is_default:
        return False
    for old in db.session.scalars(select(BusinessCalendar).where(
            BusinessCalendar.tenant_id == actor.tenant_id,
            BusinessCalendar.is_default.is_(True))):
        old.is_default = False
        audit.record(actor.tenant_id, actor, "sla_calendar.updated", "business_calendar",
                     old.id, target_label=old.name, before={"is_default": True},
                     after={"is_default": False})
    row.is_default = True
    audit.record(actor.tenant_id, actor, "sla_calendar.updated", "business_calendar", row.id,
                 target_label=row.name, before={"is_default": False},
                 after={"is_default": True})
    db.session.flush()
    return True


def refusals(row: BusinessCalendar) -> list[str]:
    """Why ``row`` cannot be deleted (empty: it can)."""
    if row.is_default:
        return [str(MESSAGES["default"])]
    used = usage(row)
    reasons = []
    if used.targets:
        reasons.append(_format("targets", count=used.targets))
    if used.open_clocks:
        reasons.append(_format("open_clocks", count=used.open_clocks))
    if used.past_clocks:
        reasons.append(_format("past_clocks", count=used.past_clocks))
    return [str(r) for r in reasons]


def delete(actor: User, row: BusinessCalendar) -> None:
    """Remove a calendar nothing uses (found ``to_change``); Refused otherwise."""
    reasons = refusals(row)
    if reasons:
        raise Refused({"_schema": reasons})
    audit.record(actor.tenant_id, actor, "sla_calendar.deleted", "business_calendar", row.id,
                 target_label=row.name, before=audit.snapshot(row, AUDITED))
    db.session.flush()  # the audit entry: only the delete is tried in the savepoint
    try:
        with db.session.begin_nested():
            db.session.delete(row)
    except IntegrityError:  # a request filed meanwhile started a clock on it
        raise Refused({"_schema": [str(MESSAGES["used_meanwhile"])]}) from None
