"""Runs a workflow instance: start, complete a user task, fire timers, save and restore.

The script engine given to SpiffWorkflow evaluates expressions with the safe evaluator, refuses
scripts, and sends service tasks to the host's registered operations. What is saved is
compacted first (``app.engine.compact``), so a step costs the same after any number of loops.
"""

import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState

from app.engine import compact, passes, timers
from app.engine.expressions import ExpressionError, evaluate, parse_expression
from app.engine.forms import FORM_KIND, FormSpec
from app.engine.serializer import dump_instance, load_instance
from app.engine.specs import CompiledProcess

# operation(name, params, task_data) -> JSON-serializable result
Operation = Callable[[str, dict, dict], object]


class EngineError(Exception):
    """The diagram could not run a step (a bad expression, a script, a failing operation)."""


class TaskNotReady(Exception):
    """The task asked for is not waiting any more (completed or cancelled meanwhile)."""


class OperationRefused(Exception):
    """A host operation refused the step for a reason of the diagram or its data (e.g. a
    ticket created twice): a step failure (StepFailed), like a condition that raises."""


class HostFailure(Exception):
    """An operation failed for a reason of the host's own (its database went away, a bug): not
    the diagram's doing, so not an incident; ``advance`` raises the original exception."""


class StepFailed(EngineError):
    """An automatic step of the diagram failed (a condition that raises, a timer value out of
    bounds, a service operation's refusal...). Everything before it is done and the instance
    can be saved as it is: the failing element stays in ERROR (or waiting) and ``retry`` runs
    it again, e.g. after the instance moved to a version that fixes it."""

    def __init__(self, reason: str, element_id: str | None, element_name: str | None):
        super().__init__(reason)
        self.reason = reason
        self.element_id = element_id
        self.element_name = element_name or element_id


MAX_STEPS_PER_ADVANCE = 500  # automatic steps one advance may take; SpiffWorkflow itself
# gives up silently on an endless loop near 1000 and reports the workflow completed


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """The script environment itself is safe: parts of SpiffWorkflow call it directly
    (message correlations, ad-hoc subprocess conditions), bypassing the script engine."""

    def evaluate(self, expression, context, external_context=None):
        data = dict(context)
        if external_context:
            data.update(external_context)
        return evaluate(expression, data)

    def execute(self, script, context, external_context=None):
        raise ExpressionError("script", "scripts are not allowed in a diagram")

    def call_service(self, context, **kwargs):
        raise ExpressionError("service", "services are called through the host only")


MAX_INSTANCES = 100  # task instances a multi-instance activity may create


def _out_of_bounds(spec, expression, value) -> str | None:
    """Why the engine must not use ``value``, when ``expression`` is one whose value it walks
    or repeats: a timer (a duration walked month by month, a cycle) or a multi-instance
    cardinality (one task per unit)."""
    timer = getattr(spec, "event_definition", None)
    kind = timers.kind_of(timer)
    if kind is not None and expression == timer.expression:
        try:
            timers.check(kind, value)
        except timers.TimerValueError as exc:
            return f"timer: {exc}"
    if expression == getattr(spec, "cardinality", None) and not (
            isinstance(value, int) and not isinstance(value, bool)
            and 0 <= value <= MAX_INSTANCES):
        return (f"multi-instance: the number of instances must be a whole number from 0 to "
                f"{MAX_INSTANCES}, not {str(value)[:40]!r}")
    return None


class _OverBudget(Exception):
    """The automatic steps of one advance used up their CPU time (``budget``)."""


@dataclass
class Budget:
    """CPU seconds the automatic steps of one engine call (filing, a completion, a timer, a
    retry) may take, whatever the diagram: ordinary steps take milliseconds. Setting
    ``STEP_CPU_SECONDS``."""

    cpu_seconds: float = 2.0


budget = Budget()


class SafeScriptEngine(PythonScriptEngine):
    def __init__(self, operation: Operation):
        super().__init__(environment=SafeEnvironment())
        self._operation = operation
        self.deadline: float | None = None  # thread CPU time the current call may reach

    def check_budget(self) -> None:
        if self.deadline is not None and time.thread_time() > self.deadline:
            raise _OverBudget()

    def validate(self, expression):
        parse_expression(expression)

    def evaluate(self, task, expression, external_context=None):
        self.check_budget()
        data = dict(task.data)
        if external_context:
            data.update(external_context)
        try:
            value = evaluate(expression, data)
        except ExpressionError as exc:
            raise WorkflowTaskException(str(exc), task=task) from None
        problem = _out_of_bounds(task.task_spec, expression, value)
        if problem:
            raise WorkflowTaskException(problem, task=task)
        return value

    def execute(self, task, script, external_context=None):
        raise WorkflowTaskException("scripts are not allowed in a diagram", task=task)

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        params = {k: v["value"] for k, v in (operation_params or {}).items()}
        try:
            result = self._operation(operation_name, params, task.data)
        except OperationRefused:
            raise
        except Exception as exc:
            raise HostFailure(str(exc)) from exc
        return json.dumps(result)


