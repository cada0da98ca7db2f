"""A rule in words for the pages ("Cada mes, el primer lunes, a las 09:00"), and the labels
of the friendly form's choices.

The words are a head ("Every month") and the clauses the rule has ("the first Monday", "at
09:00"), joined by commas. Each head and clause is one whole translatable phrase: its
placeholders hold only names, numbers and times, or lists of them joined as the reader's
language joins lists (CLDR: "Monday and Friday", "lunes y viernes"); no position, article or
ending is glued to a word in code, so a translator gives each phrase the gender, number and
order it needs ("the second to last Friday": "el penúltimo viernes")."""

from babel.lists import format_list
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.recurring import rules

# A day or a month alone: the form's choices, and a name in a phrase ("the first %(weekday)s")
WEEKDAY_LABELS = {
    "MO": _l("Monday"), "TU": _l("Tuesday"), "WE": _l("Wednesday"), "TH": _l("Thursday"),
    "FR": _l("Friday"), "SA": _l("Saturday"), "SU": _l("Sunday"),
}
# Every one of that day ("on %(weekdays)s": "on Mondays and Fridays", "los lunes y viernes")
WEEKDAY_PLURALS = {
    "MO": _l("Mondays"), "TU": _l("Tuesdays"), "WE": _l("Wednesdays"), "TH": _l("Thursdays"),
    "FR": _l("Fridays"), "SA": _l("Saturdays"), "SU": _l("Sundays"),
}
MONTH_LABELS = {
    1: _l("January"), 2: _l("February"), 3: _l("March"), 4: _l("April"), 5: _l("May"),
    6: _l("June"), 7: _l("July"), 8: _l("August"), 9: _l("September"), 10: _l("October"),
    11: _l("November"), 12: _l("December"),
}
# The form's "which" choice, shown before its weekday choice (the positions the form offers)
ORDINAL_LABELS = {1: _l("first"), 2: _l("second"), 3: _l("third"), 4: _l("fourth"),
                  -1: _l("last")}
FREQUENCY_LABELS = {"daily": _l("Daily"), "weekly": _l("Weekly"), "monthly": _l("Monthly"),
                    "yearly": _l("Yearly")}
CATCH_UP_LABELS = {
    "all": _l("File every missed occurrence (default)"),
    "latest": _l("Skip missed occurrences; file only the latest"),
}
MOST_TIMES = 6  # times of day spelled out; the rest counted

# A weekday at a position in the month (BYDAY=1MO ... -5MO), one whole phrase each
POSITIONS = {
    1: lambda day: _("the first %(weekday)s", weekday=day),
    2: lambda day: _("the second %(weekday)s", weekday=day),
    3: lambda day: _("the third %(weekday)s", weekday=day),
    4: lambda day: _("the fourth %(weekday)s", weekday=day),
    5: lambda day: _("the fifth %(weekday)s", weekday=day),
    -1: lambda day: _("the last %(weekday)s", weekday=day),
    -2: lambda day: _("the second to last %(weekday)s", weekday=day),
    -3: lambda day: _("the third to last %(weekday)s", weekday=day),
    -4: lambda day: _("the fourth to last %(weekday)s", weekday=day),
    -5: lambda day: _("the fifth to last %(weekday)s", weekday=day),
}


def _listed(items: list[str], style: str = "standard") -> str:
    """``items`` as the reader's language lists them ("a, b and c"; style "or": "a or b")."""
    return format_list([str(item) for item in items], style=style, locale=get_locale())


def _clock(hour, minute) -> str:
    return f"{int(hour):02d}:{int(minute):02d}"


def _numbers(parts: dict, key: str) -> list[int]:
    return [int(item) for item in parts[key].split(",")] if parts.get(key) else []


def _head(freq: str, n: int) -> str:
    return {
        "MINUTELY": lambda: _("Every %(n)s minutes", n=n),
        "HOURLY": lambda: _("Every hour") if n == 1 else _("Every %(n)s hours", n=n),
        "DAILY": lambda: _("Every day") if n == 1 else _("Every %(n)s days", n=n),
        "WEEKLY": lambda: _("Every week") if n == 1 else _("Every %(n)s weeks", n=n),
        "MONTHLY": lambda: _("Every month") if n == 1 else _("Every %(n)s months", n=n),
        "YEARLY": lambda: _("Every year") if n == 1 else _("Every %(n)s years", n=n),
    }[freq]()


