"""Comparing process versions and moving running instances between them.

SpiffWorkflow aligns task specs by BPMN id. Its rule for *whether* an instance may move is the
host's; ours: every task the instance waits at (ready user tasks, waiting events, a step that
failed) must still exist in the new version. Moving resets the waiting ones, so they are
created afresh (new task ids, timers restarted from the move); a failed step stays failed until
it is retried (``services.workflow.retry_incident``).
"""

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from app.engine.runner import EngineError, Instance
from app.engine.serializer import registry
from app.engine.specs import CompiledProcess

# Where an instance can be: waiting, or stopped at a step that failed (an incident).
WAITING = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def _label(spec) -> str:
    return spec.bpmn_name or spec.bpmn_id or spec.name


@dataclass
class VersionDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    renamed: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (old, new name)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def compare(old: CompiledProcess, new: CompiledProcess) -> VersionDiff:
    """What changed between two versions, by element, in words a process owner reads."""
    diff = SpecDiff(registry, old.spec, new.spec)
    changed = {s: set(changes) for s, changes in diff.changed.items() if s.bpmn_id}
    # Forms are our own extension elements, which SpiffWorkflow's comparison does not see.
    for spec, counterpart in diff.alignment.items():
        if (counterpart is not None and spec.bpmn_id
                and old.forms.get(spec.bpmn_id) != new.forms.get(counterpart.bpmn_id)):
            changed.setdefault(spec, set()).add("form")
    return VersionDiff(
        added=sorted(f"{s.bpmn_id}: {_label(s)}" for s in diff.added if s.bpmn_id),
        removed=sorted(f"{s.bpmn_id}: {_label(s)}" for s in diff.removed if s.bpmn_id),
        changed={f"{s.bpmn_id}: {_label(s)}": sorted(c) for s, c in changed.items()},
        renamed={s.bpmn_id: (_label(s), _label(diff.alignment[s]))
                 for s, c in changed.items() if "bpmn_name" in c and diff.alignment.get(s)},
    )


def blockers(instance: Instance, new: CompiledProcess) -> list[str]:
    """Why ``instance`` cannot move to ``new`` (empty: it can)."""
    if instance.workflow.subprocesses:
        return ["the instance runs subprocesses, which are not migrated"]
    top, _ = diff_workflow(registry, instance.workflow, new.spec, new.subprocess_specs)
    removed = {t.id for t in top.removed}
    return [
        f"it waits at '{_label(t.task_spec)}', which the new version does not have"
        for t in instance.workflow.get_tasks(state=WAITING, skip_subprocesses=True)
        if t.id in removed and t.task_spec.bpmn_id
    ]


def migrate(instance: Instance, new: CompiledProcess) -> Instance:
    """Move ``instance`` onto ``new`` and let the engine take it to its waiting points again."""
    problems = blockers(instance, new)
    if problems:
        raise EngineError("; ".join(problems))
    top, _ = diff_workflow(registry, instance.workflow, new.spec, new.subprocess_specs)
    try:
        migrate_workflow(top, instance.workflow, new.spec)
        instance.workflow.subprocess_specs = new.subprocess_specs
    except Exception as exc:
        raise EngineError(f"the engine could not move the instance: {exc}") from exc
    moved = Instance(new, instance.workflow, instance.history)
    moved.seen = instance.seen  # the step's passes count from the instance as restored
    moved.advance()
    return moved
