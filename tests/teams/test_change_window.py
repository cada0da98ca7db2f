"""The change's implementation window is typed in the company's time zone and kept in UTC for
the timer, across clock changes (Europe/Madrid and America/New_York, time held by the test); its
first day lies from the company's today to five years ahead."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from marshmallow import ValidationError
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance, Tenant
from app.services import workflow
from app.services.background import run_due_timers
from app.teams import window
from tests.factories import user
from tests.teams.helpers import (
    BOARD,
    assess,
    deploy_change,
    file_change,
    history,
    open_tasks,
    vote,
    waiting,
)

MADRID, NEW_YORK = ZoneInfo("Europe/Madrid"), ZoneInfo("America/New_York")


@pytest.mark.parametrize("zone, day, hour, expected", [
    # Madrid goes from UTC+1 to UTC+2 on 29 March 2026 at 02:00, back on 25 October at 03:00
    (MADRID, date(2026, 3, 28), 9, datetime(2026, 3, 28, 8, tzinfo=UTC)),
    (MADRID, date(2026, 3, 29), 3, datetime(2026, 3, 29, 1, tzinfo=UTC)),
    (MADRID, date(2026, 3, 30), 9, datetime(2026, 3, 30, 7, tzinfo=UTC)),
    (MADRID, date(2026, 10, 25), 2, datetime(2026, 10, 25, 0, tzinfo=UTC)),  # the first 02:00
    # New York from UTC-5 to UTC-4 on 8 March 2026 at 02:00, back on 1 November at 02:00
    (NEW_YORK, date(2026, 3, 7), 9, datetime(2026, 3, 7, 14, tzinfo=UTC)),
    (NEW_YORK, date(2026, 3, 9), 9, datetime(2026, 3, 9, 13, tzinfo=UTC)),
    (NEW_YORK, date(2026, 11, 1), 1, datetime(2026, 11, 1, 5, tzinfo=UTC)),  # the first 01:00
])
def test_the_opening_is_the_wall_time_of_the_companys_zone(zone, day, hour, expected):
    assert window.opening(day, hour, zone) == expected


@pytest.mark.parametrize("zone, day, hour", [
    (MADRID, date(2026, 3, 29), 2), (NEW_YORK, date(2026, 3, 8), 2)])
def test_an_hour_the_clocks_skip_has_no_opening(zone, day, hour):
    assert window.opening(day, hour, zone) is None


def test_the_latest_first_day_is_five_years_ahead():
    assert window.latest_day(date(2026, 3, 2)) == date(2031, 3, 2)
    assert window.latest_day(date(2028, 2, 29)) == date(2033, 2, 28)


def _company_in(zone: str):
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    tenant.timezone = zone
    db.session.commit()


def _approved():
    deploy_change("majority", BOARD)
    req = file_change()
    assess(req)
    for email in BOARD[:2]:
        vote(req, email, "approve")
    assert waiting(req) == ["Task_Schedule"]
    return req


def _schedule(req, first: date, hour: str, last: date | None = None):
    (task,) = open_tasks(req, "Task_Schedule")
    workflow.complete(user("director@acme.test"), task, "schedule_window", {
        "window_start": first.isoformat(), "window_start_hour": hour,
        "window_end": (last or first).isoformat()})
    db.session.commit()


@pytest.mark.parametrize("zone, now, first, opens", [
    # filed before Madrid's change, the window after it: 09:00 there is 07:00 UTC
    ("Europe/Madrid", datetime(2026, 3, 27, 10, tzinfo=UTC), date(2026, 3, 30),
     datetime(2026, 3, 30, 7, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 3, 6, 15, tzinfo=UTC), date(2026, 3, 9),
     datetime(2026, 3, 9, 13, tzinfo=UTC)),
    ("America/Bogota", datetime(2026, 3, 6, 15, tzinfo=UTC), date(2026, 3, 9),
     datetime(2026, 3, 9, 14, tzinfo=UTC)),
])
def test_the_timer_opens_the_window_at_the_companys_hour(demo, zone, now, first, opens):
    _company_in(zone)
    with time_machine.travel(now, tick=False) as clock:
        req = _approved()
        _schedule(req, first, "09")
        row = db.session.scalar(select(ProcessInstance).where(
            ProcessInstance.request_id == req.id))
        assert row.next_timer_at.replace(tzinfo=UTC) == opens
        (scheduled,) = history(req, "schedule_window")
        assert scheduled.changes == {"window_opens": opens.isoformat(),
                                     "window_end": first.isoformat(), "time_zone": zone}
        clock.move_to(opens - timedelta(minutes=1))
        assert run_due_timers() == 0
        clock.move_to(opens + timedelta(minutes=1))
        assert run_due_timers() == 1
        db.session.rollback()
        assert waiting(req) == ["Task_Implement"]


def _refused(req, first, hour="09", last=None) -> dict:
    with pytest.raises(ValidationError) as refused:
        _schedule(req, first, hour, last)
    db.session.rollback()
    assert waiting(req) == ["Task_Schedule"]
    return refused.value.messages


def test_a_window_five_years_ahead_is_the_last_one_taken(demo):
    with time_machine.travel(datetime(2026, 3, 2, 15, tzinfo=UTC), tick=False):
        req = _approved()
        errors = _refused(req, date(2031, 3, 3))
        assert list(errors) == ["window_start"] and "2031" in errors["window_start"][0]
        assert "5" in errors["window_start"][0]
        assert list(_refused(req, date(2026, 3, 1))) == ["window_start"]  # yesterday
        assert list(_refused(req, date(2026, 3, 5), last=date(2026, 3, 4))) == ["window_end"]
        _schedule(req, date(2031, 3, 2), "09")
        assert waiting(req) == []  # waits for its window


def test_an_hour_the_companys_clocks_skip_is_refused(demo):
    _company_in("Europe/Madrid")
    with time_machine.travel(datetime(2026, 3, 27, 10, tzinfo=UTC), tick=False):
        req = _approved()
        errors = _refused(req, date(2026, 3, 29), "02")
        assert list(errors) == ["window_start_hour"] and "Europe/Madrid" in errors[
            "window_start_hour"][0]


def test_today_in_the_companys_zone_is_not_todays_date_in_utc(demo):
    # 02:00 UTC on 3 March is still 2 March in New York: the 2nd is "today" there
    _company_in("America/New_York")
    with time_machine.travel(datetime(2026, 3, 3, 2, tzinfo=UTC), tick=False):
        req = _approved()
        _schedule(req, date(2026, 3, 2), "23")
        assert waiting(req) == []  # 23:00 in New York is 04:00 UTC on the 3rd: still ahead


def test_the_form_and_the_history_speak_the_companys_time(demo, browser):
    _company_in("Europe/Madrid")
    with time_machine.travel(datetime(2026, 3, 27, 10, tzinfo=UTC), tick=False):
        req = _approved()
        (task,) = open_tasks(req, "Task_Schedule")
        page = browser("director@acme.test").get(f"/tasks/{task.id}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Europe/Madrid" in html and "UTC" not in html.split("<main")[-1]
        db.session.rollback()  # the page's snapshot is not a writer's (SQLite)
        _schedule(req, date(2026, 3, 30), "09")
        shown = browser("director@acme.test").get(f"/requests/{req.id}").get_data(as_text=True)
    assert "30 mar 2026, 09:00" in shown  # the opening, as the company's clocks read it
