"""Bounds on timer values: checked at deploy (literals) and at run time (evaluated expressions).

SpiffWorkflow turns a duration into a date by walking it month by month, so ``P999999999Y``
keeps a worker busy for hours; a cycle of zero length fires for ever. Every timer value is
therefore checked here *before* the engine reads it:

- a duration (``timeDuration``, and the period of a cycle) is at most ``limits.max_years``
  (default ten, setting ``TIMER_MAX_YEARS``), counting its years, months and days at their
  longest (366, 31 and 1 days), so no month-by-month walk is ever long;
- a date (``timeDate``, and a cycle's start or end) lies within that many years of now;
- a cycle repeats no more often than ``limits.min_cycle_seconds`` (default a minute, setting
  ``TIMER_MIN_CYCLE_SECONDS``), a given count is at most ``MAX_REPETITIONS``, and its start or
  end date is not in the past (the engine would fire it at every step to catch up).

The checks themselves read the text once and never loop over its value.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DAY = 86400
# Seconds a designator stands for, at its longest (a year of 366 days, a month of 31): an upper
# bound of the span SpiffWorkflow will compute.
_LONGEST = {"Y": 366 * DAY, "M": 31 * DAY, "W": 7 * DAY, "D": DAY}
_TIME = {"H": 3600, "M": 60, "S": 1}
_DURATION_RE = re.compile(
    r"P(?!$)(?:(?P<Y>\d+(?:[.,]\d+)?)Y)?(?:(?P<M>\d+(?:[.,]\d+)?)M)?(?:(?P<W>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<D>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<h>\d+(?:[.,]\d+)?)H)?"
    r"(?:(?P<m>\d+(?:[.,]\d+)?)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE | re.ASCII,  # \d is 0-9 only: "PT١H" is not a duration
)
MAX_TEXT = 100  # no real timer value is longer
MAX_REPETITIONS = 100_000
PAST_LEEWAY = timedelta(minutes=5)  # clocks and evaluation take a moment
KINDS = ("duration", "date", "cycle")


class TimerValueError(ValueError):
    """A timer value that is malformed or outside the bounds; the message says which."""


@dataclass
class Limits:
    max_years: float = 10
    min_cycle_seconds: int = 60


limits = Limits()


def configure(max_years: float, min_cycle_seconds: int) -> None:
    """Set the bounds from the application's settings (``create_app``)."""
    limits.max_years = max(float(max_years), 1 / 12)
    limits.min_cycle_seconds = max(1, int(min_cycle_seconds))


def _max_span() -> str:
    return f"{limits.max_years:g} years"


def duration_seconds(text: str) -> float:
    """The longest span an ISO 8601 duration may stand for, in seconds; raises TimerValueError
    for anything that is not a duration."""
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise TimerValueError(f"{text!r} is not an ISO 8601 duration (e.g. 'PT48H', 'P7D')")
    parts = {k: float(v.replace(",", ".")) for k, v in match.groupdict().items() if v}
    if "W" in parts and len(parts) > 1:
        raise TimerValueError(f"{text!r}: weeks cannot be combined with other units")
    seconds = sum(value * (_LONGEST[k] if k.isupper() else _TIME[k.upper()])
                  for k, value in parts.items())
    if seconds > limits.max_years * 12 * _LONGEST["M"]:
        raise TimerValueError(f"{text!r} is longer than {_max_span()}")
    return seconds


def _date(text: str, now: datetime) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise TimerValueError(f"{text!r} is not an ISO 8601 date and time "
                              "(e.g. '2026-12-01T09:00:00Z')") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    span = timedelta(days=limits.max_years * 365.25)
    if not now - span <= when <= now + span:
        raise TimerValueError(f"{text!r} is more than {_max_span()} away from today")
    return when


def _cycle(text: str, now: datetime) -> None:
    """``R[n]/duration``, ``R[n]/start/duration`` or ``R[n]/duration/end``."""
    parts = text.upper().split("/")
    head = parts[0]
    if not head.startswith("R") or len(parts) not in (2, 3):
        raise TimerValueError(f"{text!r} is not an ISO 8601 cycle (e.g. 'R3/PT10M')")
    count = head[1:]
    if count and not (count.isdigit() and int(count) <= MAX_REPETITIONS):
        raise TimerValueError(f"{text!r}: the number of repetitions must be a whole number "
                              f"up to {MAX_REPETITIONS}")
    durations = [p for p in parts[1:] if p.startswith("P")]
    dates = [p for p in parts[1:] if not p.startswith("P")]
    if len(durations) != 1 or len(dates) > 1:
        raise TimerValueError(f"{text!r}: a cycle needs one period and at most one date")
    if duration_seconds(durations[0]) < limits.min_cycle_seconds:
        raise TimerValueError(f"{text!r}: a cycle may not repeat more often than every "
                              f"{limits.min_cycle_seconds} seconds")
    for date in dates:
        # A start (or an end) already passed would make the engine fire the timer at every
        # step to catch up: a cycle starts from now on.
        if _date(date, now) < now - PAST_LEEWAY:
            raise TimerValueError(f"{text!r}: a repeating timer's date may not be in the past")


def check(kind: str, value, now: datetime | None = None) -> None:
    """Refuse a timer value of ``kind`` (duration, date or cycle) that the engine should not
    read: not text, malformed, or outside the bounds."""
    if not isinstance(value, str):
        raise TimerValueError(f"a timer value must be text, not {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise TimerValueError("the timer value is too long")
    now = now or datetime.now(UTC)
    if kind == "duration":
        duration_seconds(value)
    elif kind == "date":
        _date(value, now)
    elif kind == "cycle":
        _cycle(value, now)
    else:
        raise ValueError(kind)


def kind_of(event_definition) -> str | None:
    """The kind of a SpiffWorkflow timer event definition, or None for any other event."""
    name = type(event_definition).__name__
    return {"DurationTimerEventDefinition": "duration", "TimeDateEventDefinition": "date",
            "CycleTimerEventDefinition": "cycle"}.get(name)
