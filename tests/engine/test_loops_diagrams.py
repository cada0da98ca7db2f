"""Pruning in diagrams tenants may deploy: parallel and inclusive joins, a loop in one branch
while another waits at the join, boundary timers inside a loop, subprocesses. Every step is
saved and restored (so pruned) and compared with the same walk in memory, never pruned."""

from datetime import UTC, datetime, timedelta

import time_machine

from tests.engine.compiling import compile_xml
from tests.engine.loop_helpers import (
    INCLUSIVE,
    LOOP_IN_A_BRANCH,
    NESTED_SPLITS,
    PARALLEL_LOOP,
    SUBPROCESS_LOOPS,
    TIMER_IN_LOOP,
    Saved,
    summary,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def in_memory(w: Saved) -> list[str]:
    return sorted(t.spec_id for t in w.memory.ready_tasks())


def same_result(w: Saved) -> None:
    """The pruned instance ended as the whole tree did: same path, same final data."""
    assert w.completed and w.memory.is_completed
    assert summary(w.load().trail()) == summary(w.memory.trail())
    assert w.load().workflow.data == w.memory.workflow.data


def test_a_parallel_join_waits_for_both_branches_on_every_pass_of_a_loop():
    w = Saved(compile_xml(PARALLEL_LOOP))
    tasks = None
    for first, second in [("B", "A"), ("A", "B")] * 5:
        assert w.waiting() == ["A", "B"]
        w.do(first)
        # Pruned between the two arrivals: the join still knows the first one arrived, and
        # the previous pass's arrivals (already merged) do not count again.
        assert w.waiting() == [second]
        w.do(second)
        assert w.waiting() == ["X"]
        w.do("X", action="again")
        tasks = tasks or w.tasks
        assert w.tasks <= tasks
    w.do(first)
    w.do(second)
    w.do("X", action="done")
    assert w.completed


def test_a_join_of_three_branches_from_two_splits_is_not_cut_short():
    # After A and B arrive, the unfinished work (C, and B's wait at the join) lies under S2
    # alone: cutting the tree there would forget that A arrived.
    w = Saved(compile_xml(NESTED_SPLITS), with_memory=True)
    assert w.waiting() == ["A", "B", "C"]
    w.do("A")
    w.do("B")
    assert w.waiting() == ["C"] == in_memory(w)
    w.do("C")
    assert w.waiting() == ["D"] == in_memory(w)
    w.do("D")
    same_result(w)


def test_a_long_loop_in_one_branch_while_the_other_waits_at_the_join():
    w = Saved(compile_xml(LOOP_IN_A_BRANCH), with_memory=True)
    w.do("A")
    w.do("W", action="again")
    tasks, size = w.tasks, len(w.state)
    for _ in range(60):
        w.do("W", action="again")
        assert w.tasks <= tasks and len(w.state) <= size + 256
    assert w.waiting() == ["W"] == in_memory(w)
    w.do("W", action="done")
    assert w.waiting() == ["D"] == in_memory(w)
    w.do("D")
    same_result(w)


def test_an_inclusive_join_waits_for_every_branch_taken():
    w = Saved(compile_xml(INCLUSIVE), with_memory=True)
    assert w.waiting() == ["A", "B"]
    w.do("B")
    assert w.waiting() == ["A"] == in_memory(w)
    w.do("A")
    assert w.waiting() == ["D"] == in_memory(w)
    w.do("D")
    same_result(w)


def test_a_boundary_timer_on_a_looped_task_is_armed_again_and_fires_on_each_pass():
    with time_machine.travel(T0, tick=True) as clock:
        w = Saved(compile_xml(TIMER_IN_LOOP), with_memory=True)
        tasks = None
        for turn in range(30):
            due = w.load().next_timer_at()
            assert due is not None
            assert abs(due - w.memory.next_timer_at()) < timedelta(seconds=5)
            if turn % 3 == 0:  # let the reminder fire on one pass in three
                clock.shift(timedelta(hours=2))
                w.fire_timers()
                assert w.load().next_timer_at() is None
            w.do("W", action="again")
            if turn == 3:
                tasks = w.tasks
            elif tasks is not None:
                assert w.tasks <= tasks
        assert w.calls == []  # the timer's path has no service task; it only ends
        completed, pairs, _ = summary(w.load().trail())
        assert ("Timer", "Reminded") in pairs and "Reminded" in completed
        w.do("W", action="done")
        same_result(w)


def test_loops_inside_and_around_a_subprocess():
    w = Saved(compile_xml(SUBPROCESS_LOOPS), with_memory=True)
    tasks = None
    for turn in range(4):
        for _ in range(15):
            w.do("Inner", action="again")
        assert w.waiting() == ["Inner"] == in_memory(w)
        tasks = tasks or w.tasks
        assert w.tasks <= tasks  # the subprocess's own tree is pruned too
        w.do("Inner", action="done")
        assert w.waiting() == ["X"] == in_memory(w)
        w.do("X", action="again" if turn < 3 else "done")
    same_result(w)
    assert not w.load().workflow.subprocesses  # finished subprocesses went with their task
    completed, pairs, _ = summary(w.load().trail())
    assert {"SubStart", "Inner", "SubEnd", "Sub", "X"} <= set(completed)
    assert ("SG", "SM") in pairs
