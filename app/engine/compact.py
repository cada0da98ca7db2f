"""Keeps an instance's task tree small however long it runs, and its trail anyway.

SpiffWorkflow keeps every task it ever ran in the instance's task tree: each hold/resume loop
adds a handful, so the saved state, its loading and saving, and every scan the engine makes
grow with the history (and past about 250 loops the engine's own iterator, which stops at
depth 1000, no longer even sees the waiting task). :func:`prune` removes the finished tasks
nothing will read again, after folding each one into :class:`History`, the compact record the
live diagram's trail is drawn from.

Kept (everything else is finished, COMPLETED or CANCELLED, and goes):

1. the root and its children: the engine starts event and ad-hoc subprocess paths from them;
2. every task not finished, or in ERROR, with its parent (the task it takes its data from and,
   for a join, the input it arrived by) and its children (a multi-instance or loop task keeps
   its iterations as children);
3. while a join (parallel, inclusive...) waits or is ready, every task of that join with its
   parent: it counts the arrivals by their parents, including the ones it already cancelled.
   Once it has fired, those arrivals are consumed: nothing is pruned that a join has not
   merged yet. The end of the process is a join too, but one that counts no arrivals (it
   waits until nothing else runs): of the branches that ended before it, only the last is
   kept, carrying the data of the earlier ones, merged as the end would merge them;
4. for a kept boundary-event or start-event join that has not run: its ancestors up to its
   split and the split's children (it finds the split by ancestry and looks at its branches);
5. every kept join task's real parent, so that a join task's parent is always its input;
6. the workflow's last completed task (a finished subprocess hands its data on from it).

A kept task whose parent went is linked to its nearest kept ancestor: ancestry between kept
tasks, all the engine's rules compare, is unchanged. Facts about the parent it lost that the
trail needs (where it came from) are kept in :attr:`History.links`.

Passes folded into the history are counted by kind, ``(element, came from, state)``, keeping
the first and the last of each, so the history is bounded by the diagram, not by the loops.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.mixins import BoundaryEventMixin, EventBasedGatewayMixin
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

KEEP_STATES = TaskState.NOT_FINISHED_MASK | TaskState.ERROR
OPEN_JOIN = TaskState.WAITING | TaskState.READY | TaskState.STARTED


@dataclass
class History:
    """The trail of the tasks :func:`prune` removed, and facts about removed parents."""

    # (element id, came from, state) -> [first at, first order, last at, last order]
    passes: dict[tuple[str, str | None, str], list] = field(default_factory=dict)
    # kept task id -> (came from, parent was completed, parent was an event-based gateway)
    links: dict[str, tuple[str | None, bool, bool]] = field(default_factory=dict)
    order: int = 0  # positions handed out so far, so that the trail sorts ties as it ran

    def to_json(self) -> dict:
        return {
            "passes": [[*key, *value] for key, value in self.passes.items()],
            "links": {task_id: list(link) for task_id, link in self.links.items()},
            "order": self.order,
        }

    @classmethod
    def from_json(cls, dct: dict | None) -> "History":
        if not dct:
            return cls()
        return cls(
            passes={tuple(row[:3]): list(row[3:]) for row in dct.get("passes", [])},
            links={task_id: tuple(link) for task_id, link in dct.get("links", {}).items()},
            order=dct.get("order", 0),
        )

    def fold(self, entry: tuple[str, str | None, str], at: float, order: int) -> None:
        seen = self.passes.get(entry)
        if seen is None:
            self.passes[entry] = [at, order, at, order]
            return
        if (at, order) < (seen[0], seen[1]):
            seen[0], seen[1] = at, order
        if (at, order) > (seen[2], seen[3]):
            seen[2], seen[3] = at, order


# -- walking the tree ----------------------------------------------------------------------

def _subprocesses(workflow) -> dict:
    return workflow.top_workflow.subprocesses


def walk(workflow, with_subprocesses: bool = True):
    """Every task of ``workflow`` depth first, a subprocess's tasks before its task's children
    (the engine's own order), with no depth limit."""
    subprocesses = _subprocesses(workflow)
    stack = [workflow.task_tree]
    while stack:
        task = stack.pop()
        yield task
        following = list(task.children)
        sub = subprocesses.get(task.id) if with_subprocesses else None
        if sub is not None:
            following.insert(0, sub.task_tree)
        stack.extend(reversed(following))


# -- the trail -----------------------------------------------------------------------------

def _element(task) -> str | None:
    return task.task_spec.bpmn_id if task is not None else None


def _parent_facts(task, links) -> tuple[str | None, bool, bool]:
    """(came from, parent completed, parent is an event-based gateway) for ``task``."""
    link = links.get(str(task.id))
    if link is not None:
        return link
    parent = task.parent
    if parent is None:
        return None, False, False
    completed = parent.state == TaskState.COMPLETED
    racing = isinstance(parent.task_spec, EventBasedGatewayMixin)
    if _element(parent) is None:  # internal tasks (boundary splits, joins) are skipped
        return _parent_facts(parent, links)[0], completed, racing
    return (_element(parent) if completed else None), completed, racing


def entry(task, links) -> tuple[str, str | None, str] | None:
    """``(element, came from, state)`` of a task for the trail, or None if it has no place
    there (internal tasks, predictions, boundary events that never fired, events an
    event-based gateway did not take)."""
    element = _element(task)
    if element is None:
        return None
    came_from, parent_completed, racing = _parent_facts(task, links)
    lost_race = isinstance(task.task_spec, BoundaryEventMixin) or racing
    state = task.state
    if state == TaskState.COMPLETED:
        kind = "completed"
    elif state in (TaskState.READY, TaskState.STARTED, TaskState.ERROR):
        kind = "waiting"
    elif state == TaskState.WAITING and not lost_race:
        kind = "waiting"
    elif state == TaskState.CANCELLED and parent_completed and not lost_race:
        kind = "merged" if isinstance(task.task_spec, Join) else "cancelled"
    else:
        return None
    return element, came_from, kind


def trail(workflow, history: History) -> list[tuple[str, str | None, str, datetime]]:
    """The elements reached, oldest first: ``(element, came from, state, when)``.

    Tasks still in the tree give one entry per pass; passes folded into ``history`` give the
    first and the last of each kind. Either way the first time each element was completed,
    each flow was taken, and the state each element was last in are all there.
    """
    reached = []
    for (element, came_from, kind), (first_at, first, last_at, last) in history.passes.items():
        reached.append((first_at, first, (element, came_from, kind)))
        if (last_at, last) != (first_at, first):
            reached.append((last_at, last, (element, came_from, kind)))
    for position, task in enumerate(walk(workflow), start=history.order):
        found = entry(task, history.links)
        if found is not None:
            reached.append((task.last_state_change, position, found))
    reached.sort(key=lambda item: (item[0], item[1]))
    return [(*found, datetime.fromtimestamp(at, UTC)) for at, _, found in reached]


# -- pruning -------------------------------------------------------------------------------

def _end_arrivals(workflow, tasks) -> list:
    """Branches that ended while others run: cancelled arrivals at the process's end join,
    oldest first. The end join counts none of them (it waits until nothing is left to run);
    when the process ends it merges their data into the process's data, oldest first."""
    end = workflow.spec.end
    return sorted((t for t in tasks if t.task_spec is end and t.state == TaskState.CANCELLED
                   and t.parent is not None and t.parent.state == TaskState.COMPLETED),
                  key=lambda t: t.last_state_change)


def _carry_end_data(arrivals) -> None:
    """Hand the data of every ended branch but the last to the last one, merged as the end
    join would merge it, so that only the last (and its parent) needs keeping."""
    if len(arrivals) < 2:
        return
    carrier = arrivals[-1].parent
    merged: dict = {}
    for arrival in arrivals:
        DeepMerge.merge(merged, arrival.parent.data)
    carrier.data = merged


def _kept(workflow, tasks, end_arrivals) -> set:
    """Ids of the tasks of ``workflow`` (one task tree) that stay; see the module's docstring."""
    root = workflow.task_tree
    keep = {root.id, *root._children}
    if workflow.last_task is not None:
        keep.add(workflow.last_task.id)
    if end_arrivals:
        keep.update((end_arrivals[-1].id, end_arrivals[-1]._parent))
    open_joins = {t.task_spec for t in tasks
                  if isinstance(t.task_spec, Join) and t.has_state(OPEN_JOIN)}
    open_joins.discard(workflow.spec.end)
    for task in tasks:
        if task.has_state(KEEP_STATES):
            keep.add(task.id)
            keep.update(task._children)
            if task._parent is not None:
                keep.add(task._parent)
            if isinstance(task.task_spec, Join) and task.task_spec.split_task:
                split = task.find_ancestor(task.task_spec.split_task)
                ancestor = task.parent
                while split is not None and ancestor is not None and ancestor is not split:
                    keep.add(ancestor.id)
                    ancestor = ancestor.parent
                if split is not None:
                    keep.add(split.id)
                    keep.update(split._children)
        elif task.task_spec in open_joins:
            keep.add(task.id)
            if task._parent is not None:
                keep.add(task._parent)
    # A kept join task keeps its real parent, and so on up a run of joins.
    pending = [t for t in tasks if t.id in keep and isinstance(t.task_spec, Join)]
    while pending:
        task = pending.pop()
        parent = task.parent
        if parent is not None and parent.id not in keep:
            keep.add(parent.id)
            if isinstance(parent.task_spec, Join):
                pending.append(parent)
    return keep


def _fold_subprocess(top, task_id, history: History) -> None:
    """Fold a finished subprocess (and those it started) into ``history`` and drop it."""
    sub = top.subprocesses.get(task_id)
    if sub is None:
        return
    for task in walk(sub):
        found = entry(task, history.links)
        if found is not None:
            history.fold(found, task.last_state_change, history.order)
        history.order += 1
        history.links.pop(str(task.id), None)
        if task.id != task_id and task.id in top.subprocesses:
            top.subprocesses.pop(task.id, None)
    top.subprocesses.pop(task_id, None)


def _prune(workflow, history: History) -> int:
    """Prune one task tree; returns how many tasks went."""
    tasks = list(walk(workflow, with_subprocesses=False))
    end_arrivals = _end_arrivals(workflow, tasks)
    keep = _kept(workflow, tasks, end_arrivals)
    if len(keep) == len(workflow.tasks):
        return 0
    _carry_end_data(end_arrivals)
    top = workflow.top_workflow
    base = history.order
    new_parent: dict = {}
    new_children: dict = {task_id: [] for task_id in keep}
    ordered, removed = [], []
    # Depth first with the nearest kept ancestor of each task.
    stack = [(workflow.task_tree, None)]
    position = 0
    while stack:
        task, kept_above = stack.pop()
        if task.id in keep:
            ordered.append(task)
            if kept_above is not None:
                new_parent[task.id] = kept_above
                new_children[kept_above].append(task.id)
                if kept_above != task._parent and str(task.id) not in history.links:
                    history.links[str(task.id)] = _parent_facts(task, history.links)
            below = task.id
        else:
            removed.append((task, base + position))
            below = kept_above
        position += 1
        stack.extend((child, below) for child in reversed(task.children))
    history.order = base + position
    for task, order in removed:
        found = entry(task, history.links)
        if found is not None:
            history.fold(found, task.last_state_change, order)
    for task, _ in removed:
        if task.id in top.subprocesses:
            _fold_subprocess(top, task.id, history)
        history.links.pop(str(task.id), None)
        top.event_manager.remove_task(task)
    for task in ordered:
        task._parent = new_parent.get(task.id)
        task._children = new_children[task.id]
    workflow.tasks = {task.id: task for task in ordered}  # parents before children
    return len(removed)


def prune(workflow, history: History) -> int:
    """Remove what the engine will not read again from ``workflow`` and the subprocesses it
    runs, folding it into ``history``; returns how many tasks went."""
    removed = _prune(workflow, history)
    for task_id, sub in list(workflow.subprocesses.items()):
        if task_id in workflow.subprocesses and not sub.completed:
            removed += _prune(sub, history)
    return removed
