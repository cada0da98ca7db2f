"""Helpers for the tests of long-running instances: a driver that saves and restores around
every step (so pruning happens between steps, as in the app), small diagrams with loops,
parallel and inclusive gateways, subprocesses and boundary timers, and a summary of a trail."""

from app.engine.runner import Instance

DEFAULT_START = {"authorization_reminder_after": "PT48H", "auto_close_after": "P7D",
                 "priority": "normal", "requester_is_head": False,
                 "over_budget": False, "over_budget_approval": False}
ASSIGNMENT = {"assignment": {"worker_id": 1, "helper_ids": [], "planned_start": "2026-01-01",
                             "planned_end": "2026-01-02"}}
TO_WORK = [("Task_Authorize", {"decision": "authorize"}),
           ("Task_Evaluate", {"decision": "approve", "estimated_cost": 100.0}),
           ("Task_Assign", ASSIGNMENT),
           ("Task_Start", {})]


class Saved:
    """One instance driven like the host drives it: restored from its JSON for every step and
    saved after it. ``memory`` is the same walk kept in memory and never saved, i.e. never
    pruned: the stock engine's behaviour to compare with."""

    def __init__(self, compiled, data=None, with_memory=False):
        self.compiled = compiled
        self.calls = []
        self.state = Instance.start(compiled, dict(data or {}), self._operation).dump()
        self.memory = Instance.start(compiled, dict(data or {}), lambda *a: {"ok": True}) \
            if with_memory else None

    def _operation(self, name, params, data):
        self.calls.append(name)
        return {"ok": True}

    def load(self) -> Instance:
        return Instance.restore(self.compiled, self.state, self._operation)

    def waiting(self) -> list[str]:
        return sorted(t.spec_id for t in self.load().ready_tasks())

    def do(self, spec_id: str, **data) -> None:
        instance = self.load()
        (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
        instance.complete(task.uuid, data)
        self.state = instance.dump()
        if self.memory is not None:
            (task,) = [t for t in self.memory.ready_tasks() if t.spec_id == spec_id]
            self.memory.complete(task.uuid, data)

    def fire_timers(self) -> None:
        instance = self.load()
        instance.fire_due_timers()
        self.state = instance.dump()
        if self.memory is not None:
            self.memory.fire_due_timers()

    @property
    def tasks(self) -> int:
        """Tasks in the saved tree, subprocesses included."""
        instance = self.load()
        return len(instance.workflow.tasks) + sum(
            len(sub.tasks) for sub in instance.workflow.subprocesses.values())

    @property
    def completed(self) -> bool:
        return self.load().is_completed


def summary(entries) -> tuple:
    """What the live diagram draws from a trail (see ``app.services.trail``): the elements in
    the order first completed, the (from, to) pairs in the order first taken, and the state
    each element was last in."""
    completed, pairs, last = {}, {}, {}
    for element, came_from, state, _ in entries:
        if state == "completed":
            completed.setdefault(element, None)
        if came_from is not None:
            pairs.setdefault((came_from, element), None)
        last[element] = state
    return list(completed), list(pairs), last


# -- diagrams --------------------------------------------------------------------------------

def user_task(task_id: str, extra: str = "") -> str:
    return (f'<bpmn:userTask id="{task_id}" name="{task_id}"><bpmn:extensionElements>'
            '<spiffworkflow:properties><spiffworkflow:property name="handlers" value="start"/>'
            f'</spiffworkflow:properties></bpmn:extensionElements>{extra}</bpmn:userTask>')


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow>')


def diagram(body: str, lane_refs: list[str]) -> str:
    """A one-process diagram; ``lane_refs`` are the user tasks, all in the Worker lane."""
    refs = "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in lane_refs)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_Loops" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="loops" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_Worker" name="Worker">{refs}</bpmn:lane>
    </bpmn:laneSet>
    {body}
  </bpmn:process>
</bpmn:definitions>
"""


AGAIN = "action == 'again'"
DONE = "action != 'again'"

# Begin -> M -> split -> A, B -> join -> X -> (again: M | done: Finish)
PARALLEL_LOOP = diagram("".join([
    '<bpmn:startEvent id="Begin"/>',
    '<bpmn:exclusiveGateway id="M"/>',
    '<bpmn:parallelGateway id="Split"/>',
    user_task("A"), user_task("B"),
    '<bpmn:parallelGateway id="Join"/>',
    user_task("X"),
    '<bpmn:exclusiveGateway id="G"/>',
    '<bpmn:endEvent id="Finish"/>',
    flow("F1", "Begin", "M"), flow("F2", "M", "Split"), flow("F3", "Split", "A"),
    flow("F4", "Split", "B"), flow("F5", "A", "Join"), flow("F6", "B", "Join"),
    flow("F7", "Join", "X"), flow("F8", "X", "G"), flow("F9", "G", "M", AGAIN),
    flow("F10", "G", "Finish", DONE),
]), ["A", "B", "X"])

# Begin -> S1 -> A -> J; S1 -> S2 -> B, C -> J (one join with three inputs) -> D -> Finish
NESTED_SPLITS = diagram("".join([
    '<bpmn:startEvent id="Begin"/>',
    '<bpmn:parallelGateway id="S1"/>', '<bpmn:parallelGateway id="S2"/>',
    user_task("A"), user_task("B"), user_task("C"),
    '<bpmn:parallelGateway id="J"/>',
    user_task("D"),
    '<bpmn:endEvent id="Finish"/>',
    flow("F1", "Begin", "S1"), flow("F2", "S1", "A"), flow("F3", "S1", "S2"),
    flow("F4", "S2", "B"), flow("F5", "S2", "C"), flow("F6", "A", "J"), flow("F7", "B", "J"),
    flow("F8", "C", "J"), flow("F9", "J", "D"), flow("F10", "D", "Finish"),
]), ["A", "B", "C", "D"])

# Begin -> split -> A -> join; split -> W (looping on itself) -> join; join -> D -> Finish
LOOP_IN_A_BRANCH = diagram("".join([
    '<bpmn:startEvent id="Begin"/>',
    '<bpmn:parallelGateway id="Split"/>',
    user_task("A"),
    '<bpmn:exclusiveGateway id="M"/>', user_task("W"), '<bpmn:exclusiveGateway id="G"/>',
    '<bpmn:parallelGateway id="Join"/>',
    user_task("D"),
    '<bpmn:endEvent id="Finish"/>',
    flow("F1", "Begin", "Split"), flow("F2", "Split", "A"), flow("F3", "Split", "M"),
    flow("F4", "M", "W"), flow("F5", "W", "G"), flow("F6", "G", "M", AGAIN),
    flow("F7", "G", "Join", DONE), flow("F8", "A", "Join"), flow("F9", "Join", "D"),
    flow("F10", "D", "Finish"),
]), ["A", "W", "D"])

# Begin -> inclusive split (both conditions true) -> A, B -> inclusive join -> D -> Finish
INCLUSIVE = diagram("".join([
    '<bpmn:startEvent id="Begin"/>',
    '<bpmn:inclusiveGateway id="Split"/>',
    user_task("A"), user_task("B"),
    '<bpmn:inclusiveGateway id="Join"/>',
    user_task("D"),
    '<bpmn:endEvent id="Finish"/>',
    flow("F1", "Begin", "Split"), flow("F2", "Split", "A", "True"),
    flow("F3", "Split", "B", "True"), flow("F4", "A", "Join"), flow("F5", "B", "Join"),
    flow("F6", "Join", "D"), flow("F7", "D", "Finish"),
]), ["A", "B", "D"])

_TIMER = ('<bpmn:timerEventDefinition id="{id}"><bpmn:timeDuration>"PT1H"</bpmn:timeDuration>'
          '</bpmn:timerEventDefinition>')

# Begin -> M -> W (non-interrupting 1 h timer -> Reminded) -> G (again: M | done: Finish)
TIMER_IN_LOOP = diagram("".join([
    '<bpmn:startEvent id="Begin"/>',
    '<bpmn:exclusiveGateway id="M"/>', user_task("W"), '<bpmn:exclusiveGateway id="G"/>',
    '<bpmn:boundaryEvent id="Timer" attachedToRef="W" cancelActivity="false">'
    + _TIMER.format(id="TimerDef") + '</bpmn:boundaryEvent>',
    '<bpmn:endEvent id="Reminded"/>',
    '<bpmn:endEvent id="Finish"/>',
    flow("F1", "Begin", "M"), flow("F2", "M", "W"), flow("F3", "W", "G"),
    flow("F4", "G", "M", AGAIN), flow("F5", "G", "Finish", DONE), flow("F6", "Timer", "Reminded"),
]), ["W"])

# Begin -> M -> Sub [SubStart -> SM -> Inner -> SG (again: SM | done: SubEnd)] -> X
#   -> G (again: M | done: Finish)
SUBPROCESS_LOOPS = diagram("".join([
    '<bpmn:startEvent id="Begin"/>',
    '<bpmn:exclusiveGateway id="M"/>',
    '<bpmn:subProcess id="Sub">',
    '<bpmn:startEvent id="SubStart"/>', '<bpmn:exclusiveGateway id="SM"/>', user_task("Inner"),
    '<bpmn:exclusiveGateway id="SG"/>', '<bpmn:endEvent id="SubEnd"/>',
    flow("S1", "SubStart", "SM"), flow("S2", "SM", "Inner"), flow("S3", "Inner", "SG"),
    flow("S4", "SG", "SM", AGAIN), flow("S5", "SG", "SubEnd", DONE),
    '</bpmn:subProcess>',
    user_task("X"),
    '<bpmn:exclusiveGateway id="G"/>',
    '<bpmn:endEvent id="Finish"/>',
    flow("F1", "Begin", "M"), flow("F2", "M", "Sub"), flow("F3", "Sub", "X"),
    flow("F4", "X", "G"), flow("F5", "G", "M", AGAIN), flow("F6", "G", "Finish", DONE),
]), ["Inner", "X"])
