"""Timer values are bounded at deploy (literals) and at run time (evaluated expressions): no
duration the engine walks month by month for hours, no date centuries away, no cycle that fires
for ever."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.engine import timers
from app.engine.runner import EngineError, Instance
from app.services.definitions import default_diagram
from tests.engine.compiling import compile_xml, problems_of

START = {"authorization_reminder_after": "PT48H", "auto_close_after": "P7D",
         "priority": "normal", "requester_is_head": False}
REMINDER = ">authorization_reminder_after<"


def with_timer(text: str, tag: str = "timeDuration") -> str:
    """The default diagram with the authorization reminder's timer replaced."""
    xml = default_diagram()
    old = '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">authorization_reminder_after' \
          '</bpmn:timeDuration>'
    assert old in xml
    return xml.replace(old, f'<bpmn:{tag} xsi:type="bpmn:tFormalExpression">{text}</bpmn:{tag}>')


@pytest.mark.parametrize("literal", [
    "'P999999999Y'", "'P11Y'", "'P200M'", "'P4000D'", "'PT100000H'", "'P600W'",
    "'P9999999999999999999999D'", "'PT'", "'P'", "'P1W2D'", "'10 days'", "' PT48H'",
])
def test_durations_out_of_bounds_or_malformed_are_refused(literal):
    problems = problems_of(with_timer(literal))
    assert any(eid == "Timer_AuthorizationReminder" and msg.startswith("timer")
               for eid, msg in problems), problems


@pytest.mark.parametrize("literal", ["'PT48H'", "'P7D'", "'P10Y'", "'P120M'", "'P1W'",
                                     "'PT0.5H'", "'p2d'", "'PT90M'"])
def test_durations_within_bounds_are_accepted(literal):
    compile_xml(with_timer(literal))


def _iso(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("literal,ok", [
    (lambda: f"'{_iso(3)}'", True),
    (lambda: f"'{_iso(-3)}'", True),            # a date passed already fires at once
    (lambda: f"'{_iso(365 * 11)}'", False),
    (lambda: f"'{_iso(-365 * 11)}'", False),
    (lambda: "'9999-12-31T23:59:59'", False),
    (lambda: "'0001-01-01T00:00:00'", False),
    (lambda: "'tomorrow'", False),
])
def test_dates_must_be_within_bounds(literal, ok):
    xml = with_timer(literal(), tag="timeDate")
    if ok:
        compile_xml(xml)
    else:
        assert any(eid == "Timer_AuthorizationReminder" for eid, _ in problems_of(xml))


@pytest.mark.parametrize("literal,ok", [
    ("'R/PT1M'", True), ("'R3/PT10M'", True), ("'R/P1D'", True),
    ("'R/PT0S'", False), ("'R5/PT0S'", False), ("'R/PT59S'", False), ("'R/PT0.5M'", False),
    ("'R99999999/PT1M'", False), ("'R/P11Y'", False), ("'R-1/PT1H'", False),
    ("'PT1H'", False), ("'R/PT1H/PT2H'", False),
    ("'R3/{in 1 day}/PT1H'", True), ("'R3/{in 7300 days}/PT1H'", False),
    ("'R3/{in -1 days}/PT1H'", False),      # a start in the past fires at every step
    ("'R3/PT1H/{in 2 days}'", True), ("'R3/PT1H/{in -2 days}'", False),
])
def test_cycles_must_be_real_and_not_too_frequent(literal, ok):
    literal = re.sub(r"\{in (-?\d+) days?\}", lambda m: _iso(int(m.group(1))), literal)
    xml = with_timer(literal, tag="timeCycle")
    if ok:
        compile_xml(xml)
    else:
        assert any(eid == "Timer_AuthorizationReminder" for eid, _ in problems_of(xml))


def test_the_bounds_are_settings():
    try:
        timers.configure(max_years=1, min_cycle_seconds=3600)
        assert problems_of(with_timer("'P2Y'"))
        assert problems_of(with_timer("'R/PT30M'", tag="timeCycle"))
        compile_xml(with_timer("'P11M'"))
    finally:
        timers.configure(max_years=10, min_cycle_seconds=60)
    compile_xml(with_timer("'P2Y'"))


@pytest.fixture(scope="module")
def compiled():
    return compile_xml(default_diagram())


@pytest.mark.parametrize("value", ["P999999999Y", "P99999999999M", "P11Y", "PT0S x", 42,
                                   None, "R/PT0S", "2999-01-01T00:00:00Z"])
def test_an_evaluated_timer_value_out_of_bounds_stops_the_step_quickly(compiled, value):
    """The reminder's duration comes from a company setting, read at run time: a huge one is
    refused before the engine walks it (it used to keep a worker busy for hours)."""
    started = time.process_time()
    with pytest.raises(EngineError, match="timer"):
        Instance.start(compiled, {**START, "authorization_reminder_after": value},
                       lambda *args: {})
    assert time.process_time() - started < 5  # a refusal, not a walk (bound, not a benchmark)


def test_an_evaluated_timer_value_within_bounds_runs(compiled):
    instance = Instance.start(compiled, {**START, "authorization_reminder_after": "P10Y"},
                              lambda *args: {})
    due = instance.next_timer_at()
    assert due is not None and due > datetime.now(UTC) + timedelta(days=365 * 9)


@pytest.mark.parametrize("kind,value", [
    ("duration", "P10Y"), ("duration", "PT1S"), ("cycle", "R/PT1M"), ("date", "{in 1 day}"),
])
def test_check_accepts(kind, value):
    timers.check(kind, _iso(1) if value == "{in 1 day}" else value)


@pytest.mark.parametrize("kind,value", [
    ("duration", "P" + "9" * 90 + "Y"), ("duration", "x" * 1000), ("duration", b"PT1H"),
    ("date", "2026-13-01T00:00:00"), ("cycle", "R/" + "P1D/" * 30),
])
def test_check_refuses(kind, value):
    with pytest.raises(timers.TimerValueError):
        timers.check(kind, value)


def test_the_application_reads_the_bounds_from_its_settings():
    from app import create_app

    try:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TIMER_MAX_YEARS": 2,
                    "TIMER_MIN_CYCLE_SECONDS": 300})
        with pytest.raises(timers.TimerValueError, match="longer than 2 years"):
            timers.check("duration", "P3Y")
        with pytest.raises(timers.TimerValueError, match="every 300 seconds"):
            timers.check("cycle", "R/PT2M")
    finally:
        timers.configure(max_years=10, min_cycle_seconds=60)



@pytest.mark.parametrize("text", ["PT١H", "PT１H", "P٣D", "PT1H30M"])
def test_durations_take_latin_digits_only(text):
    if text.isascii():
        assert timers.duration_seconds(text) == 5400
    else:
        with pytest.raises(timers.TimerValueError):
            timers.duration_seconds(text)