class _Looping(Exception):
    pass


def _reason(exc: Exception) -> str:
    """The engine's message without its own decorations, for people."""
    text = exc.args[0] if exc.args else exc  # without SpiffWorkflow's notes
    return " ".join(str(text).split())[:500] or type(exc).__name__


def _erroring(workflow):
    return next(iter(workflow.get_tasks(state=TaskState.ERROR)), None)


def _failed(reason: str, task) -> StepFailed:
    spec = getattr(task, "task_spec", None)
    return StepFailed(reason, getattr(spec, "bpmn_id", None) or getattr(spec, "name", None),
                      getattr(spec, "bpmn_name", None))


@dataclass(frozen=True)
class ReadyTask:
    uuid: str
    spec_id: str
    name: str
    lane: str | None
    properties: dict
    form: FormSpec | None = None  # the form the diagram defines for this task, if any
    # An instance of a multi-instance step: its number (0, 1...) and its data (read only)
    loop_index: int | None = None
    data: dict | None = None

    @property
    def handlers(self) -> list[str]:
        """The kinds of completion the task offers: its ``handlers`` property, or ``form``
        for a task that only has a form defined in the diagram."""
        raw = self.properties.get("handlers") or ""
        names = [h.strip() for h in raw.split(",") if h.strip()]
        if not names and self.form is not None:
            return [FORM_KIND]
        return names