def _month_days(days: list[int]) -> str:
    """BYMONTHDAY: "on days 1 and 15", "on the last day", "on day 3 counting from the end"."""
    phrases = []
    counted = [d for d in days if d > 0]
    if counted:
        phrases.append(ngettext("day %(days)s", "days %(days)s", len(counted),
                                days=_listed(counted)))
    for day in sorted((d for d in days if d < 0), reverse=True):
        if day == -1:
            phrases.append(_("the last day"))
        elif day == -2:
            phrases.append(_("the second to last day"))
        else:
            phrases.append(_("day %(n)s counting from the end", n=-day))
    return _("on %(days)s", days=_listed(phrases))


def _weekdays(value: str, with_month_days: bool) -> list[str]:
    """BYDAY: "on Mondays and Fridays", "the first Monday and the last Friday"; with month
    days, the weekday those days must fall on."""
    every = [WEEKDAY_PLURALS[d] for d in value.split(",") if len(d) == 2]
    positioned = [POSITIONS[int(d[:-2])](WEEKDAY_LABELS[d[-2:]])
                  for d in value.split(",") if len(d) > 2]
    clauses = []
    if every and with_month_days:
        names = [WEEKDAY_LABELS[d] for d in value.split(",")]
        clauses.append(_("only if it falls on a %(weekday_choices)s",
                         weekday_choices=_listed(names, "or")))
    elif every:
        clauses.append(_("on %(weekdays)s", weekdays=_listed(every)))
    if positioned:
        clauses.append(_("on %(positions)s", positions=_listed(positioned)))
    return clauses


def _times(parts: dict) -> str:
    shown = [_clock(h, m) for h in _numbers(parts, "BYHOUR") for m in _numbers(parts, "BYMINUTE")]
    if not shown:
        return ""
    if len(shown) <= MOST_TIMES:
        return _("at %(times)s", times=_listed(shown))
    more = len(shown) - MOST_TIMES
    return ngettext("at %(times)s and %(num)s other time", "at %(times)s and %(num)s other times",
                    more, times=", ".join(shown[:MOST_TIMES]))


def _hours(parts: dict) -> str:
    """BYHOUR of a rule that fires within the hour: the hours it fires in."""
    hours = _numbers(parts, "BYHOUR")
    return ngettext("only during the hour that starts at %(hours)s",
                    "only during the hours that start at %(hours)s", len(hours),
                    hours=_listed([_clock(h, 0) for h in hours]))


def describe(text: str) -> str:
    """The rule in the reader's language; the rule itself when it cannot be parsed."""
    try:
        parts = rules.parse(text)
    except rules.RuleError:
        return text
    freq, n = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    plain_days = "BYDAY" in parts and all(len(d) == 2 for d in parts["BYDAY"].split(","))
    if freq == "DAILY" and plain_days:  # daily on some weekdays: "On Mondays and Fridays"
        pieces = [_("On %(weekdays)s", weekdays=_listed(
            [WEEKDAY_PLURALS[d] for d in parts["BYDAY"].split(",")]))]
    else:
        pieces = [_head(freq, n)]
    if "BYMONTH" in parts:
        pieces.append(_("in %(months)s", months=_listed(
            [MONTH_LABELS[m] for m in _numbers(parts, "BYMONTH")])))
    if "BYMONTHDAY" in parts:
        pieces.append(_month_days(_numbers(parts, "BYMONTHDAY")))
    if "BYDAY" in parts and not (freq == "DAILY" and plain_days):
        pieces.extend(_weekdays(parts["BYDAY"], "BYMONTHDAY" in parts))
    if freq in ("MINUTELY", "HOURLY") and "BYHOUR" in parts:
        pieces.append(_hours(parts))
    if freq == "HOURLY":
        minutes = _numbers(parts, "BYMINUTE") or [0]
        pieces.append(ngettext("at minute %(minutes)s", "at minutes %(minutes)s", len(minutes),
                               minutes=_listed(minutes)))
    elif freq != "MINUTELY":
        pieces.append(_times(parts))
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        pieces.append(ngettext("%(num)s time in all", "%(num)s times in all", count))
    return ", ".join(piece for piece in pieces if piece)
