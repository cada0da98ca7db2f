"""app.engine.passes: what a step opened and closed, from the instance as it was restored."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import time_machine

from app.engine import passes
from app.engine.runner import Instance
from app.engine.specs import compile_process
from app.handlers.operations import OPERATIONS
from app.handlers.registry import TASK_HANDLERS
from app.services.definitions import default_diagram

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = {"authorization_reminder_after": "PT48H", "auto_close_after": "P7D", "priority": "normal",
         "over_budget": False, "over_budget_approval": False, "requester_is_head": False}


@pytest.fixture(scope="module")
def compiled():
    return compile_process(default_diagram(), set(TASK_HANDLERS), set(OPERATIONS))


def _operation(name, params, data):
    return {"ok": True}


def summary(found):
    return [(p.element_id, p.came_from, p.state, p.entered_at, p.left_at) for p in found]


def test_a_new_instance_lists_everything_it_reached(compiled):
    with time_machine.travel(T0, tick=False):
        instance = Instance.start(compiled, START, _operation)
        assert summary(instance.step_passes()) == [
            ("Start_Filed", None, "completed", T0, T0),
            ("Gateway_NeedsAuthorization", "Start_Filed", "completed", T0, T0),
            ("Task_Authorize", "Gateway_NeedsAuthorization", "waiting", T0, None),
        ]


def test_a_restored_instance_lists_only_what_the_step_changed(compiled):
    with time_machine.travel(T0, tick=False) as clock:
        state = Instance.start(compiled, START, _operation).dump()
        restored = Instance.restore(compiled, state, _operation)
        assert restored.step_passes() == []            # nothing happened yet
        assert restored.step_passes(reopen=True)[0].element_id == "Task_Authorize"
        clock.move_to(T0 + timedelta(hours=2))
        (task,) = restored.ready_tasks()
        restored.complete(task.uuid, {"decision": "reject"})
        two = T0 + timedelta(hours=2)
        assert summary(restored.step_passes()) == [
            ("Task_Authorize", "Gateway_NeedsAuthorization", "completed", T0, two),
            ("Gateway_Authorized", "Task_Authorize", "completed", two, two),
            ("Gateway_MergeRejected", "Gateway_Authorized", "completed", two, two),
            ("Service_MarkRejected", "Gateway_MergeRejected", "completed", two, two),
            ("End_Rejected", "Service_MarkRejected", "completed", two, two),
        ]


def test_an_open_pass_whose_task_went_away_closes_as_moved(compiled):
    with time_machine.travel(T0, tick=False):
        state = Instance.start(compiled, START, _operation).dump()
        restored = Instance.restore(compiled, state, _operation)
        gone = passes.Pass(str(uuid4()), "Task_Old", "Gateway_X", "waiting", T0, None)
        restored.seen.open[uuid4()] = gone
        (moved,) = restored.step_passes()
    assert moved == gone._replace(state="moved", left_at=T0)
