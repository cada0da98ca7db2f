"""Recurrence rules (RFC 5545 RRULE, python-dateutil), pure: no database.

A schedule's rule is kept as its RRULE parts without DTSTART or UNTIL: the pattern starts at
midnight of the schedule's start date in its time zone and ends with its end date (the last
day included), both given apart, so nobody sends a DTSTART or an UNTIL of their own. Rules
are followed in local wall-clock time: 09:00 stays 09:00 across daylight-saving changes (a
time that does not exist that day, 02:30 when clocks jump from 02:00 to 03:00, is filed an
hour later, at the same instant as 03:30).

Accepted: FREQ, INTERVAL, COUNT (at most ``MAX_COUNT``), BYDAY, BYMONTHDAY, BYMONTH, BYHOUR,
BYMINUTE and WKST, in the shapes ``SHAPES`` lists per frequency. Those shapes keep every
rule's work bounded (a rule that can never fire is found in a few thousand steps at most:
only monthly and yearly rules can, and dateutil walks those month by month). Refused:
DTSTART, UNTIL, BYSECOND, BYSETPOS, BYYEARDAY, BYWEEKNO, more often than every 15 minutes,
and rules that never fire. The plan's monthly quota is checked by the caller with
``Summary.per_month``.

A rule is followed on from a known occurrence (its *anchor*: the wall-clock time of the next
occurrence, kept on the schedule), not from its start, so finding the next occurrence costs
the same after years as on the first day. An occurrence of these shapes is a valid start of
the same pattern (its week, month or year is one the interval visits); a rule with COUNT is
always followed from its start (it has at most ``MAX_COUNT`` occurrences).
"""

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr
from flask_babel import lazy_gettext as _l

