"""The change's implementation window, entered in the company's time zone: the ``schedule_window``
kind of user task (the change request template's *Programar ventana de implementación*).

The director gives the first day, the hour it opens there and the last day, as the company's
clocks read (its time zone setting, ``app.tenancy.clock``); the window's opening is kept in UTC
for the timer (``window_start_at``), correct across clock changes. The first day lies between
the company's today and ``MAX_YEARS_AHEAD`` years later; an hour the clocks skip that day (the
night they go forward) is refused, and an hour they repeat is its first occurrence.
"""

from datetime import date, datetime, time, timedelta

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validates_schema

from app.handlers.base import FormSchema, TaskHandler, one_of
from app.models.base import utcnow
from app.sla.calendar import wall_instant
from app.tenancy import clock

MAX_YEARS_AHEAD = 5
HOURS = tuple(f"{h:02d}" for h in range(24))
# What the task writes into the workflow's data (the timer reads ``window_start_at``)
DATA_NAMES = ("window_start", "window_start_hour", "window_end", "window_time_zone",
              "window_start_at")


class WindowSchema(FormSchema):
    window_start = fields.Date(required=True, metadata={"label": _l("First day of the window")})
    window_start_hour = fields.String(
        required=True, validate=one_of(HOURS),
        metadata={"label": _l("Opening time (the company's time zone)"), "widget": "select",
                  "choices": [(h, f"{h}:00") for h in HOURS], "placeholder": _l("Choose...")})
    window_end = fields.Date(required=True, metadata={"label": _l("Last day of the window")})

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("window_start") and data.get("window_end") \
                and data["window_end"] < data["window_start"]:
            raise ValidationError({"window_end": [str(_l(
                "The last day cannot be before the first day."))]})


def latest_day(today: date) -> date:
    """The last first day a window may have: ``MAX_YEARS_AHEAD`` years after ``today`` (the
    28th of February for a 29th)."""
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


def opening(day: date, hour: int, zone) -> datetime | None:
    """The instant (UTC) the wall clock in ``zone`` reads ``hour``:00 on ``day``; None when the
    clocks skip that hour there that day. A repeated hour is its first occurrence."""
    return wall_instant(day, time(hour), zone)


def _sample(hours: int) -> dict:
    start = (utcnow() + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    return {"window_start": start.date().isoformat(), "window_start_hour": f"{start.hour:02d}",
            "window_end": start.date().isoformat(), "window_time_zone": "UTC",
            "window_start_at": start.isoformat()}


class ScheduleWindowHandler(TaskHandler):
    name = "schedule_window"
    title = _l("Schedule the implementation window")
    submit_label = _l("Schedule")
    schema = WindowSchema
    samples = (_sample(24), _sample(24 * 30))

    def _zone(self, ctx):
        return clock.zone(clock.tenant_of(ctx.request))

    def form_notes(self, ctx) -> dict:
        zone = self._zone(ctx)
        now = utcnow().astimezone(zone)
        today = now.date()
        return {"window_start_hour": {"help": _l(
                    "Time in %(zone)s, the company's time zone (it is %(now)s there now).",
                    zone=zone.key, now=now.strftime("%H:%M"))},
                "window_start": {"help": _l(
                    "From %(first)s to %(last)s (at most %(years)s years ahead).",
                    first=format_date(today, "d MMM y"),
                    last=format_date(latest_day(today), "d MMM y"), years=MAX_YEARS_AHEAD)}}

    def check(self, ctx, data) -> None:
        zone = self._zone(ctx)
        today = clock.today(clock.tenant_of(ctx.request))
        last = latest_day(today)
        start, end = data["window_start"], data["window_end"]
        if not today <= start <= last:
            raise ValidationError({"window_start": [str(_l(
                "Choose a first day from today (%(first)s) to %(last)s: a window opens at most "
                "%(years)s years ahead.", first=format_date(today, "d MMM y"),
                last=format_date(last, "d MMM y"), years=MAX_YEARS_AHEAD))]})
        if end > latest_day(start):
            raise ValidationError({"window_end": [str(_l(
                "The window may last at most %(years)s years.", years=MAX_YEARS_AHEAD))]})
        if opening(start, int(data["window_start_hour"]), zone) is None:
            raise ValidationError({"window_start_hour": [str(_l(
                "%(hour)s:00 does not exist on that day in %(zone)s (the clocks go forward): "
                "choose another hour.", hour=data["window_start_hour"], zone=zone.key))]})

    def apply(self, ctx, data) -> dict:
        zone = self._zone(ctx)
        start_at = opening(data["window_start"], int(data["window_start_hour"]), zone)
        return {"window_start": data["window_start"].isoformat(),
                "window_start_hour": data["window_start_hour"],
                "window_end": data["window_end"].isoformat(), "window_time_zone": zone.key,
                "window_start_at": start_at.isoformat()}

    def comment(self, data):
        return None

    def describe(self, ctx, data) -> dict:
        """The history: when it opens (an instant: pages show it in the company's zone), the
        last day, and the zone it was entered in."""
        zone = self._zone(ctx)
        start_at = opening(data["window_start"], int(data["window_start_hour"]), zone)
        return {"window_opens": start_at.isoformat(), "window_end": data["window_end"].isoformat(),
                "time_zone": zone.key}
