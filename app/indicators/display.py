"""The figures as the indicators page shows them: names in the reader's language, lengths of
business time in words, and what each chart draws.

The page's tables are the truth; each chart draws the same numbers, handed to
``frontend/indicators.js`` as JSON (``charts``). Nothing here reads the database."""

from datetime import date
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _

from app.indicators.labels import BAND, BUCKET, STAGE, VOLUME
from app.labels import SLA_TARGET, STATUS, label
from app.sla.calendars import duration_text

# Colours that keep apart in print and for colour-blind readers (Okabe-Ito), and an ordered
# scale for ages and ratings (light to dark reads the same in grey).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#555555",
           "#8C6D00"]
AGE_SCALE = ["#fdd49e", "#fdae61", "#f46d43", "#d73027", "#8c0d25"]
RATING_SCALE = ["#b3261e", "#e66100", "#e0a800", "#5aa02c", "#1e7d4f"]
LOW, HIGH = "#9ecae1", "#08519c"


def bucket_label(bucket: str, first_day: str) -> str:
    """A trend bucket by its first day: "2 nov" (a day or a week), "nov 2026" (a month)."""
    day = date.fromisoformat(first_day)
    return format_date(day, "MMM y" if bucket == "month" else "d MMM")


def bucket_heading(bucket: str) -> str:
    return str(BUCKET.get(bucket, bucket))


def business_time(minutes) -> str:
    """Business minutes in words ("3 h 20 min"); empty when there is no figure."""
    if minutes is None:
        return ""
    return duration_text(int(round(minutes)))


def hours(minutes) -> float | None:
    return None if minutes is None else round(minutes / 60, 1)


def percent(value) -> float | None:
    return None if value is None else round(value * 100, 1)


def _number(text) -> float:
    """A money or hours string of the figures, for a chart only (the tables keep it exact)."""
    return float(Decimal(text or "0"))


def lifecycle_order(statuses: list[str]) -> list[str]:
    order = list(STATUS)
    return sorted(statuses, key=lambda s: (order.index(s) if s in order else len(order), s))


def charts(figures: dict, bucket: str, currency: str | None = None) -> dict:
    """What each chart of the page draws: categories, named series, and how to draw them.
    ``currency``: the company's (ISO 4217), in which the cost chart writes its amounts."""
    volumes = figures["volumes"]
    backlog = figures["backlog"]
    bands = backlog["bands"]
    statuses = lifecycle_order([s for s, n in backlog["by_status"].items() if n])
    lead = figures["lead_times"]
    workload = figures["workload"]
    by_category = figures["cost"]["by_category"]
    distribution = figures["satisfaction"]["distribution"]
    return {
        "volumes": {
            "kind": "line", "colors": PALETTE,
            "categories": [bucket_label(bucket, b) for b in volumes["buckets"]],
            "series": [{"name": str(VOLUME.get(k, k)), "data": data}
                       for k, data in volumes["series"].items()],
        },
        "backlog": {
            "kind": "bar", "stacked": True, "horizontal": True, "colors": AGE_SCALE,
            "categories": [str(label(STATUS, s)) for s in statuses],
            "series": [{"name": str(BAND.get(b, b)),
                        "data": [backlog["matrix"].get(s, {}).get(b, 0) for s in statuses]}
                       for b in bands],
        },
        "lead_times": {
            "kind": "bar", "horizontal": True, "colors": [LOW, HIGH], "unit": _("h"),
            "categories": [str(STAGE.get(row["stage"], row["stage"])) for row in lead],
            "series": [
                {"name": _("Median"), "data": [hours(r["median_minutes"]) for r in lead]},
                {"name": _("90th percentile"), "data": [hours(r["p90_minutes"]) for r in lead]},
            ],
        },
        "sla": {
            "kind": "bar", "horizontal": True, "colors": ["#1e7d4f"], "unit": "%", "max": 100,
            "categories": [str(label(SLA_TARGET, row["kind"])) for row in figures["sla"]],
            "series": [{"name": _("Compliance"),
                        "data": [percent(row["compliance"]) for row in figures["sla"]]}],
        },
        "workload": {
            "kind": "bar", "horizontal": True, "colors": [PALETTE[0], PALETTE[1]],
            "unit": _("h"),
            "categories": [row["name"] for row in workload],
            "series": [
                {"name": _("Hours planned"),
                 "data": [_number(r["hours_planned"]) for r in workload]},
                {"name": _("Hours spent"), "data": [_number(r["hours_spent"]) for r in workload]},
            ],
        },
        "cost": {
            "kind": "bar", "horizontal": True, "colors": [PALETTE[0], PALETTE[3]],
            "currency": currency,
            "categories": [row["name"] for row in by_category],
            "series": [
                {"name": _("Estimated cost"),
                 "data": [_number(r["estimated_cost"]) for r in by_category]},
                {"name": _("Actual cost"),
                 "data": [_number(r["actual_cost"]) for r in by_category]},
            ],
        },
        "satisfaction": {
            "kind": "bar", "colors": RATING_SCALE, "by_point": True,
            "categories": [f"{n} ★" for n in sorted(distribution, key=int)],
            "series": [{"name": _("Ratings"),
                        "data": [distribution[n] for n in sorted(distribution, key=int)]}],
        },
    }
