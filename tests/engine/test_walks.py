"""Walk every path of the default diagram, saving and restoring the instance after each step."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from app.engine.runner import Instance
from app.engine.specs import compile_process
from app.handlers.operations import OPERATIONS
from app.handlers.registry import TASK_HANDLERS
from app.services.definitions import default_diagram

START = {"authorization_reminder_after": "PT48H", "auto_close_after": "P7D", "priority": "normal",
         "over_budget": False, "over_budget_approval": False}


@pytest.fixture(scope="module")
def compiled():
    return compile_process(default_diagram(), set(TASK_HANDLERS), set(OPERATIONS))


class Walk:
    """Drives one instance like the host does: every step restores from the saved JSON."""

    def __init__(self, compiled, **data):
        self.compiled = compiled
        self.calls = []
        instance = Instance.start(compiled, {**START, **data}, self._operation)
        self.state = instance.dump()

    def _operation(self, name, params, data):
        self.calls.append((name, params))
        return {"ok": True}

    def _load(self) -> Instance:
        return Instance.restore(self.compiled, self.state, self._operation)

    def waiting(self) -> list[tuple[str, str]]:
        return sorted((t.spec_id, t.lane) for t in self._load().ready_tasks())

    def do(self, spec_id: str, **data) -> None:
        instance = self._load()
        (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
        instance.complete(task.uuid, data)
        self.state = instance.dump()

    def fire_timers(self) -> None:
        instance = self._load()
        instance.fire_due_timers()
        self.state = instance.dump()

    def next_timer(self):
        return self._load().next_timer_at()

    @property
    def completed(self) -> bool:
        return self._load().is_completed

    def ops(self) -> list[str]:
        return [name for name, _ in self.calls]


ASSIGNMENT = {"assignment": {"worker_id": 1, "helper_ids": [], "planned_start": "2026-01-01",
                             "planned_end": "2026-01-02"}}


def test_approved_and_finished_with_a_hold(compiled):
    w = Walk(compiled, requester_is_head=False)
    assert w.waiting() == [("Task_Authorize", "UnitHead")]
    w.do("Task_Authorize", decision="authorize")
    assert w.waiting() == [("Task_Evaluate", "ServiceDirector")]
    w.do("Task_Evaluate", decision="approve", estimated_cost=100.0)
    assert w.waiting() == [("Task_Assign", "ServiceDirector")]
    w.do("Task_Assign", **ASSIGNMENT)
    assert w.ops() == ["create_ticket"]
    assert w.waiting() == [("Task_Start", "Worker")]
    w.do("Task_Start")
    w.do("Task_Work", action="hold")
    assert w.waiting() == [("Task_OnHold", "Worker")]
    w.do("Task_OnHold")
    assert w.waiting() == [("Task_Work", "Worker")]
    w.do("Task_Work", action="finish")
    assert w.waiting() == [("Task_Confirm", "Requester")]
    w.do("Task_Confirm", rating=5, solved=True)
    assert w.completed
    assert w.ops() == ["create_ticket", "close_request"]
    assert w.calls[-1][1] == {"confirmed": True}


def test_rejected_by_the_head(compiled):
    w = Walk(compiled, requester_is_head=False)
    w.do("Task_Authorize", decision="reject")
    assert w.completed
    assert w.calls == [("set_status", {"request_status": "rejected"})]


def test_rejected_by_the_director(compiled):
    w = Walk(compiled, requester_is_head=False)
    w.do("Task_Authorize", decision="authorize")
    w.do("Task_Evaluate", decision="reject")
    assert w.completed
    assert w.calls == [("set_status", {"request_status": "rejected"})]


def test_returned_and_resubmitted(compiled):
    w = Walk(compiled, requester_is_head=False)
    w.do("Task_Authorize", decision="authorize")
    w.do("Task_Evaluate", decision="return")
    assert w.waiting() == [("Task_ProvideInformation", "Requester")]
    w.do("Task_ProvideInformation")
    assert w.waiting() == [("Task_Evaluate", "ServiceDirector")]
    w.do("Task_Evaluate", decision="approve")
    assert w.waiting() == [("Task_Assign", "ServiceDirector")]


def test_authorization_skipped_when_requester_heads_the_unit(compiled):
    w = Walk(compiled, requester_is_head=True)
    assert w.waiting() == [("Task_Evaluate", "ServiceDirector")]


def test_reminder_fires_once_and_authorization_still_waits(compiled):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        w = Walk(compiled, requester_is_head=False)
        due = w.next_timer()
        assert due == start + timedelta(hours=48)
        clock.move_to(start + timedelta(hours=47))
        w.fire_timers()
        assert w.ops() == []
        clock.move_to(start + timedelta(hours=49))
        w.fire_timers()
        w.fire_timers()
        clock.move_to(start + timedelta(days=30))
        w.fire_timers()
        assert w.ops() == ["send_reminder"]
        assert w.waiting() == [("Task_Authorize", "UnitHead")]
        assert w.next_timer() is None
        w.do("Task_Authorize", decision="authorize")
        assert w.waiting() == [("Task_Evaluate", "ServiceDirector")]


def test_automatic_close_when_the_requester_does_not_answer(compiled):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        w = Walk(compiled, requester_is_head=True)
        w.do("Task_Evaluate", decision="approve")
        w.do("Task_Assign", **ASSIGNMENT)
        w.do("Task_Start")
        w.do("Task_Work", action="finish")
        assert w.waiting() == [("Task_Confirm", "Requester")]
        assert w.next_timer() == start + timedelta(days=7)
        clock.move_to(start + timedelta(days=7, minutes=1))
        w.fire_timers()
        assert w.completed
        assert w.calls[-1] == ("close_request", {"confirmed": False})
        assert w.waiting() == []


def test_instance_state_does_not_embed_the_spec(compiled):
    w = Walk(compiled, requester_is_head=False)
    assert '"spec"' not in w.state
    assert len(w.state) < 12_000
