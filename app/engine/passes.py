"""What one engine step did at each diagram element: the passes it opened and closed.

A *pass* is one engine task at one element (a user task, a gateway, a timer, an event...). It
opens when the task becomes ready or starts waiting, and closes when the task completes, is cut
short (a withdrawal, an interrupting event), merges into another branch at a join, or goes away
because the instance moved to another version. The heatmap (``app.indicators``) counts them.

:class:`Seen` remembers, when an instance is restored, which of its tasks were open and which
were over; :func:`since` lists, at the end of the step and before ``Instance.dump`` prunes the
finished tasks, every pass the step opened or closed. What is pruned was over before, so nothing
the step did is missed, and nothing done before is listed again.

Timestamps are the engine's own (``Task.last_state_change``). A pass opens when the task before
it completed (its parent's last change; the task's own when the parent is not completed).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from app.engine.compact import History, entry, walk

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


class Pass(NamedTuple):
    """One pass, as the step leaves it. ``state``: "waiting" (open), "completed", "cancelled"
    (cut short), "merged" (arrived at a join and went on as another branch) or "moved" (its
    instance moved to another version while it was open); ``left_at`` is None while open."""

    task_id: str
    element_id: str
    came_from: str | None
    state: str
    entered_at: datetime
    left_at: datetime | None


@dataclass
class Seen:
    """The tasks of an instance as it was restored: the open passes, and the ids of the tasks
    already over (completed or cancelled), whose passes were recorded by earlier steps."""

    open: dict[UUID, Pass] = field(default_factory=dict)
    over: set[UUID] = field(default_factory=set)


def _at(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def _entered(task) -> datetime:
    parent = task.parent
    if parent is not None and parent.state == TaskState.COMPLETED:
        return _at(parent.last_state_change)
    return _at(task.last_state_change)


def _pass(task, found: tuple[str, str | None, str]) -> Pass:
    element, came_from, kind = found
    left = None if kind == "waiting" else _at(task.last_state_change)
    return Pass(str(task.id), element, came_from, kind, _entered(task), left)


def seen(workflow, history: History) -> Seen:
    """What a just-restored instance holds (a walk over its pruned task tree)."""
    found = Seen()
    for task in walk(workflow):
        if task.has_state(FINISHED):
            found.over.add(task.id)
            continue
        here = entry(task, history.links)
        if here is not None and here[2] == "waiting":
            found.open[task.id] = _pass(task, here)
    return found


def since(workflow, history: History, before: Seen, now: datetime,
          reopen: bool = False) -> list[Pass]:
    """The passes the step opened or closed since ``before``, in the engine's order.

    An open pass that is no longer in the task tree (a move to another version drops the tasks
    it waited at and creates them afresh) closes as "moved" at ``now``. ``reopen`` lists the
    passes still open too (after such a move, so that they are counted for the new version).
    """
    passes, present = [], set()
    for task in walk(workflow):
        present.add(task.id)
        if task.id in before.over:
            continue
        here = entry(task, history.links)
        if here is None:
            continue
        if here[2] == "waiting" and task.id in before.open and not reopen:
            continue  # it was open already and still is
        passes.append(_pass(task, here))
    passes.extend(p._replace(state="moved", left_at=now)
                  for task_id, p in before.open.items() if task_id not in present)
    return passes