FREQUENCIES = ("MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
FRIENDLY = ("daily", "weekly", "monthly", "yearly")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
KEYS = ("FREQ", "INTERVAL", "COUNT", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE",
        "WKST")
MIN_GAP = timedelta(minutes=15)
MAX_COUNT = 1000
MAX_RULE_CHARS = 300
MAX_YEARS = 10          # an end date at most this many years after the start
SAMPLE = 6000           # occurrences looked at to find the smallest gap and the busiest month
SAMPLE_DAYS = 400
LIST_ITEMS = 60

# Per frequency: largest INTERVAL, the parts it may carry, and parts allowed only with an
# INTERVAL of at most the number given (beyond it they could make a rule that never fires
# while dateutil walks minute by minute or day by day until the year 9999).
SHAPES = {
    "MINUTELY": (1440, {"BYDAY", "BYHOUR"}, {"BYHOUR": 60}),
    "HOURLY": (24, {"BYDAY", "BYHOUR", "BYMINUTE"}, {"BYHOUR": 1}),
    "DAILY": (366, {"BYDAY", "BYMONTH", "BYHOUR", "BYMINUTE"}, {"BYDAY": 1, "BYMONTH": 1}),
    "WEEKLY": (52, {"BYDAY", "BYHOUR", "BYMINUTE", "WKST"}, {}),
    "MONTHLY": (24, {"BYDAY", "BYMONTHDAY", "BYHOUR", "BYMINUTE"}, {}),
    "YEARLY": (10, {"BYMONTH", "BYDAY", "BYMONTHDAY", "BYHOUR", "BYMINUTE"}, {}),
}
NOT_ACCEPTED = {
    "DTSTART": _l("Do not send DTSTART: the start date is its own field."),
    "UNTIL": _l("Do not send UNTIL: the end date is its own field."),
    "TZID": _l("Do not send a time zone: the company's is used."),
}
_INT = re.compile(r"^[+-]?\d{1,6}$")
_DAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class RuleError(ValueError):
    """A rule refused: ``messages`` by field (``rule`` for the rule itself)."""

    def __init__(self, message, field: str = "rule"):
        self.messages = {field: [str(message)]}
        super().__init__(str(message))


# --- parsing --------------------------------------------------------------------------------

def _ints(key: str, value: str, low: int, high: int, zero: bool = True) -> list[int]:
    items = value.split(",")
    if len(items) > LIST_ITEMS or not all(_INT.match(item) for item in items):
        raise RuleError(_l("%(key)s takes whole numbers separated by commas.", key=key))
    numbers = [int(item) for item in items]
    if any(n < low or n > high or (n == 0 and not zero) for n in numbers):
        raise RuleError(_l("%(key)s takes numbers from %(low)s to %(high)s.", key=key,
                           low=low, high=high))
    return sorted(set(numbers))


def _days(value: str, ordinals: bool) -> list[str]:
    items = value.split(",")
    if len(items) > LIST_ITEMS:
        raise RuleError(_l("BYDAY has too many days."))
    days = []
    for item in items:
        match = _DAY.match(item)
        if match is None:
            raise RuleError(_l("BYDAY takes days such as MO, TU, 1MO (first Monday) or -1FR "
                               "(last Friday)."))
        if match.group(1) is not None:
            n = int(match.group(1))
            if not ordinals:
                raise RuleError(_l("A day with a number (1MO, -1FR) fits only a monthly or "
                                   "yearly rule (yearly: with BYMONTH)."))
            if n == 0 or abs(n) > 5:
                raise RuleError(_l("The number before a day goes from 1 to 5 or -1 to -5 "
                                   "(-1: the last)."))
            item = f"{n}{match.group(2)}"
        days.append(item)
    return sorted(set(days), key=lambda d: (WEEKDAYS.index(d[-2:]), d))


def parse(text) -> dict:
    """The RRULE parts of ``text`` ("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9" or with "RRULE:"),
    checked and normalized: {key: value text}. Raises RuleError."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(_l("Give a rule, e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=9."))
    text = text.strip().upper()
    if len(text) > MAX_RULE_CHARS:
        raise RuleError(_l("The rule is too long (at most %(n)s characters).",
                           n=MAX_RULE_CHARS))
    if text.startswith("RRULE:"):
        text = text[len("RRULE:"):]
    if any(ch in text for ch in "\r\n:") or not text.isascii():
        raise RuleError(_l("Give one rule only: its parts (FREQ=...;...), without DTSTART."))
    parts: dict[str, str] = {}
    for piece in filter(None, text.split(";")):
        key, sep, value = piece.partition("=")
        key = key.strip()
        if key in NOT_ACCEPTED:
            raise RuleError(NOT_ACCEPTED[key])
        if not sep or not value.strip():
            raise RuleError(_l("Each part of the rule is NAME=value, separated by ';'."))
        if key not in KEYS:
            raise RuleError(_l("The rule part %(key)s is not accepted here.", key=key[:20]))
        if key in parts:
            raise RuleError(_l("%(key)s is given twice.", key=key))
        parts[key] = value.strip()
    return _checked(parts)


def _checked(parts: dict) -> dict:
    freq = parts.get("FREQ")
    if freq not in FREQUENCIES:
        raise RuleError(_l("FREQ must be one of %(list)s (not more often than every 15 "
                           "minutes).", list=", ".join(FREQUENCIES)))
    largest, allowed, narrow = SHAPES[freq]
    interval = _ints("INTERVAL", parts.get("INTERVAL", "1"), 1, 100_000)
    if len(interval) != 1:
        raise RuleError(_l("INTERVAL takes one number."))
    interval = interval[0]
    if freq == "MINUTELY" and interval < 15:
        raise RuleError(_l("A request cannot be filed more often than every 15 minutes."))
    if interval > largest:
        raise RuleError(_l("INTERVAL is at most %(n)s for this frequency.", n=largest))
    for key in parts:
        if key in ("FREQ", "INTERVAL", "COUNT"):
            continue
        if key not in allowed:
            raise RuleError(_l("%(key)s does not fit a rule of frequency %(freq)s here.",
                               key=key, freq=freq))
        if key in narrow and interval > narrow[key]:
            raise RuleError(_l("%(key)s fits this frequency only with an INTERVAL of at most "
                               "%(n)s.", key=key, n=narrow[key]))
    out = {"FREQ": freq}
    if interval > 1:
        out["INTERVAL"] = str(interval)
    if "COUNT" in parts:
        count = _ints("COUNT", parts["COUNT"], 1, MAX_COUNT)
        if len(count) != 1:
            raise RuleError(_l("COUNT takes one number."))
        out["COUNT"] = str(count[0])
    if "BYMONTH" in parts:
        out["BYMONTH"] = ",".join(map(str, _ints("BYMONTH", parts["BYMONTH"], 1, 12)))
    if "BYMONTHDAY" in parts:
        out["BYMONTHDAY"] = ",".join(map(str, _ints("BYMONTHDAY", parts["BYMONTHDAY"], -31,
                                                    31, zero=False)))
    if "BYDAY" in parts:
        ordinals = freq == "MONTHLY" or (freq == "YEARLY" and "BYMONTH" in parts)
        out["BYDAY"] = ",".join(_days(parts["BYDAY"], ordinals))
        if "BYMONTHDAY" in parts and any(day[0] in "+-0123456789" for day in
                                         out["BYDAY"].split(",")):
            raise RuleError(_l("A day with a number (1MO) does not go with BYMONTHDAY: give "
                               "one or the other."))
    if "BYHOUR" in parts:
        out["BYHOUR"] = ",".join(map(str, _ints("BYHOUR", parts["BYHOUR"], 0, 23)))
    elif freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        out["BYHOUR"] = "0"  # what the start (midnight) gives anyway, said explicitly
    if "BYMINUTE" in parts:
        out["BYMINUTE"] = ",".join(map(str, _ints("BYMINUTE", parts["BYMINUTE"], 0, 59)))
    elif freq != "MINUTELY":
        out["BYMINUTE"] = "0"
    if "WKST" in parts:
        if parts["WKST"] not in WEEKDAYS:
            raise RuleError(_l("WKST takes a day: MO, TU, WE, TH, FR, SA or SU."))
        out["WKST"] = parts["WKST"]
    return out


def text_of(parts: dict) -> str:
    return ";".join(f"{key}={parts[key]}" for key in KEYS if key in parts)


def normalized(text) -> str:
    """The rule checked and written in one canonical way (raises RuleError)."""
    return text_of(parse(text))


# --- the friendly form ---------------------------------------------------------------------

def _form_int(form: dict, name: str, low: int, high: int, label) -> int:
    raw = str(form.get(name) if form.get(name) is not None else "").strip()
    if not _INT.match(raw) or not low <= int(raw) <= high:
        raise RuleError(_l("%(label)s: a whole number from %(low)s to %(high)s.", label=label,
                           low=low, high=high), field=name)
    return int(raw)


def _weekdays(form: dict, name: str = "weekdays") -> list[str]:
    chosen = form.get(name) or []
    if isinstance(chosen, str):
        chosen = [chosen]
    if not isinstance(chosen, list) or not all(d in WEEKDAYS for d in chosen):
        raise RuleError(_l("Choose days of the week from the list."), field=name)
    return [d for d in WEEKDAYS if d in chosen]


def from_form(form: dict) -> str:
    """A rule from the friendly form: ``frequency`` (daily, weekly, monthly, yearly),
    ``interval``, ``time`` ("09:00"), ``weekdays`` (weekly; daily: which days), and for
    monthly and yearly ``month_day`` (1..31, -1 the last) or ``ordinal`` (1..4, -1 the last)
    with ``weekday``; yearly: ``month``. Raises RuleError by field."""
    frequency = form.get("frequency")
    if frequency not in FRIENDLY:
        raise RuleError(_l("Choose how often."), field="frequency")
    largest = SHAPES[frequency.upper()][0]
    interval = _form_int(form, "interval", 1, largest, _l("Every"))
    match = _TIME.match(str(form.get("time") or "").strip())
    if match is None:
        raise RuleError(_l("Give the time of day as HH:MM, e.g. 09:00."), field="time")
    parts = {"FREQ": frequency.upper(), "INTERVAL": str(interval),
             "BYHOUR": str(int(match.group(1))), "BYMINUTE": str(int(match.group(2)))}
    days = _weekdays(form)
    if frequency == "weekly":
        if not days:
            raise RuleError(_l("Choose at least one day of the week."), field="weekdays")
        parts["BYDAY"] = ",".join(days)
    elif frequency == "daily" and days and len(days) < 7:
        if interval != 1:
            raise RuleError(_l("Days of the week can only be chosen when it repeats every "
                               "day (1)."), field="weekdays")
        parts["BYDAY"] = ",".join(days)
    if frequency in ("monthly", "yearly"):
        if frequency == "yearly":
            parts["BYMONTH"] = str(_form_int(form, "month", 1, 12, _l("Month")))
        if form.get("monthly_by") == "weekday":
            ordinal = _form_int(form, "ordinal", -1, 5, _l("Which"))
            if ordinal == 0:
                raise RuleError(_l("Choose first, second, third, fourth or last."),
                                field="ordinal")
            weekday = form.get("weekday")
            if weekday not in WEEKDAYS:
                raise RuleError(_l("Choose the day of the week."), field="weekday")
            parts["BYDAY"] = f"{ordinal}{weekday}"
        else:
            day = _form_int(form, "month_day", -1, 31, _l("Day of the month"))
            if day == 0:
                raise RuleError(_l("Day of the month: 1 to 31, or the last."),
                                field="month_day")
            parts["BYMONTHDAY"] = str(day)
    return normalized(text_of(parts))


def to_form(text: str) -> dict | None:
    """The friendly form's values of a rule it can express, else None."""
    try:
        parts = parse(text)
    except RuleError:
        return None
    freq = parts["FREQ"].lower()
    hours, minutes = parts.get("BYHOUR", ""), parts.get("BYMINUTE", "")
    if (freq not in FRIENDLY or "COUNT" in parts or "WKST" in parts or "," in hours
            or "," in minutes or ("BYMONTH" in parts and freq != "yearly")
            or ("," in parts.get("BYMONTHDAY", "")) or ("BYMONTHDAY" in parts
                                                         and "BYDAY" in parts)):
        return None
    form = {"frequency": freq, "interval": int(parts.get("INTERVAL", "1")),
            "time": f"{int(hours):02d}:{int(minutes):02d}", "weekdays": [],
            "monthly_by": "day", "month_day": 1, "ordinal": 1, "weekday": "MO", "month": 1}
    days = parts.get("BYDAY", "")
    if freq in ("daily", "weekly"):
        form["weekdays"] = days.split(",") if days else []
    elif freq in ("monthly", "yearly"):
        if freq == "yearly":
            if "," in parts.get("BYMONTH", ",") or not ("BYMONTHDAY" in parts or days):
                return None
            form["month"] = int(parts["BYMONTH"])
        if days:
            match = _DAY.match(days)
            if "," in days or match is None or match.group(1) is None:
                return None
            n = int(match.group(1))
            if n not in (1, 2, 3, 4, -1):
                return None
            form.update(monthly_by="weekday", ordinal=n, weekday=match.group(2))
        elif "BYMONTHDAY" in parts:
            if int(parts["BYMONTHDAY"]) < -1:
                return None
            form["month_day"] = int(parts["BYMONTHDAY"])
        else:
            return None
    return form


# --- following a rule -------------------------------------------------------------------------

def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Occurrence:
    at: datetime        # the instant (UTC)
    local: datetime     # the rule's wall-clock time (naive): the anchor to follow it from


@dataclass(frozen=True)
class Recurrence:
    rule: str                  # normalized (``normalized``)
    zone: ZoneInfo
    starts_on: date
    ends_on: date | None = None

    @property
    def counted(self) -> bool:
        return "COUNT=" in self.rule

    def start(self) -> datetime:
        return datetime.combine(self.starts_on, time(0), tzinfo=self.zone)

    def until(self) -> datetime | None:
        if self.ends_on is None:
            return None
        return datetime.combine(self.ends_on, time(23, 59, 59), tzinfo=self.zone)

    def rrule(self, anchor: datetime | None = None):
        """The dateutil rule, followed from ``anchor`` (a naive wall-clock occurrence) when
        it can be (see the module's notes), else from the start."""
        start = self.start()
        if anchor is not None and not self.counted:
            anchored = anchor.replace(tzinfo=self.zone)
            if anchored > start:
                start = anchored
        rule = rrulestr(self.rule, dtstart=start, cache=False)
        until = self.until()
        return rule.replace(until=until) if until is not None else rule

    def iterate(self, since: datetime, anchor: datetime | None = None):
        """Occurrences at or after the instant ``since`` (aware), in order."""
        since = since.astimezone(UTC)
        for moment in self.rrule(anchor).xafter(since, inc=True):
            yield Occurrence(moment.astimezone(UTC), moment.replace(tzinfo=None))

    def next(self, since: datetime, anchor: datetime | None = None) -> Occurrence | None:
        return next(iter(self.iterate(since, anchor)), None)

    def upcoming(self, since: datetime, n: int = 5, anchor: datetime | None = None):
        return list(islice(self.iterate(since, anchor), n))


@dataclass(frozen=True)
class Summary:
    first: Occurrence
    per_month: int          # the most occurrences in one calendar month (local)
    smallest_gap: timedelta | None


def check(recurrence: Recurrence, now: datetime, anchor: datetime | None = None) -> Summary:
    """The rule's first occurrence from ``now`` on, its busiest month and smallest gap, from
    a bounded sample; raises RuleError when it never fires or fires more often than every
    15 minutes, or when the end date is before the start or too far."""
    if recurrence.ends_on is not None:
        if recurrence.ends_on < recurrence.starts_on:
            raise RuleError(_l("The end date is before the start."), field="ends_on")
        if recurrence.ends_on > _years_after(recurrence.starts_on, MAX_YEARS):
            raise RuleError(_l("The end date is at most %(n)s years after the start.",
                               n=MAX_YEARS), field="ends_on")
        if recurrence.counted:
            raise RuleError(_l("Give either a number of times (COUNT) or an end date, "
                               "not both."))
    since = max(now, recurrence.start())
    if not _a_day_exists(parse(recurrence.rule), recurrence.starts_on):
        found = []  # said at once: dateutil would look for it until the year 9999
    else:
        found = list(islice(_sample(recurrence, since, anchor), SAMPLE))
    if not found:
        raise RuleError(_l("This rule never files a request from now on (between its start "
                           "and its end)."))
    months = Counter((o.local.year, o.local.month) for o in found)
    gaps = [b.at - a.at for a, b in zip(found, found[1:], strict=False)]
    smallest = min(gaps) if gaps else None
    if smallest is not None and smallest < MIN_GAP:
        raise RuleError(_l("A request cannot be filed more often than every 15 minutes: this "
                           "rule files two %(minutes)s minutes apart.",
                           minutes=int(smallest.total_seconds() // 60)))
    return Summary(found[0], max(months.values()), smallest)


MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February of a leap year


def _a_day_exists(parts: dict, starts_on: date) -> bool:
    """False when the rule's days of the month exist in none of the months it visits (30
    February, the 31st of every April and June...)."""
    if "BYMONTHDAY" not in parts or parts["FREQ"] not in ("MONTHLY", "YEARLY"):
        return True
    interval = int(parts.get("INTERVAL", "1"))
    if "BYMONTH" in parts:
        months = {int(m) for m in parts["BYMONTH"].split(",")}
    elif parts["FREQ"] == "YEARLY":
        months = {starts_on.month}
    else:
        months = {(starts_on.month - 1 + k * interval) % 12 + 1 for k in range(12)}
    days = [abs(int(d)) for d in parts["BYMONTHDAY"].split(",")]
    return any(day <= MONTH_DAYS[month - 1] for month in months for day in days)


def _sample(recurrence: Recurrence, since: datetime, anchor: datetime | None):
    horizon = since + timedelta(days=SAMPLE_DAYS)
    for occurrence in recurrence.iterate(since, anchor):
        if occurrence.at > horizon:
            return
        yield occurrence


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def time_of_day(text: str) -> time | None:
    match = _TIME.match(str(text or "").strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None
