"""What a request looks like at each stage of the default lifecycle, worked out once.

For every stage a seeded request can be at, one lifecycle is walked through the real engine
(``app.engine.runner.Instance``, the same calls ``app.services.workflow`` makes) with the task
data the handlers would give. The result is a :class:`Plan`: the instance JSON as the app saves
it, the human-task rows ``workflow._sync`` would write, the history events the services record,
and the statuses. Row values that differ per request (worker, ticket, priority, dates, timer due
times) are sentinels in the JSON, swapped for each row's own by :meth:`Plan.state_for`.
"""

from dataclasses import dataclass, field
from datetime import datetime

from app.engine.runner import Instance
from app.engine.specs import CompiledProcess
from app.engine.validation import lane_role

WORKER_SENTINEL = 2_000_000_001
TICKET_SENTINEL = 2_000_000_002
TICKET_NUMBER_SENTINEL = "TKT-SEED-000000"
PRIORITY_SENTINEL = "seedpriority"
PLANNED_START_SENTINEL = "1999-01-01"
PLANNED_END_SENTINEL = "1999-01-02"

# (spec id, handler, task data given to the engine, history comment, history changes)
# ``changes`` values that depend on the row are filled in by the writer: see rows.py.
AUTHORIZE = ("Task_Authorize", "authorize", {"decision": "authorize"}, None,
             {"decision": "authorize"})
REJECT_HEAD = ("Task_Authorize", "authorize", {"decision": "reject"},
               "No se justifica este gasto.", {"decision": "reject"})
APPROVE = ("Task_Evaluate", "evaluate",
           {"decision": "approve", "estimated_cost": 150000.0, "estimated_hours": 8.0,
            "staff_available": True, "over_budget": False, "earliest_start": None,
            "over_budget_approval": False}, None,
           {"decision": "approve", "estimated_cost": "150000.00", "estimated_hours": "8.00",
            "staff_available": True})
REJECT_DIRECTOR = ("Task_Evaluate", "evaluate",
                   {"decision": "reject", "estimated_cost": None, "estimated_hours": None,
                    "staff_available": None, "over_budget": False, "earliest_start": None,
                    "over_budget_approval": False},
                   "Fuera del presupuesto del trimestre.", {"decision": "reject"})
RETURN = ("Task_Evaluate", "evaluate",
          {"decision": "return", "estimated_cost": None, "estimated_hours": None,
           "staff_available": None, "over_budget": False, "earliest_start": None,
           "over_budget_approval": False},
          "Indique el lugar exacto, por favor.", {"decision": "return"})
ASSIGN = ("Task_Assign", "assign",
          {"assignment": {"worker_id": WORKER_SENTINEL, "helper_ids": [],
                          "planned_start": PLANNED_START_SENTINEL,
                          "planned_end": PLANNED_END_SENTINEL}},
          None, "assignment")
START = ("Task_Start", "start", {}, None, {})
HOLD = ("Task_Work", "hold", {"action": "hold"}, "Falta un repuesto.", {})
RESUME = ("Task_OnHold", "resume", {}, None, {})
FINISH = ("Task_Work", "finish", {"action": "finish"}, "Trabajo terminado.",
          {"hours_spent": "2.00", "materials_cost": "35000.00"})
CONFIRM = ("Task_Confirm", "confirm", {"rating": 5, "solved": True}, "Muy bien.", {"rating": 5})
CANCEL = "cancel"

TO_WORK = [AUTHORIZE, APPROVE, ASSIGN, START]

# stage name -> (moves, share of all requests). Most are closed; the open ones wait at each
# step of the diagram.
STAGES: dict[str, tuple[list, float]] = {
    "completed": ([*TO_WORK, FINISH, CONFIRM], 0.695),
    "completed_after_hold": ([*TO_WORK, HOLD, RESUME, FINISH, CONFIRM], 0.08),
    "rejected_by_head": ([REJECT_HEAD], 0.05),
    "rejected_by_director": ([AUTHORIZE, REJECT_DIRECTOR], 0.03),
    "cancelled": ([AUTHORIZE, CANCEL], 0.02),
    "at_authorize": ([], 0.03),
    "at_evaluate": ([AUTHORIZE], 0.02),
    "returned": ([AUTHORIZE, RETURN], 0.005),
    "at_assign": ([AUTHORIZE, APPROVE], 0.015),
    "at_start": ([*TO_WORK[:3]], 0.015),
    "at_work": (TO_WORK, 0.02),
    "on_hold": ([*TO_WORK, HOLD], 0.005),
    "at_confirm": ([*TO_WORK, FINISH], 0.015),
}


@dataclass
class TaskRow:
    """A human-task row: appears after move ``opened_at`` (-1: at filing), closed by move
    ``closed_at`` (None: still open) as ``status``."""

    uuid: str
    spec_id: str
    name: str
    handlers: str
    lane: str
    role: str
    opened_at: int
    closed_at: int | None = None
    status: str = "open"


@dataclass
class Event:
    """A history event written by move ``move`` (-1: filing)."""

    move: int
    action: str
    actor_role: str | None
    step: str | None
    from_status: str | None
    to_status: str | None
    comment: str | None
    changes: object
    with_ticket: bool


