"""After a fault: does every request's record agree with itself and with what its clients were
told? Read in the test process with the app's own models and engine."""

from collections import Counter, defaultdict

from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.handlers.base import OperationContext
from app.models import HistoryEvent, HumanTask, ProcessInstance, ServiceRequest
from app.services import workflow
from tests.faults.clients import KINDS


def audit(database_url: str, done: dict[int, list[str]]) -> list[str]:
    """Problems with the requests in ``done`` (request id -> the kinds of step its clients know
    were completed, in order): each known step completed exactly once, no other; its history
    entry, human-task row, the instance's version and engine state, the request's and ticket's
    statuses all in step. Requests at the same point of the path must look alike."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "SECRET_KEY": "faults", "EMBEDDED_TIMERS": False})
    problems: list[str] = []
    looks: dict[int, set] = defaultdict(set)
    with app.app_context():
        try:
            for request_id, kinds in done.items():
                problems += [f"request {request_id}: {p}"
                             for p in _audit_one(request_id, kinds, looks)]
        finally:
            db.session.remove()
            db.engine.dispose()
    for steps, seen in looks.items():
        if len(seen) > 1:
            problems.append(f"requests after {steps} steps differ: {sorted(seen, key=str)}")
    return problems


def _audit_one(request_id: int, kinds: list[str], looks: dict) -> list[str]:
    req = db.session.get(ServiceRequest, request_id)
    row = db.session.scalar(select(ProcessInstance)
                            .where(ProcessInstance.request_id == request_id))
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.request_id == request_id)
                               .order_by(HumanTask.id)).all()
    events = db.session.scalars(select(HistoryEvent).where(HistoryEvent.request_id == request_id)
                                .order_by(HistoryEvent.id)).all()
    completed = [t for t in tasks if t.status == "completed"]
    still_open = [t for t in tasks if t.status == "open"]
    actions = Counter(e.action for e in events)
    problems = []

    if [t.handler_list[0] for t in completed] != kinds:
        problems.append(f"completed tasks {[t.handler_list for t in completed]}, "
                        f"clients were told {kinds}")
    for kind in KINDS:
        if actions[kind] != (kind in kinds):
            problems.append(f"{actions[kind]} history entries '{kind}'")
    for task in completed:
        entries = [e for e in events if e.action == task.handler_list[0]]
        if [e.step for e in entries] != [task.name]:
            problems.append(f"task {task.id} ({task.name}) has entries {entries}")
    if row.version != 1 + len(kinds):
        problems.append(f"instance version {row.version} after {len(kinds)} steps")
    if (req.ticket is not None) != ("assign" in kinds) or \
            actions["ticket_created"] != ("assign" in kinds):
        problems.append(f"ticket {req.ticket}, {actions['ticket_created']} ticket_created")
    completions = [e for e in events if e.action in KINDS]
    if completions and completions[-1].to_status != req.status:
        problems.append(f"last step says {completions[-1].to_status}, request is {req.status}")

    instance = workflow.restore_instance(row, OperationContext(req, None))
    ready = {t.uuid for t in instance.ready_tasks()}
    if ready != {t.task_uuid for t in still_open}:
        problems.append(f"engine waits on {ready}, open rows {[t.task_uuid for t in still_open]}")
    reached = {element for element, _, state, _ in instance.trail() if state == "completed"}
    missing = [t.spec_id for t in completed if t.spec_id not in reached]
    if missing:
        problems.append(f"completions of {missing} with no completed step in the engine")
    if instance.is_completed != (row.status == "completed"):
        problems.append(f"instance status {row.status}, engine completed: "
                        f"{instance.is_completed}")

    looks[len(kinds)].add((req.status, req.ticket.status if req.ticket else None, row.status,
                           tuple(sorted(t.spec_id for t in still_open))))
    return problems
