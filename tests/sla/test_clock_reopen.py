"""The resolution clock across reopened work, against hand-computed values: finished work the
requester answers "not solved" to resumes it (the time between the finish and the reopening
is a pause), the next finish stops it again. Calendar and dates as in
test_clock_tables.py: 08:00-18:00 Monday to Friday, Europe/Madrid, June 2024."""

from datetime import timedelta

import pytest

from app.sla.clock import Target, compute
from tests.sla.test_clock_tables import OFFICE, H, fri, m, mon, tue

RESOLUTION = Target("resolution", 8 * H, 75, ("returned", "on_hold"))


@pytest.fixture(autouse=True)
def clean_tables():
    """Pure module: no application and no database (overrides tests/conftest.py's)."""
    yield


def moments(*extra):
    return [m(fri("09:00"), "pending_evaluation"),
            m(fri("10:00"), "in_service", "pending"),
            m(fri("11:00"), "in_service", "in_progress"),
            m(fri("13:00"), "completed", "finished"),   # 4 h of work: done
            *extra]


def test_a_finish_stops_the_clock_met():
    result = compute(RESOLUTION, OFFICE, moments(), mon("12:00"))
    assert (result.state, result.stopped_at, result.elapsed) == ("met", fri("13:00"), 4 * H)


def test_reopened_work_resumes_the_clock_without_the_time_it_waited():
    # Reopened Monday 09:00: Friday 13:00-18:00 and Monday 08:00-09:00 (6 h) do not count
    reopened = moments(m(mon("09:00"), "in_service", "in_progress"))
    result = compute(RESOLUTION, OFFICE, reopened, mon("10:30"))
    assert result.state == "running" and result.stopped_at is None
    assert result.elapsed == 5.5 * H  # 4 h before + 1.5 h since
    assert result.due_at == mon("13:00")  # 8 h: 4 more from 09:00
    assert result.warn_at == mon("11:00")  # 75 % of 8 h = 6 h: 2 more from 09:00
    assert result.remaining == 2.5 * H
    assert result.pauses == ((fri("13:00"), mon("09:00")),)  # the wait: a pause
    assert compute(RESOLUTION, OFFICE, reopened, mon("11:00")).state == "warning"


def test_the_next_finish_stops_it_again_and_an_overrun_breaches():
    again = moments(m(mon("09:00"), "in_service", "in_progress"),
                    m(mon("12:00"), "completed", "finished"))
    result = compute(RESOLUTION, OFFICE, again, tue("09:00"))
    assert (result.state, result.stopped_at, result.elapsed) == ("met", mon("12:00"), 7 * H)
    late = moments(m(mon("09:00"), "in_service", "in_progress"),
                   m(mon("15:00"), "completed", "finished"))
    result = compute(RESOLUTION, OFFICE, late, tue("09:00"))
    assert (result.state, result.stopped_at, result.elapsed) == ("breached", mon("15:00"),
                                                                  10 * H)
    assert result.remaining == timedelta(hours=-2)


def test_a_closed_ticket_after_the_finish_keeps_the_first_stop():
    closed = moments(m(fri("15:00"), "completed", "closed"))
    result = compute(RESOLUTION, OFFICE, closed, mon("12:00"))
    assert (result.state, result.stopped_at, result.elapsed) == ("met", fri("13:00"), 4 * H)


def test_other_kinds_do_not_resume():
    start = Target("start", 2 * H, 75, ())
    reopened = moments(m(mon("09:00"), "in_service", "in_progress"))
    result = compute(start, OFFICE, reopened, mon("11:00"))
    assert (result.state, result.stopped_at) == ("met", fri("11:00"))