@dataclass
class Plan:
    name: str
    moves: list
    state: str = ""
    instance_status: str = "running"
    request_status: str = "pending_authorization"
    ticket_status: str | None = None
    closed: bool = False
    tasks: list[TaskRow] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    reminder_due: str | None = None  # the authorization reminder's ISO due time in ``state``
    auto_close_due: str | None = None  # the automatic close's ISO due time in ``state``
    waits_on_timer: str | None = None  # "reminder" or "auto_close": which one is pending

    @property
    def has_ticket(self) -> bool:
        return self.ticket_status is not None

    def state_for(self, *, worker_id: int, ticket_id: int, ticket_number: str, priority: str,
                  planned_start: str, planned_end: str, reminder_due: datetime | None,
                  auto_close_due: datetime | None) -> str:
        state = self.state.replace(f'"priority":"{PRIORITY_SENTINEL}"', f'"priority":"{priority}"')
        if self.has_ticket:
            state = (state.replace(f'"worker_id":{WORKER_SENTINEL}', f'"worker_id":{worker_id}')
                     .replace(f'"ticket_id":{TICKET_SENTINEL}', f'"ticket_id":{ticket_id}')
                     .replace(TICKET_NUMBER_SENTINEL, ticket_number)
                     .replace(PLANNED_START_SENTINEL, planned_start)
                     .replace(PLANNED_END_SENTINEL, planned_end))
        if self.reminder_due and reminder_due is not None:
            state = state.replace(self.reminder_due, reminder_due.isoformat())
        if self.auto_close_due and auto_close_due is not None:
            state = state.replace(self.auto_close_due, auto_close_due.isoformat())
        return state


class _Walk:
    """Tracks what the app would write while one lifecycle runs through the engine."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.status = "pending_authorization"
        self.ticket_status: str | None = None
        self.open: dict[str, TaskRow] = {}
        self.move = -1  # the move being walked (-1: filing)

    def operation(self, name: str, params: dict, data: dict):
        if name == "create_ticket":
            self.ticket_status = "pending"
            self.plan.events.append(Event(self.move, "ticket_created", "service_director",
                                          None, None, None, None, "ticket", True))
            return {"ticket_id": TICKET_SENTINEL, "number": TICKET_NUMBER_SENTINEL}
        if name == "set_status":
            if params.get("request_status"):
                self.status = params["request_status"]
                self.plan.closed = self.status in ("completed", "rejected", "cancelled")
            return {"request_status": self.status}
        if name == "close_request":
            self.status = "completed"
            self.plan.closed = True
            self.ticket_status = "closed" if self.ticket_status else None
            return {"confirmed": bool(params.get("confirmed"))}
        raise ValueError(f"the seeding walk does not expect operation {name}")

    def sync(self, instance: Instance, move: int) -> None:
        """What ``workflow._sync`` does: new rows for new ready tasks, statuses from the first."""
        ready = instance.ready_tasks()
        ready_ids = {t.uuid for t in ready}
        for uuid, row in list(self.open.items()):
            if uuid not in ready_ids:
                row.status, row.closed_at = "cancelled", move
                del self.open[uuid]
        for task in ready:
            if task.uuid not in self.open:
                row = TaskRow(task.uuid, task.spec_id, task.name, ",".join(task.handlers),
                              task.lane or "", lane_role(task.lane), opened_at=move)
                self.open[task.uuid] = row
                self.plan.tasks.append(row)
        for task in ready:
            if task.properties.get("request_status"):
                self.status = task.properties["request_status"]
            if task.properties.get("ticket_status") and self.ticket_status is not None:
                self.ticket_status = task.properties["ticket_status"]
            break


def build_plan(name: str, compiled: CompiledProcess) -> Plan:
    moves, _ = STAGES[name]
    plan = Plan(name, moves)
    walk = _Walk(plan)
    data = {"requester_is_head": False, "priority": PRIORITY_SENTINEL,
            "authorization_reminder_after": "PT48H", "auto_close_after": "P7D"}
    instance = Instance.start(compiled, data, walk.operation)
    walk.sync(instance, -1)
    plan.events.append(Event(-1, "filed", "requester", None, None, walk.status, None,
                             "filed", False))
    due = instance.next_timer_at()
    plan.reminder_due = due.isoformat() if due else None
    for index, move in enumerate(moves):
        walk.move = index
        from_status = walk.status
        if move == CANCEL:
            instance.cancel()
            walk.sync(instance, index)
            walk.status = "cancelled"
            plan.closed = True
            plan.events.append(Event(index, "cancelled", "requester", None, from_status,
                                     "cancelled", "Ya no se necesita.", {}, False))
            continue
        spec_id, handler, task_data, comment, changes = move
        row = next(r for r in walk.open.values() if r.spec_id == spec_id)
        from_ticket = walk.ticket_status
        event = Event(index, handler, row.role, row.name, from_status, None, comment, changes,
                      from_ticket is not None)
        plan.events.append(event)  # recorded before the engine step, as the app does
        instance.complete(row.uuid, task_data)
        row.status, row.closed_at = "completed", index
        del walk.open[row.uuid]
        walk.sync(instance, index)
        event.to_status = walk.status
        if walk.ticket_status != from_ticket:
            event.changes = (changes, [from_ticket, walk.ticket_status])
        if instance.next_timer_at() and spec_id == "Task_Work":
            plan.auto_close_due = instance.next_timer_at().isoformat()
    plan.state = instance.dump()
    plan.instance_status = "completed" if instance.is_completed else "running"
    plan.request_status = walk.status
    plan.ticket_status = walk.ticket_status
    if not instance.is_completed:
        waiting = {row.spec_id for row in walk.open.values()}
        if "Task_Authorize" in waiting:
            plan.waits_on_timer = "reminder"
        elif "Task_Confirm" in waiting:
            plan.waits_on_timer = "auto_close"
    return plan


def build_plans(compiled: CompiledProcess) -> dict[str, Plan]:
    return {name: build_plan(name, compiled) for name in STAGES}
