"""The whole record of one request (a security incident, above all) as one report: what was
reported, its severity, every step with who did it and when, each step's checklist with who
ticked each item and when, the comments, the files and the timings.

Built for one viewer: only someone who may see the request gets one (the views answer 404
otherwise), internal notes and internal files only for those who read internal comments
(``policy.can_see_internal``), budget figures of the history only for those who see the
request's viability (``policy.hidden_history_fields``). Reads only: its tasks, items,
history and files one query each, and the people named once each.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import policy
from app.attachments import service as attachments
from app.checklists import tasks as checklist_tasks
from app.checklists.alerts import SEVERITIES
from app.checklists.models import TaskChecklistItem
from app.extensions import db
from app.models import HistoryEvent, HumanTask, ServiceRequest, User
from app.models.base import utcnow
from app.services import history

MAX_STEPS = 500  # a request that looped this often is cut here (said on the report)


@dataclass
class Step:
    task: HumanTask
    items: list[TaskChecklistItem] = field(default_factory=list)
    answers: list = field(default_factory=list)  # what its completion recorded (visible ones)

    @property
    def seconds(self) -> int | None:
        end = self.task.completed_at
        return int((end - self.task.created_at).total_seconds()) if end else None

    @property
    def progress(self) -> checklist_tasks.Progress:
        return checklist_tasks.progress(self.items)


@dataclass
class Report:
    request: ServiceRequest
    viewer: User
    severity: str | None
    steps: list[Step]
    events: list[HistoryEvent]
    comments: list[HistoryEvent]
    alerts: list[HistoryEvent]
    files: list
    hidden: frozenset
    generated_at: datetime
    cut: bool = False

    @property
    def total_seconds(self) -> int | None:
        end = self.request.closed_at
        return int((end - self.request.created_at).total_seconds()) if end else None


def _tasks(req: ServiceRequest) -> list[HumanTask]:
    return list(db.session.scalars(
        select(HumanTask)
        .where(HumanTask.tenant_id == req.tenant_id, HumanTask.request_id == req.id)
        .options(joinedload(HumanTask.completed_by), joinedload(HumanTask.claimed_by))
        .order_by(HumanTask.id).limit(MAX_STEPS + 1)))


def _items(req: ServiceRequest) -> dict[int, list[TaskChecklistItem]]:
    found: dict[int, list[TaskChecklistItem]] = {}
    for item in db.session.scalars(
            select(TaskChecklistItem)
            .where(TaskChecklistItem.tenant_id == req.tenant_id,
                   TaskChecklistItem.request_id == req.id)
            .options(joinedload(TaskChecklistItem.ticked_by))
            .order_by(TaskChecklistItem.task_id, TaskChecklistItem.position)):
        found.setdefault(item.task_id, []).append(item)
    return found


def _severity(events: list[HistoryEvent]) -> str | None:
    """The severity the triage set last (its form's answer, or the alert it caused)."""
    found = None
    for event in events:
        changes = event.changes or {}
        values = [changes.get("severity")] + [
            a.get("value") for a in changes.get("form") or []
            if isinstance(a, dict) and a.get("name") == "severity"]
        for value in values:
            if value in SEVERITIES:
                found = value
    return found


def _listed(changes: dict, hidden: frozenset) -> list[dict]:
    """A completion's answers as a list of {name, label, value, text}: a diagram form's as it
    recorded them (with their labels), a product form's by field name."""
    if isinstance(changes.get("form"), list):
        return [{"name": a.get("name"), "label": a.get("label"), "value": a.get("value"),
                 "text": a.get("text")} for a in changes["form"] if isinstance(a, dict)]
    return [{"name": k, "label": None, "value": v, "text": None}
            for k, v in changes.items() if k not in hidden]


def _answers(tasks: list[HumanTask], events: list[HistoryEvent],
             hidden: frozenset) -> dict[int, list]:
    """What each completed step recorded (its form's answers), without hidden fields: the
    n-th completion entry of a step's name goes with the n-th completed task of that name
    (a step done twice, after a loop, has two)."""
    entries: dict[str, list[HistoryEvent]] = {}
    for event in events:
        if event.step:
            entries.setdefault(event.step, []).append(event)
    answers = {}
    for task in tasks:
        if task.status != "completed":
            continue
        queue = entries.get(task.name, [])
        while queue and queue[0].action not in task.handler_list:
            queue.pop(0)
        if queue:
            event = queue.pop(0)
            answers[task.id] = _listed(event.changes or {}, hidden)
    return answers


def build(viewer: User, req: ServiceRequest) -> Report | None:
    """The report of ``req`` for ``viewer``; None if they may not see the request."""
    if not policy.can_view_request(viewer, req):
        return None
    hidden = policy.hidden_history_fields(viewer, req)
    events = history.events_of(req, viewer)  # internal entries only for who may read them
    tasks = _tasks(req)
    cut = len(tasks) > MAX_STEPS
    items = _items(req)
    tasks = tasks[:MAX_STEPS]
    answers = _answers(tasks, events, hidden)
    steps = [Step(t, items.get(t.id, []), answers.get(t.id, [])) for t in tasks]
    return Report(
        request=req, viewer=viewer, severity=_severity(events), steps=steps, events=events,
        comments=[e for e in events if e.comment],
        alerts=[e for e in events if e.action == "severity_alert"],
        files=attachments.visible(viewer, req), hidden=hidden, generated_at=utcnow(), cut=cut)


def as_json(report: Report) -> dict:
    """The report as the API gives it."""
    req = report.request

    def person(user):
        return {"id": user.id, "name": user.name} if user is not None else None

    def when(value):
        return value.isoformat() if value is not None else None

    return {
        "request": {"id": req.id, "number": req.number, "title": req.title,
                    "description": req.description, "status": req.status,
                    "kind": getattr(req, "kind", None), "priority": req.priority,
                    "requester": person(req.requester), "filed_at": when(req.created_at),
                    "closed_at": when(req.closed_at)},
        "severity": report.severity,
        "total_seconds": report.total_seconds,
        "steps": [{
            "task_id": s.task.id, "step": s.task.name, "spec_id": s.task.spec_id,
            "status": s.task.status, "opened_at": when(s.task.created_at),
            "completed_at": when(s.task.completed_at), "completed_by": person(
                s.task.completed_by), "seconds": s.seconds, "answers": s.answers,
            "checklist": [{"position": i.position, "text": i.text,
                           "ticked": i.ticked_at is not None, "ticked_at": when(i.ticked_at),
                           "ticked_by": person(i.ticked_by)} for i in s.items],
        } for s in report.steps],
        "steps_cut": report.cut,
        "alerts": [{"at": when(e.created_at), **{k: v for k, v in (e.changes or {}).items()
                                                 if k in ("severity", "recipients")}}
                   for e in report.alerts],
        "history": [{"at": when(e.created_at), "action": e.action, "step": e.step,
                     "actor": person(e.actor), "internal": e.internal,
                     "changes": {k: v for k, v in (e.changes or {}).items()
                                 if k not in report.hidden}} for e in report.events],
        "comments": [{"at": when(e.created_at), "actor": person(e.actor),
                      "internal": e.internal, "comment": e.comment} for e in report.comments],
        "attachments": [{"id": a.id, "filename": a.filename, "size": a.size,
                         "content_type": a.content_type, "internal": a.internal,
                         "uploaded_at": when(a.created_at), "uploader": person(a.uploader)}
                        for a in report.files],
        "generated_at": when(report.generated_at),
    }