def _loop_index(task) -> int | None:
    """The number of an instance of a multi-instance step (None for any other task)."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, MultiInstanceTask):
        return None
    index = task.internal_data.get("key_or_index")
    return index if isinstance(index, int) else None


# The engine's timer events (a date's is "TimeDateEventDefinition": no "Timer" in its name)
TIMER_EVENTS = ("DurationTimerEventDefinition", "TimeDateEventDefinition",
                "CycleTimerEventDefinition")


class Instance:
    """One running workflow bound to its compiled process and the host's operations."""

    def __init__(self, compiled: CompiledProcess, workflow: BpmnWorkflow,
                 history: compact.History | None = None):
        self.compiled = compiled
        self.workflow = workflow
        self.history = history if history is not None else compact.History()
        self.seen = passes.Seen()  # the tasks as restored: what a step's passes start from

    @classmethod
    def create(cls, compiled: CompiledProcess, data: dict, operation: Operation) -> "Instance":
        """A new instance at its start, nothing run yet (``advance`` runs it)."""
        wf = BpmnWorkflow(compiled.spec, compiled.subprocess_specs,
                          script_engine=SafeScriptEngine(operation))
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return cls(compiled, wf)

    @classmethod
    def start(cls, compiled: CompiledProcess, data: dict, operation: Operation) -> "Instance":
        instance = cls.create(compiled, data, operation)
        instance.advance()
        return instance

    @classmethod
    def restore(cls, compiled: CompiledProcess, state: str, operation: Operation) -> "Instance":
        wf, history = load_instance(state, compiled.spec, compiled.subprocess_specs)
        wf.script_engine = SafeScriptEngine(operation)
        instance = cls(compiled, wf, history)
        if history is None:  # saved before compaction: it may hold a long history
            instance.prune()
        instance.seen = passes.seen(wf, instance.history)
        return instance

    def prune(self) -> int:
        """Drop the finished tasks the engine will not read again (kept in the history)."""
        return compact.prune(self.workflow, self.history)

    def step_passes(self, reopen: bool = False) -> list[passes.Pass]:
        """The passes at each element this step opened or closed (``app.engine.passes``):
        call it before ``dump``, which prunes the finished tasks."""
        return passes.since(self.workflow, self.history, self.seen, datetime.now(UTC),
                            reopen=reopen)

    def dump(self) -> str:
        """The state to save, compacted first."""
        self.prune()
        return dump_instance(self.workflow, self.history)

    @contextmanager
    def _budgeted(self):
        """The CPU budget of one engine call (nested calls share the outer one's)."""
        engine = self.workflow.script_engine
        if not isinstance(engine, SafeScriptEngine) or engine.deadline is not None:
            yield
            return
        engine.deadline = time.thread_time() + budget.cpu_seconds
        try:
            yield
        finally:
            engine.deadline = None

    def advance(self) -> None:
        """Run the automatic steps until the workflow waits for a person or a timer.

        Raises StepFailed naming the element that failed; what ran before it stays done."""
        steps = 0
        last = None
        engine = self.workflow.script_engine

        def count(task):
            nonlocal steps, last
            steps += 1
            last = task
            if steps > MAX_STEPS_PER_ADVANCE:
                raise _Looping()
            if isinstance(engine, SafeScriptEngine):
                engine.check_budget()

        try:
            with self._budgeted():
                self.workflow.do_engine_steps(did_complete_task=count)
        except HostFailure as exc:  # not the diagram's doing: the host's own error, as raised
            raise exc.__cause__ from None
        except _Looping:
            raise _failed("the diagram loops without waiting for anyone", last) from None
        except _OverBudget:
            raise _failed(f"the diagram's automatic steps took more than "
                          f"{budget.cpu_seconds:g} s of processing",
                          _erroring(self.workflow) or last) from None
        except WorkflowTaskException as exc:
            raise _failed(_reason(exc), exc.task) from exc
        except Exception as exc:  # the engine raises assorted types (e.g. a bad duration)
            raise _failed(_reason(exc), _erroring(self.workflow) or last) from exc


    def retry(self) -> None:
        """Run the failed steps again (each from the data it had), then go on."""
        with self._budgeted():
            for task in self.workflow.get_tasks(state=TaskState.ERROR):
                task.reset_branch(None)
            self.advance()

    def live_elements(self) -> set[str]:
        """Ids of the elements the instance is at: waiting, ready or failed."""
        return {t.task_spec.bpmn_id for t in self.workflow.get_tasks(
            state=TaskState.NOT_FINISHED_MASK | TaskState.ERROR) if t.task_spec.bpmn_id}

    def ready_tasks(self) -> list[ReadyTask]:
        tasks = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        ready = []
        for t in tasks:
            spec_id = t.task_spec.bpmn_id or t.task_spec.name
            ready.append(ReadyTask(
                uuid=str(t.id),
                spec_id=spec_id,
                name=t.task_spec.bpmn_name or t.task_spec.name,
                lane=t.task_spec.lane,
                properties=dict(t.task_spec.extensions.get("properties", {})),
                form=self.compiled.forms.get(spec_id),
                loop_index=_loop_index(t),
                data=t.data,
            ))
        return ready

    def ready_task(self, task_uuid: str) -> ReadyTask | None:
        return next((t for t in self.ready_tasks() if t.uuid == task_uuid), None)

    def loop_data(self, task_uuid: str) -> dict | None:
        """The data of the multi-instance step a task is an instance of, as its completed
        instances left it (each one's data is merged into it when it completes); None for any
        other task. Read only."""
        task = next((t for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
                     if str(t.id) == task_uuid), None)
        if task is None or _loop_index(task) is None:
            return None
        return task.parent.data

    def complete(self, task_uuid: str, data: dict) -> None:
        task = next((t for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
                     if str(t.id) == task_uuid), None)
        if task is None:
            raise TaskNotReady(task_uuid)
        task.set_data(**data)
        try:
            task.run()
        except Exception as exc:
            raise EngineError(str(exc)) from exc
        self.advance()

    def fire_due_timers(self) -> None:
        """Let timers whose time has come fire, and run what follows them."""
        with self._budgeted():
            self._fire_due_timers()

    def _fire_due_timers(self) -> None:
        for _ in range(2):  # a boundary event's path may need a second pass
            try:
                self.workflow.refresh_timers()
            except HostFailure as exc:
                raise exc.__cause__ from None
            except _OverBudget:
                raise _failed(f"the diagram's timers took more than {budget.cpu_seconds:g} s "
                              "of processing", _erroring(self.workflow)) from None
            except WorkflowTaskException as exc:
                raise _failed(_reason(exc), exc.task) from exc
            except Exception as exc:
                raise _failed(_reason(exc), _erroring(self.workflow)) from exc
            self.advance()

    def cancel(self) -> None:
        """Stop the workflow: every waiting task and timer is cancelled."""
        self.workflow.cancel()

    def next_timer_at(self) -> datetime | None:
        due = [
            datetime.fromisoformat(e.value)
            for e in self.workflow.waiting_events()
            if e.event_type in TIMER_EVENTS and e.value
        ]
        return min(due) if due else None

    @property
    def is_completed(self) -> bool:
        return self.workflow.is_completed()

    def data(self) -> dict:
        return dict(self.workflow.data)

    def trail(self) -> list[tuple[str, str | None, str, datetime]]:
        """Read-only: the diagram elements this instance has reached, in the order reached.

        Each entry is ``(element id, id of the element it came from or None, state, when)``;
        ``state`` is "completed", "waiting" (it is there now), "merged" (a branch that reached a
        join and went on as another branch's token) or "cancelled" (it was there when the
        workflow was cancelled or a boundary event interrupted it); ``when`` is the UTC time of
        that state. Tasks still in the tree give one entry per pass; passes compacted away give
        the first and the last of each kind (element, came from, state). Left out: what is only
        predicted, boundary events that never fired and the events an event-based gateway did
        not take.
        """
        return compact.trail(self.workflow, self.history)
