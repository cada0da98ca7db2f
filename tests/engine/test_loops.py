"""Long-running instances of the default diagram: a step costs the same after any number of
hold/resume loops because the saved tree stays the same size (sizes are checked, not times),
and the lifecycle, timers, trail, migration and old saved states all keep working."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from lxml import etree

from app.engine import migration
from app.engine.runner import Instance
from app.engine.serializer import LEGACY_FORMAT, _registry
from app.services.definitions import default_diagram
from tests.engine.compiling import compile_xml
from tests.engine.loop_helpers import DEFAULT_START, TO_WORK, Saved, summary

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def compiled():
    return compile_xml(default_diagram())


def at_work(compiled, with_memory=False) -> Saved:
    w = Saved(compiled, DEFAULT_START, with_memory=with_memory)
    for spec_id, data in TO_WORK:
        w.do(spec_id, **data)
    return w


def loop(w: Saved, times: int) -> None:
    for _ in range(times):
        w.do("Task_Work", action="hold")
        w.do("Task_OnHold")


def test_a_hundred_loops_keep_the_saved_state_bounded_and_the_lifecycle_completes(compiled):
    w = at_work(compiled)
    loop(w, 1)
    size, tasks = len(w.state), w.tasks
    for _ in range(99):
        loop(w, 1)
        assert w.tasks <= tasks
        assert len(w.state) <= size + 256  # the folded history may add a few kinds, no more
    data_sizes = {len(json.dumps(t.data)) for t in w.load().workflow.tasks.values()}
    assert max(data_sizes) < 1024  # task data is carried along, not accumulated
    assert w.waiting() == ["Task_Work"]
    w.do("Task_Work", action="finish")
    assert w.waiting() == ["Task_Confirm"]
    w.do("Task_Confirm", rating=5, solved=True)
    assert w.completed and w.waiting() == []
    assert w.calls == ["create_ticket", "close_request"]
    assert w.tasks <= 5  # a finished instance keeps almost nothing but its history
    assert len(w.state) < size


def test_after_three_hundred_loops_the_waiting_task_is_still_found(compiled):
    # The stock tree grows four levels a loop and the engine's iterator stops at depth 1000:
    # without pruning, the waiting task disappears from view after about 250 loops.
    w = at_work(compiled)
    loop(w, 300)
    assert w.waiting() == ["Task_Work"]
    w.do("Task_Work", action="finish")
    assert w.waiting() == ["Task_Confirm"]


def test_the_trail_after_loops_is_the_one_the_whole_tree_gives(compiled):
    with time_machine.travel(T0, tick=True):
        w = at_work(compiled, with_memory=True)
        loop(w, 30)
        pruned, whole = summary(w.load().trail()), summary(w.memory.trail())
        assert pruned == whole
        completed, pairs, last = pruned
        assert completed[:3] == ["Start_Filed", "Gateway_NeedsAuthorization", "Task_Authorize"]
        assert ("Task_OnHold", "Gateway_MergeWork") in pairs
        assert ("Gateway_WorkOutcome", "Task_OnHold") in pairs
        assert last["Task_Work"] == "waiting"
        w.do("Task_Work", action="finish")
        w.do("Task_Confirm", rating=4, solved=True)
        assert summary(w.load().trail()) == summary(w.memory.trail())
        assert w.load().workflow.data == w.memory.workflow.data


def test_a_reminder_then_loops_then_the_automatic_close(compiled):
    """Both boundary timers: the reminder's branch ends while the authorization still waits
    (its end stays open for the whole process), the automatic close interrupts at the end."""
    with time_machine.travel(T0, tick=True) as clock:
        w = Saved(compiled, DEFAULT_START, with_memory=True)
        reminder = w.load().next_timer_at()
        assert abs(reminder - (T0 + timedelta(hours=48))) < timedelta(seconds=5)
        clock.move_to(T0 + timedelta(hours=49))
        w.fire_timers()
        assert w.calls == ["send_reminder"]
        assert w.waiting() == ["Task_Authorize"] and w.load().next_timer_at() is None
        for spec_id, data in TO_WORK:
            w.do(spec_id, **data)
        loop(w, 1)
        tasks = w.tasks
        loop(w, 40)
        assert w.tasks <= tasks
        w.do("Task_Work", action="finish")
        due = w.load().next_timer_at()
        assert due is not None and due > T0 + timedelta(days=9)
        clock.move_to(due + timedelta(minutes=1))
        w.fire_timers()
        assert w.completed
        assert w.calls[-1] == "close_request"
        pruned, whole = summary(w.load().trail()), summary(w.memory.trail())
        assert pruned == whole
        assert {"Timer_AuthorizationReminder", "End_ReminderSent", "Timer_AutoClose",
                "End_AutoClosed"} <= set(pruned[0])
        assert pruned[2]["Task_Confirm"] == "cancelled"
        assert w.load().workflow.data == w.memory.workflow.data


def test_returned_many_times_the_evaluation_loop_stays_bounded(compiled):
    w = Saved(compiled, DEFAULT_START)
    w.do("Task_Authorize", decision="authorize")
    w.do("Task_Evaluate", decision="return")
    w.do("Task_ProvideInformation")
    tasks = w.tasks
    for _ in range(30):
        w.do("Task_Evaluate", decision="return")
        w.do("Task_ProvideInformation")
        assert w.tasks <= tasks
    w.do("Task_Evaluate", decision="approve")
    assert w.waiting() == ["Task_Assign"]


def _without(xml: str, gone: set[str]) -> str:
    """``xml`` without the elements ``gone`` names, their shapes and references to them."""
    root = etree.fromstring(xml.encode())
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        if (element.get("id") in gone or element.get("bpmnElement") in gone
                or (element.text or "").strip() in gone):
            element.getparent().remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def _second_version(xml: str) -> str:
    """A step renamed, and the return path (with its step) removed."""
    xml = xml.replace('name="Reanudar trabajo"', 'name="Reanudar el trabajo"')
    return _without(xml, {"Task_ProvideInformation", "Flow_Return", "Flow_Resubmitted"})


def test_a_pruned_instance_migrates_and_carries_on(compiled):
    new = compile_xml(_second_version(default_diagram()))
    w = Saved(compiled, DEFAULT_START)
    w.do("Task_Authorize", decision="authorize")
    w.do("Task_Evaluate", decision="return")
    w.do("Task_ProvideInformation")
    w.do("Task_Evaluate", decision="approve")
    for spec_id, data in TO_WORK[2:]:
        w.do(spec_id, **data)
    loop(w, 20)
    w.do("Task_Work", action="hold")
    instance = w.load()
    assert len(instance.workflow.tasks) < 30  # pruned: the history is not in the tree
    assert migration.blockers(instance, new) == []
    moved = migration.migrate(instance, new)
    assert [t.name for t in moved.ready_tasks()] == ["Reanudar el trabajo"]
    w.compiled, w.state = new, moved.dump()
    w.do("Task_OnHold")
    loop(w, 5)
    w.do("Task_Work", action="finish")
    w.do("Task_Confirm", rating=5, solved=True)
    assert w.completed
    completed, _, _ = summary(w.load().trail())
    # The step the new version no longer has is still on the path taken.
    assert {"Task_ProvideInformation", "Task_OnHold", "Task_Confirm"} <= set(completed)


def test_a_pruned_instance_still_refuses_a_version_without_its_waiting_step(compiled):
    new = compile_xml(_without(default_diagram(), {"Task_OnHold", "Flow_Hold", "Flow_Resume"}))
    w = at_work(compiled)
    loop(w, 10)
    w.do("Task_Work", action="hold")
    problems = migration.blockers(w.load(), new)
    assert len(problems) == 1 and "Reanudar trabajo" in problems[0]


def legacy_state(instance: Instance) -> str:
    """The state as it was saved before pruning existed: the whole tree, format 1."""
    _registry._encoder_mode = True
    try:
        dct = _registry.convert(instance.workflow)
    finally:
        _registry._encoder_mode = False
    dct["format"] = LEGACY_FORMAT
    return json.dumps(dct, separators=(",", ":"))


def test_a_state_saved_before_pruning_loads_prunes_and_keeps_its_trail(compiled):
    with time_machine.travel(T0, tick=True):
        instance = Instance.start(compiled, DEFAULT_START, lambda *a: {"ok": True})
        for spec_id, data in TO_WORK + [("Task_Work", {"action": "hold"}),
                                        ("Task_OnHold", {})] * 40:
            (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
            instance.complete(task.uuid, data)
        old = legacy_state(instance)
        restored = Instance.restore(compiled, old, lambda *a: {"ok": True})
        assert len(restored.workflow.tasks) < 30 < len(instance.workflow.tasks)
        assert summary(restored.trail()) == summary(instance.trail())
        assert [t.spec_id for t in restored.ready_tasks()] == ["Task_Work"]
        saved = restored.dump()
        assert json.loads(saved)["format"] == "mesa-instance-2"
        assert len(saved) < len(old) / 5
        w = Saved(compiled, DEFAULT_START)
        w.state = saved
        w.do("Task_Work", action="finish")
        w.do("Task_Confirm", rating=5, solved=True)
        assert w.completed


def test_an_unknown_state_format_is_refused(compiled):
    with pytest.raises(ValueError):
        Instance.restore(compiled, json.dumps({"format": "other"}), lambda *a: {})
