"""The incident template's priority matrix (impact x urgency -> priority) and how long the
first line has before an incident is escalated, per priority. Pure: no database.

A tenant keeps its own copy in its settings (``incident_priority_matrix``,
``incident_escalation_after``); ``settings`` reads and writes them, ``operations.prioritize``
applies them when an incident is filed.
"""

import re
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from app.engine import timers
from app.models import PRIORITIES

# Impact and urgency, highest first: the values of the category fields ``impact`` and
# ``urgency`` (choice fields) the ``prioritize`` operation reads.
LEVELS = ("high", "medium", "low")
# Their names, one set each (not the priority's words: Spanish says "impacto alto" but
# "urgencia alta", as the category fields the requester answers do)
IMPACT_LABELS = {"high": lazy_pgettext("impact", "High"),
                 "medium": lazy_pgettext("impact", "Medium"),
                 "low": lazy_pgettext("impact", "Low")}
URGENCY_LABELS = {"high": lazy_pgettext("urgency", "High"),
                  "medium": lazy_pgettext("urgency", "Medium"),
                  "low": lazy_pgettext("urgency", "Low")}
LEVEL_LABELS = {"impact": IMPACT_LABELS, "urgency": URGENCY_LABELS}
# What a person may have typed in a field of their own instead of the codes above.
LEVEL_SYNONYMS = {"alto": "high", "alta": "high", "medio": "medium", "media": "medium",
                  "bajo": "low", "baja": "low", "1": "high", "2": "medium", "3": "low"}

# ITIL's usual matrix on the product's four priorities.
DEFAULT_MATRIX = {
    "high": {"high": "urgent", "medium": "high", "low": "normal"},
    "medium": {"high": "high", "medium": "normal", "low": "low"},
    "low": {"high": "normal", "medium": "low", "low": "low"},
}
# How long the first line has, per priority, before the incident goes to the second line.
DEFAULT_ESCALATION = {"urgent": "PT1H", "high": "PT4H", "normal": "PT8H", "low": "PT24H"}
MIN_ESCALATION_SECONDS = 60


class MatrixError(ValueError):
    """What was sent is not a matrix; ``problems`` maps a cell ("high.low") to a message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def level_label(dimension: str, value):
    """How an impact or urgency value reads (``dimension``: impact or urgency); a value that
    is none of the levels as it was given."""
    return LEVEL_LABELS.get(dimension, {}).get(level(value) or "", value)


def level(value) -> str | None:
    """An impact or urgency as the matrix names it, or None when it is none of them."""
    if value is None:
        return None
    text = str(value).strip().lower()[:20]
    if text in LEVELS:
        return text
    return LEVEL_SYNONYMS.get(text)


def priority_for(matrix: dict, impact: str, urgency: str) -> str:
    return matrix[impact][urgency]


def clean_matrix(raw) -> dict:
    """``raw`` checked: every impact x urgency cell one of PRIORITIES, nothing else."""
    problems = {}
    if not isinstance(raw, dict):
        raise MatrixError({"matrix": str(_l("Send the matrix as impact: {urgency: priority}."))})
    for key in raw:
        if key not in LEVELS:
            problems[str(key)[:20]] = str(_l("Impact is high, medium or low."))
    matrix = {}
    for impact in LEVELS:
        row = raw.get(impact)
        if not isinstance(row, dict):
            problems[impact] = str(_l("Give a priority for each urgency."))
            continue
        for key in row:
            if key not in LEVELS:
                problems[f"{impact}.{str(key)[:20]}"] = str(_l("Urgency is high, medium or low."))
        matrix[impact] = {}
        for urgency in LEVELS:
            value = row.get(urgency)
            if value not in PRIORITIES:
                problems[f"{impact}.{urgency}"] = str(_l(
                    "Choose one of the priorities: %(names)s.", names=", ".join(PRIORITIES)))
            matrix[impact][urgency] = value
    if problems:
        raise MatrixError(problems)
    return matrix


def clean_escalation(raw) -> dict:
    """``raw`` checked: an ISO 8601 duration (at least a minute, within the timers' bounds)
    for each priority."""
    if not isinstance(raw, dict):
        raise MatrixError({"escalation": str(_l("Send a duration for each priority."))})
    problems, cleaned = {}, {}
    for key in raw:
        if key not in PRIORITIES:
            problems[str(key)[:20]] = str(_l("Choose one of the priorities: %(names)s.",
                                             names=", ".join(PRIORITIES)))
    for priority in PRIORITIES:
        value = str(raw.get(priority) or "").strip().upper()
        problem = duration_problem(value)
        if problem:
            problems[priority] = problem
        cleaned[priority] = value
    if problems:
        raise MatrixError(problems)
    return cleaned


_SPAN = re.compile(r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
                   r"(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
                   r"(?:(?P<seconds>\d+)S)?)?")


def span(duration: str) -> timedelta:
    """A first line's time as a timedelta: whole numbers of years (365 days), months (30
    days), weeks, days, hours, minutes and seconds. Raises ValueError for anything else."""
    match = _SPAN.fullmatch(str(duration or "").strip().upper())
    if match is None or duration.strip().upper() == "P":
        raise ValueError(f"not a whole ISO 8601 duration: {str(duration)[:40]!r}")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    days = 365 * parts.pop("years", 0) + 30 * parts.pop("months", 0) + parts.pop("days", 0)
    return timedelta(days=days, **parts)


def duration_problem(value: str) -> str | None:
    try:
        if not value.isascii():  # "PT\u0661H": \d takes any script's digits, ISO 8601 does not
            raise ValueError(value)
        timers.check("duration", value)
        span(value)
        seconds = timers.duration_seconds(value)
    except (timers.TimerValueError, TypeError, ValueError):
        return str(_l("Write a duration in ISO 8601, such as PT30M (30 minutes), PT4H (4 hours) "
                      "or P1D (a day)."))
    if seconds < MIN_ESCALATION_SECONDS:
        return str(_l("At least one minute (PT1M)."))
    return None
