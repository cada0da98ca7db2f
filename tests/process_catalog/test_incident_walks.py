"""Walk every path of processes/incident.bpmn, saving and restoring the instance after each
step (as the host does), with the service operations stubbed as they answer and the clock
held by the test."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from app.engine.runner import Instance
from app.engine.specs import compile_process
from app.handlers.registry import OPERATIONS, TASK_HANDLERS
from app.services.definitions import default_diagram

START = {"requester_is_head": False, "priority": "normal", "auto_close_after": "P7D",
         "authorization_reminder_after": "PT48H", "over_budget": False,
         "over_budget_approval": False}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRST_LINE = timedelta(hours=4)
ASSIGNMENT = {"worker_id": 1, "helper_ids": [], "planned_start": "2026-03-02",
              "planned_end": "2026-03-03"}
FIRST = [("Task_Start", "Worker")]
SECOND = [("Task_SecondLine", "Team")]
CONFIRM = [("Task_Confirm", "Requester")]


@pytest.fixture(scope="module")
def compiled(app):
    return compile_process(default_diagram("incident"), set(TASK_HANDLERS),
                           set(OPERATIONS) | {"classify", "auto_assign"})


class Walk:
    """One instance driven like the host does it: every step restores from the saved JSON."""

    def __init__(self, compiled, now):
        self.compiled, self.calls = compiled, []
        self.now = now
        instance = Instance.start(compiled, dict(START), self._operation)
        self.state = instance.dump()

    def _operation(self, name, params, data):
        self.calls.append((name, params))
        if name == "prioritize":
            return {"priority": "high", "impact": "high", "urgency": "medium",
                    "escalate_after": "PT4H", "escalated": False,
                    "escalate_at": (self.now() + FIRST_LINE).isoformat()}
        if name == "auto_assign":
            return ASSIGNMENT
        if name == "escalate":
            return {**data["triage"], "escalated": True}
        return {"ok": True}

    def _load(self) -> Instance:
        return Instance.restore(self.compiled, self.state, self._operation)

    def waiting(self):
        return sorted((t.spec_id, t.lane) for t in self._load().ready_tasks())

    def do(self, spec_id, **data):
        instance = self._load()
        (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
        instance.complete(task.uuid, data)
        self.state = instance.dump()

    def fire_timers(self):
        instance = self._load()
        instance.fire_due_timers()
        self.state = instance.dump()

    def next_timer(self):
        return self._load().next_timer_at()

    @property
    def completed(self):
        return self._load().is_completed

    def ops(self):
        return [name for name, _ in self.calls]


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def walk(compiled):
    return Walk(compiled, lambda: datetime.now(UTC))


AUTOMATIC = ["classify", "prioritize", "auto_assign", "create_ticket"]


def test_solved_at_the_first_line(compiled, clock):
    w = walk(compiled)
    assert w.ops() == AUTOMATIC  # classified, prioritized and assigned: no director
    assert w.waiting() == FIRST
    assert w.next_timer() == T0 + FIRST_LINE
    w.do("Task_Start")
    assert w.waiting() == [("Task_Work", "Worker")]
    w.do("Task_Work", action="finish")
    assert w.waiting() == CONFIRM
    w.do("Task_Confirm", rating=5, solved=True)
    assert w.completed
    assert w.ops() == [*AUTOMATIC, "close_request"]
    assert w.calls[-1][1] == {"confirmed": True}


def test_on_hold_and_resumed_within_the_time(compiled, clock):
    w = walk(compiled)
    w.do("Task_Start")
    w.do("Task_Work", action="hold")
    assert w.waiting() == [("Task_OnHold", "Worker")]
    clock.move_to(T0 + timedelta(hours=3))
    w.fire_timers()  # not due yet: nothing moves
    assert w.waiting() == [("Task_OnHold", "Worker")]
    w.do("Task_OnHold")
    w.do("Task_Work", action="finish")
    w.do("Task_Confirm", rating=4, solved=True)
    assert w.completed
    assert "escalate" not in w.ops()


@pytest.mark.parametrize("where", ["Task_Start", "Task_Work", "Task_OnHold"])
def test_escalated_by_the_timer_wherever_the_first_line_is(compiled, clock, where):
    w = walk(compiled)
    if where != "Task_Start":
        w.do("Task_Start")
    if where == "Task_OnHold":
        w.do("Task_Work", action="hold")
    assert w.waiting() == [(where, "Worker")]
    clock.move_to(T0 + FIRST_LINE - timedelta(minutes=1))
    w.fire_timers()
    assert w.waiting() == [(where, "Worker")]
    clock.move_to(T0 + FIRST_LINE + timedelta(minutes=1))
    w.fire_timers()
    assert w.waiting() == SECOND  # the first line's task is gone (interrupting)
    assert w.calls[-1] == ("escalate", {"team": "second_line"})
    assert w.next_timer() is None
    w.do("Task_SecondLine", action="finish")
    assert w.waiting() == CONFIRM
    w.do("Task_Confirm", rating=5, solved=True)
    assert w.completed
    assert w.ops().count("escalate") == 1


def test_not_solved_goes_back_to_the_first_line_before_escalation(compiled, clock):
    w = walk(compiled)
    w.do("Task_Start")
    w.do("Task_Work", action="finish")
    w.do("Task_Confirm", solved=False, reason="sigue fallando")
    assert w.waiting() == [("Task_Work", "Worker")]
    w.do("Task_Work", action="finish")
    w.do("Task_Confirm", rating=3, solved=True)
    assert w.completed


def test_reopened_after_the_first_lines_time_is_escalated(compiled, clock):
    w = walk(compiled)
    w.do("Task_Start")
    w.do("Task_Work", action="finish")
    clock.move_to(T0 + timedelta(hours=6))
    # its time ran out while it waited for the requester: at once to the second line
    w.do("Task_Confirm", solved=False, reason="sigue fallando")
    assert w.waiting() == SECOND
    assert w.ops().count("escalate") == 1


def test_not_solved_after_the_second_line_goes_back_to_the_second_line(compiled, clock):
    w = walk(compiled)
    clock.move_to(T0 + timedelta(hours=5))
    w.fire_timers()
    assert w.waiting() == SECOND
    w.do("Task_SecondLine", action="finish")
    w.do("Task_Confirm", solved=False, reason="no")
    assert w.waiting() == SECOND
    w.do("Task_SecondLine", action="finish")
    w.do("Task_Confirm", rating=4, solved=True)
    assert w.completed
    assert w.ops().count("escalate") == 1


def test_closed_automatically_when_the_requester_does_not_answer(compiled, clock):
    w = walk(compiled)
    w.do("Task_Start")
    w.do("Task_Work", action="finish")
    assert w.next_timer() == T0 + timedelta(days=7)
    clock.move_to(T0 + timedelta(days=7, minutes=1))
    w.fire_timers()
    assert w.completed
    assert w.calls[-1] == ("close_request", {"confirmed": False})


def test_the_template_has_no_unit_head_step_and_no_script():
    xml = default_diagram("incident")
    assert "UnitHead" not in xml and "authorize" not in xml
    assert "scriptTask" not in xml and "Script" not in xml
    assert 'name="kind" value="incident"' in xml
