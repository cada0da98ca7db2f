"""A rule in words for the pages ("Cada mes, el primer lunes, a las 09:00"), and the labels
of the friendly form's choices."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.recurring import rules

WEEKDAY_LABELS = {
    "MO": _l("Monday"), "TU": _l("Tuesday"), "WE": _l("Wednesday"), "TH": _l("Thursday"),
    "FR": _l("Friday"), "SA": _l("Saturday"), "SU": _l("Sunday"),
}
MONTH_LABELS = {
    1: _l("January"), 2: _l("February"), 3: _l("March"), 4: _l("April"), 5: _l("May"),
    6: _l("June"), 7: _l("July"), 8: _l("August"), 9: _l("September"), 10: _l("October"),
    11: _l("November"), 12: _l("December"),
}
ORDINAL_LABELS = {1: _l("first"), 2: _l("second"), 3: _l("third"), 4: _l("fourth"),
                  5: _l("fifth"), -1: _l("last"), -2: _l("second to last"),
                  -3: _l("third to last"), -4: _l("fourth to last"), -5: _l("fifth to last")}
FREQUENCY_LABELS = {"daily": _l("Daily"), "weekly": _l("Weekly"), "monthly": _l("Monthly"),
                    "yearly": _l("Yearly")}
CATCH_UP_LABELS = {
    "all": _l("File every missed occurrence (default)"),
    "latest": _l("Skip missed occurrences; file only the latest"),
}


def _times(parts: dict) -> str:
    hours = parts.get("BYHOUR", "").split(",") if parts.get("BYHOUR") else []
    minutes = parts.get("BYMINUTE", "").split(",") if parts.get("BYMINUTE") else []
    if not hours or not minutes:
        return ""
    shown = [f"{int(h):02d}:{int(m):02d}" for h in hours for m in minutes]
    if len(shown) > 6:
        shown = shown[:6] + ["…"]
    return _("at %(times)s", times=", ".join(shown))


def _days(value: str) -> str:
    words = []
    for day in value.split(","):
        number, name = day[:-2], day[-2:]
        label = str(WEEKDAY_LABELS[name])
        if number:
            label = _("the %(which)s %(day)s", which=ORDINAL_LABELS.get(int(number), number),
                      day=label)
        words.append(label)
    return ", ".join(words)


def _month_days(value: str) -> str:
    days = [int(d) for d in value.split(",")]
    words = [_("the last day") if d == -1 else
             _("day %(n)s from the end", n=-d) if d < 0 else _("day %(n)s", n=d)
             for d in days]
    return ", ".join(words)


def describe(text: str) -> str:
    """The rule in the reader's language; the rule itself when it cannot be parsed."""
    try:
        parts = rules.parse(text)
    except rules.RuleError:
        return text
    freq, n = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    head = {
        "MINUTELY": lambda: _("Every %(n)s minutes", n=n),
        "HOURLY": lambda: _("Every hour") if n == 1 else _("Every %(n)s hours", n=n),
        "DAILY": lambda: _("Every day") if n == 1 else _("Every %(n)s days", n=n),
        "WEEKLY": lambda: _("Every week") if n == 1 else _("Every %(n)s weeks", n=n),
        "MONTHLY": lambda: _("Every month") if n == 1 else _("Every %(n)s months", n=n),
        "YEARLY": lambda: _("Every year") if n == 1 else _("Every %(n)s years", n=n),
    }[freq]()
    pieces = [head]
    if "BYMONTH" in parts:
        pieces.append(_("in %(months)s", months=", ".join(
            str(MONTH_LABELS[int(m)]) for m in parts["BYMONTH"].split(","))))
    if "BYMONTHDAY" in parts:
        pieces.append(_month_days(parts["BYMONTHDAY"]))
    if "BYDAY" in parts:
        pieces.append(_days(parts["BYDAY"]))
    if freq in ("MINUTELY", "HOURLY") and "BYHOUR" in parts:
        pieces.append(_("during the hours %(hours)s", hours=parts["BYHOUR"]))
    elif freq != "MINUTELY":
        times = _times(parts) if freq != "HOURLY" else _("at minute %(m)s",
                                                          m=parts.get("BYMINUTE", "0"))
        if times:
            pieces.append(times)
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        pieces.append(ngettext("%(num)s time in all", "%(num)s times in all", count))
    return ", ".join(pieces)
