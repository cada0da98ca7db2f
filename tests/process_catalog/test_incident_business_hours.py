"""The first line's time runs on the company's business calendar (the SLA's): an incident
filed late on a Friday escalates on Monday, one filed inside the hours escalates the same day,
a holiday does not count, and without a calendar the time is calendar time. Through the real
services and the engine (the instance stored between steps), the clock held by the test."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import HistoryEvent, HumanTask, ServiceRequest
from app.process_catalog import escalation, operations
from tests.process_catalog.test_incident_lifecycle import (
    file_incident,
    fire_due_timers,
    history,
)
from tests.sla.sla_helpers import ALWAYS, calendar, target

# Acme is in Bogotá (UTC-5, no DST); high impact, medium urgency: priority high, PT4H.
FRIDAY_17 = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)  # Friday 17:00 in Bogotá
MONDAY_11 = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 1 h on Friday + 3 h on Monday
TUESDAY_09 = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)


def _triage(req) -> HistoryEvent:
    event = db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "prioritized"))
    assert event.changes["priority"] == "high"
    return event


def _escalates_at(req_id, due: datetime) -> None:
    """The incident is not escalated a minute before ``due`` and is a minute after."""
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        assert fire_due_timers(due - timedelta(minutes=1)) == 0
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert fire_due_timers(due + timedelta(minutes=1)) == 1
    req = db.session.get(ServiceRequest, req_id)
    assert "escalated" in history(req)
    second = db.session.scalar(select(HumanTask).where(
        HumanTask.request_id == req_id, HumanTask.spec_id == "Task_SecondLine"))
    assert second is not None and second.status == "open"


@pytest.mark.parametrize("filed, due", [
    (FRIDAY_17, MONDAY_11),  # past the week's last hour: Monday
    (TUESDAY_09, TUESDAY_09 + timedelta(hours=4)),  # inside the hours: the same day
    (datetime(2026, 3, 7, 15, 0, tzinfo=UTC), datetime(2026, 3, 9, 17, 0, tzinfo=UTC)),  # Sat
])
def test_the_first_lines_time_is_business_time(incidents, filed, due):
    calendar()  # Monday to Friday 08:00-18:00, America/Bogota
    db.session.commit()
    with time_machine.travel(filed, tick=False):
        req = file_incident(incidents, "high", "medium")
        req_id = req.id
        _triage(req)
        assert req.instance.next_timer_at.replace(tzinfo=UTC) == due
    _escalates_at(req_id, due)


def test_a_holiday_of_the_company_does_not_count(incidents):
    calendar(holidays=[{"date": "2026-03-09", "yearly": False, "name": "Festivo"}])
    db.session.commit()
    with time_machine.travel(FRIDAY_17, tick=False):
        req_id = file_incident(incidents, "high", "medium").id
    _escalates_at(req_id, MONDAY_11 + timedelta(days=1))


def test_the_calendar_of_another_zone_counts_in_its_zone(incidents):
    # Madrid (UTC+1 until 29 March 2026): Friday 17:00 there is 16:00 UTC; Monday 11:00 is 10:00
    calendar(zone="Europe/Madrid")
    db.session.commit()
    with time_machine.travel(datetime(2026, 3, 6, 16, 0, tzinfo=UTC), tick=False):
        req_id = file_incident(incidents, "high", "medium").id
    _escalates_at(req_id, datetime(2026, 3, 9, 10, 0, tzinfo=UTC))


@pytest.mark.parametrize("priority_of_target, due", [
    ("high", FRIDAY_17 + timedelta(hours=4)),  # the high target's 24x7 calendar: every hour
    ("urgent", MONDAY_11),  # a target of another priority: the default calendar's hours
    (None, FRIDAY_17 + timedelta(hours=4)),  # a target for every priority: its calendar
])
def test_the_sla_targets_calendar_for_the_priority_counts(incidents, priority_of_target, due):
    """The first line's time counts on the calendar the incident's resolution clock runs on
    (a 24x7 one for its priority counts every hour), else on the default calendar."""
    calendar()  # default: Monday to Friday 08:00-18:00
    always = calendar(name="24x7", week=ALWAYS, default=False)
    target(always, "resolution", 600, priority=priority_of_target)
    db.session.commit()
    with time_machine.travel(FRIDAY_17, tick=False):
        req = file_incident(incidents, "high", "medium")
        req_id = req.id
        assert req.instance.next_timer_at.replace(tzinfo=UTC) == due
    _escalates_at(req_id, due)


def test_without_a_business_calendar_the_time_is_calendar_time(incidents):
    with time_machine.travel(FRIDAY_17, tick=False):
        req = file_incident(incidents, "high", "medium")
        req_id = req.id
        assert req.instance.next_timer_at.replace(tzinfo=UTC) == FRIDAY_17 + timedelta(hours=4)
    _escalates_at(req_id, FRIDAY_17 + timedelta(hours=4))


def test_the_deadline_uses_the_sla_calendar_and_says_how_it_counted(demo):
    tenant_id = demo.user("admin@acme.test").tenant_id
    assert escalation.deadline(tenant_id, FRIDAY_17, "PT4H") == (
        FRIDAY_17 + timedelta(hours=4), escalation.CALENDAR)
    calendar()
    assert escalation.deadline(tenant_id, FRIDAY_17, "PT4H") == (MONDAY_11, escalation.BUSINESS)
    # another company's calendar is not acme's
    assert escalation.deadline(tenant_id + 1, FRIDAY_17, "PT4H")[1] == escalation.CALENDAR


def test_the_result_samples_name_both_ways_of_counting():
    counted = {s["escalate_counted_in"] for s in operations.RESULT_SAMPLES["prioritize"]}
    assert counted == {escalation.BUSINESS, escalation.CALENDAR}
