"""Rows of the seeded requests: request, ticket, instance, human tasks and history, as the app
writes them when people walk a request to a stage (see plans.py for where they come from)."""

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.indicators import stages
from app.seeding.org import TITLES, TenantOrg
from app.seeding.plans import STAGES, Plan

REQUEST_COLUMNS = ("id", "tenant_id", "number", "title", "description", "category_id",
                   "priority", "location", "requester_id", "unit_id", "service_unit_id", "status",
                   "estimated_cost", "staff_available", "rating", "rating_comment", "created_at",
                   "updated_at", "closed_at", "estimated_hours", "committed_on",
                   *stages.COLUMNS)
TICKET_COLUMNS = ("id", "tenant_id", "number", "request_id", "service_unit_id", "worker_id",
                  "status", "planned_start", "planned_end", "actual_start", "actual_end",
                  "hours_spent", "materials_cost", "resolution", "hold_reason", "created_at",
                  "closed_at", "actual_cost")
INSTANCE_COLUMNS = ("id", "tenant_id", "definition_id", "request_id", "state", "version",
                    "status", "next_timer_at", "updated_at")
TASK_COLUMNS = ("id", "tenant_id", "instance_id", "request_id", "task_uuid", "spec_id", "name",
                "handlers", "lane", "role", "unit_id", "assigned_user_id", "claimed_by_id",
                "status", "created_at", "due_at", "completed_at", "completed_by_id")
EVENT_COLUMNS = ("id", "tenant_id", "request_id", "ticket_id", "actor_id", "action", "step",
                 "from_status", "to_status", "comment", "changes", "created_at")

TABLES = [("service_requests", REQUEST_COLUMNS), ("tickets", TICKET_COLUMNS),
          ("process_instances", INSTANCE_COLUMNS), ("human_tasks", TASK_COLUMNS),
          ("history_events", EVENT_COLUMNS)]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CLOSED_AGE = (30 * DAY, 730 * DAY)  # closed requests were filed 1 month to 2 years ago
OPEN_AGE = {"at_authorize": (HOUR / 6, 46 * HOUR),  # the 48 h reminder is not due yet
            "at_confirm": (HOUR, 6 * DAY)}  # nor the 7-day automatic close
DEFAULT_OPEN_AGE = (HOUR, 20 * DAY)
GAP = (HOUR / 2, 36 * HOUR)  # between two steps of one request


@dataclass
class Ids:
    """The next free id of each table (ids are given explicitly, then sequences are moved)."""

    next: dict[str, int]

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class Counters:
    """Numbers handed out per (kind, year) in one tenant, for number_sequences afterwards."""

    last: dict[tuple[str, int], int] = field(default_factory=dict)

    def number(self, kind: str, year: int) -> str:
        value = self.last.get((kind, year), 0) + 1
        self.last[(kind, year)] = value
        return f"{kind}-{year}-{value:06d}"


def schedule(count: int, rng: random.Random, now: datetime) -> list[tuple[datetime, str]]:
    """(filing time, stage) of ``count`` requests, oldest first."""
    names = list(STAGES)
    weights = [STAGES[n][1] for n in names]
    stages = rng.choices(names, weights=weights, k=count)
    result = []
    for stage in stages:
        closed = stage.startswith(("completed", "rejected", "cancelled"))
        low, high = CLOSED_AGE if closed else OPEN_AGE.get(stage, DEFAULT_OPEN_AGE)
        age = low + (high - low) * rng.random()
        result.append((now - age, stage))
    result.sort()
    return result


def _times(start: datetime, moves: int, rng: random.Random, now: datetime) -> list[datetime]:
    """When each move happened: random gaps, squeezed so the last one is in the past."""
    gaps = [GAP[0] + (GAP[1] - GAP[0]) * rng.random() for _ in range(moves)]
    total = sum(gaps, timedelta())
    room = now - start - timedelta(seconds=30)
    if total > room:
        gaps = [g * (room / total) for g in gaps]
    times, at = [], start
    for gap in gaps:
        at += gap
        times.append(at)
    return times


