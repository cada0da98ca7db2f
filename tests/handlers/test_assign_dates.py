"""The assignment's planned dates, on a fixed calendar (time-machine), so the rules keep being
tested whatever day the suite runs: the end may not be before the start, nor already past;
a one-day plan ending today is fine."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from app.handlers.assign import AssignSchema

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
END_BEFORE_START = "The end cannot be before the start."
ALREADY_PAST = "The planned end is already past."


def load(start: date, end: date) -> dict:
    return AssignSchema().load({"worker_id": "7", "planned_start": start.isoformat(),
                                "planned_end": end.isoformat()})


def refusal(start: date, end: date) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        load(start, end)
    return refused.value.messages["planned_end"]


@pytest.fixture(autouse=True)
def fixed_today(app):
    with app.test_request_context(), time_machine.travel(NOW, tick=False):
        assert date.today() == TODAY
        yield


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


@pytest.mark.parametrize("start,end", [(0, 0), (0, 1), (-3, 0), (5, 5), (2, 30)])
def test_plans_ending_today_or_later_and_not_before_their_start_are_accepted(start, end):
    data = load(day(start), day(end))
    assert (data["planned_start"], data["planned_end"]) == (day(start), day(end))


@pytest.mark.parametrize("start,end", [(1, 0), (10, 9), (3, 1), (30, 2)])
def test_an_end_before_the_start_is_refused(start, end):
    assert refusal(day(start), day(end)) == [str(_l(END_BEFORE_START))]


@pytest.mark.parametrize("start,end", [(-1, -1), (-5, -2), (-1, -3)])
def test_an_end_already_past_is_refused(start, end):
    assert refusal(day(start), day(end)) == [str(_l(ALREADY_PAST))]