def _dumps(value) -> str:
    return json.dumps(value)


class RowMaker:
    """Turns (filing time, stage) into the rows of one request, for one tenant."""

    def __init__(self, org: TenantOrg, plans: dict[str, Plan], ids: Ids, counters: Counters,
                 rng: random.Random, now: datetime):
        self.org, self.plans, self.ids, self.counters = org, plans, ids, counters
        self.rng, self.now = rng, now
        self.staff = list(org.staff.items())
        self.rows: dict[str, list[tuple]] = {name: [] for name, _ in TABLES}
        # JSON of history changes that are the same for every row of a plan
        self._static_changes: dict[tuple[str, int], str] = {}

    def _changes(self, plan: Plan, index: int, event, dynamic: dict) -> str:
        changes = event.changes
        ticket_status = None
        if isinstance(changes, tuple):
            changes, ticket_status = changes
        if isinstance(changes, str):
            value = dict(dynamic[changes])
        else:
            key = (plan.name, index)
            if ticket_status is None and key in self._static_changes:
                return self._static_changes[key]
            value = dict(changes)
        if ticket_status is not None:
            value["ticket_status"] = ticket_status
        text = _dumps(value)
        if not isinstance(event.changes, (str, tuple)):
            self._static_changes[(plan.name, index)] = text
        return text

    @staticmethod
    def _ticket_change(event, changes) -> list | None:
        if isinstance(event.changes, tuple):
            return event.changes[1]
        if isinstance(changes, dict):
            return changes.get("ticket_status")
        return None

    def _milestones(self, plan: Plan, filed_at: datetime, at) -> tuple:
        """What every step's fold leaves on the request (app.indicators.stages), replayed
        from the same history; the seeded companies have no business calendar: wall time."""
        history = [(e.from_status, e.to_status,
                    {"ticket_status": self._ticket_change(e, e.changes)}, at(e.move))
                   for e in plan.events]
        m = stages.replay(filed_at, history, None)
        return tuple(getattr(m, name) for name in stages.COLUMNS)

    def add(self, filed_at: datetime, stage: str) -> None:
        org, rng, plan = self.org, self.rng, self.plans[stage]
        requester_id, (unit_id, authorizing_id, head_id) = rng.choice(self.staff)
        category_id, category, priority, service_unit_id = rng.choice(org.categories)
        service = org.service_units[service_unit_id]
        worker_id = rng.choice(service.worker_ids)
        times = _times(filed_at, len(plan.moves), rng, self.now)

        def at(move: int) -> datetime:
            return filed_at if move < 0 else times[move]

        request_id = self.ids.take("service_requests")
        instance_id = self.ids.take("process_instances")
        number = self.counters.number("SOL", filed_at.year)
        actors = {"requester": requester_id, "unit_head": head_id,
                  "service_director": service.director_id, "worker": worker_id}
        scope = {"requester": (unit_id, requester_id), "unit_head": (authorizing_id, None),
                 "service_director": (service_unit_id, None),
                 "worker": (service_unit_id, worker_id if plan.has_ticket else None)}
        moves = [m if isinstance(m, str) else m[0] for m in plan.moves]
        ticket_id = ticket_number = None
        planned_start = planned_end = None
        dynamic = {"filed": {"category": category, "priority": priority}}
        if plan.has_ticket:
            assigned_at = at(moves.index("Task_Assign"))
            ticket_id = self.ids.take("tickets")
            ticket_number = self.counters.number("TKT", assigned_at.year)
            planned_start = (assigned_at + DAY).date()
            planned_end = planned_start + rng.randint(1, 5) * DAY
            dynamic["assignment"] = {"worker": org.names[worker_id],
                                     "planned_start": planned_start.isoformat(),
                                     "planned_end": planned_end.isoformat()}
            dynamic["ticket"] = {"ticket": ticket_number}
        last = at(len(moves) - 1)
        finished_at = at(moves.index("Task_Work", len(moves) - 2)) \
            if plan.auto_close_due and "Task_Work" in moves else None
        reminder_due = filed_at + 48 * HOUR
        auto_close_due = finished_at + 7 * DAY if finished_at else None
        confirmed = "Task_Confirm" in moves
        evaluated = "Task_Evaluate" in moves and plan.moves[moves.index("Task_Evaluate")][2].get(
            "decision") == "approve"
        # The budget date: the (UTC) day of the approving evaluation, as the history tells it
        # (app.viability.ledger reads an approval recorded without one that way)
        approvals = [i for i, m in enumerate(plan.moves) if not isinstance(m, str)
                     and m[0] == "Task_Evaluate" and m[2].get("decision") == "approve"]
        committed_on = at(approvals[-1]).astimezone(UTC).date() if evaluated else None

        self.rows["service_requests"].append((
            request_id, org.tenant_id, number, rng.choice(TITLES[category]),
            "Detalle de la solicitud, con lo que se necesita y dónde.", category_id, priority,
            f"Piso {rng.randint(1, 12)}", requester_id, unit_id, service_unit_id,
            plan.request_status, Decimal("150000.00") if evaluated else None,
            True if evaluated else None, 5 if confirmed else None,
            "Muy bien." if confirmed else None, filed_at, last,
            last if plan.closed else None, Decimal("8.00") if evaluated else None,
            committed_on, *self._milestones(plan, filed_at, at)))
        if plan.has_ticket:
            started = "Task_Start" in moves
            finished = plan.ticket_status in ("finished", "closed")
            self.rows["tickets"].append((
                ticket_id, org.tenant_id, ticket_number, request_id, service_unit_id, worker_id,
                plan.ticket_status, planned_start, planned_end,
                at(moves.index("Task_Start")) if started else None,
                finished_at or (last if finished else None),
                Decimal("2.00") if finished else None,
                Decimal("35000.00") if finished else None,
                "Trabajo terminado." if finished else None,
                "Falta un repuesto." if plan.ticket_status == "on_hold" else None,
                at(moves.index("Task_Assign")), last if plan.ticket_status == "closed" else None,
                Decimal("35000.00") if finished else None))  # no rate: the materials
        waiting = plan.waits_on_timer
        self.rows["process_instances"].append((
            instance_id, org.tenant_id, org.definition_id, request_id,
            plan.state_for(worker_id=worker_id, ticket_id=ticket_id or 0,
                           ticket_number=ticket_number or "", priority=priority,
                           planned_start=planned_start.isoformat() if planned_start else "",
                           planned_end=planned_end.isoformat() if planned_end else "",
                           reminder_due=reminder_due, auto_close_due=auto_close_due),
            1 + len(moves), plan.instance_status,
            reminder_due if waiting == "reminder" else
            auto_close_due if waiting == "auto_close" else None,
            last))
        for task in plan.tasks:
            unit, assigned = scope[task.role]
            done = task.closed_at is not None
            self.rows["human_tasks"].append((
                self.ids.take("human_tasks"), org.tenant_id, instance_id, request_id, task.uuid,
                task.spec_id, task.name, task.handlers, task.lane, task.role, unit, assigned,
                None, task.status, at(task.opened_at), None,
                at(task.closed_at) if done else None,
                actors[task.role] if task.status == "completed" else None))
        for index, event in enumerate(plan.events):
            self.rows["history_events"].append((
                self.ids.take("history_events"), org.tenant_id, request_id,
                ticket_id if event.with_ticket else None,
                actors[event.actor_role] if event.actor_role else None, event.action,
                event.step, event.from_status, event.to_status, event.comment,
                self._changes(plan, index, event, dynamic), at(event.move)))

    def take_rows(self) -> dict[str, list[tuple]]:
        rows, self.rows = self.rows, {name: [] for name, _ in TABLES}
        return rows
