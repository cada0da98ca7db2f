"""A task's checklist: the items it started with, the ticks, and the rule that a task whose
step carries a checklist is completed only once every item is ticked.

- ``open_for``: when the engine opens a task whose step has the property ``checklist``
  (``services.workflow._sync``), the company's items for (process, checklist) are copied to
  the task. Editing the checklist later changes the tasks opened after, never an open one: the
  responder is not asked for a step they did not see, nor does a step they ticked vanish.
- ``tick``: one item ticked or unticked, by someone who may complete the task, recorded in the
  request's history (who, when, which item); serialized with the completion by the instance's
  row lock, so a completion never sees a tick half-made.
- ``require_ticked``: the one check on the completion path (``services.workflow.complete``), so
  the page and the API obey it alike. No query for a task whose step has no checklist.
"""

from dataclasses import dataclass

from flask_babel import ngettext
from marshmallow import ValidationError
from sqlalchemy import select

from app import policy
from app.checklists import service
from app.checklists.models import TaskChecklistItem
from app.extensions import db
from app.models import HumanTask, ProcessInstance, ServiceRequest, User
from app.models.base import utcnow
from app.services import history

PROPERTY = "checklist"


class TickRefused(Exception):
    """Not the caller's to tick (403), or the task is no longer open (409)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def checklist_key(compiled, spec_id: str) -> str | None:
    """The ``checklist`` property of the step ``spec_id`` in a compiled process (read from
    the cached spec: no query)."""
    spec = compiled.spec.task_specs.get(spec_id)
    if spec is None:
        for sub in (compiled.subprocess_specs or {}).values():
            spec = sub.task_specs.get(spec_id)
            if spec is not None:
                break
    properties = (getattr(spec, "extensions", None) or {}).get("properties") or {}
    key = properties.get(PROPERTY)
    return key.strip() if isinstance(key, str) and key.strip() else None


def open_for(task: HumanTask, req: ServiceRequest, process_key: str, key: str) -> int:
    """Copy the company's items of (``process_key``, ``key``) to the task just opened; the
    number copied (0 when the company has no such checklist: nothing to tick)."""
    items = service.items_of(req.tenant_id, process_key, key)
    for position, text in enumerate(items[: service.MAX_ITEMS], 1):
        db.session.add(TaskChecklistItem(
            tenant_id=req.tenant_id, task=task, request_id=req.id, checklist_key=key,
            position=position, text=text[:500]))
    return len(items)


def items(task: HumanTask) -> list[TaskChecklistItem]:
    return list(db.session.scalars(
        select(TaskChecklistItem)
        .where(TaskChecklistItem.tenant_id == task.tenant_id,
               TaskChecklistItem.task_id == task.id)
        .order_by(TaskChecklistItem.position)))


def can_tick(user: User, task: HumanTask) -> bool:
    """Whoever may complete the task ticks its items (not someone else who took it)."""
    return (task.status == "open" and task.claimed_by_id in (None, user.id)
            and policy.can_complete_task(user, task))


@dataclass
class Progress:
    ticked: int
    total: int

    @property
    def done(self) -> bool:
        return self.ticked == self.total


def progress(rows: list[TaskChecklistItem]) -> Progress:
    return Progress(sum(1 for r in rows if r.ticked_at is not None), len(rows))


def _lock(task: HumanTask) -> None:
    """The task's instance row, locked as a completion locks it; the task read afresh."""
    db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.id == task.instance_id, ProcessInstance.tenant_id == task.tenant_id)
        .with_for_update())
    db.session.refresh(task)


def tick(user: User, task: HumanTask, position: int, ticked: bool) -> TaskChecklistItem | None:
    """Tick (or untick) item ``position`` of the task; None if it has no such item. Raises
    TickRefused. Ticking a ticked item (or unticking an unticked one) changes nothing."""
    if not 1 <= position <= service.MAX_ITEMS:  # no such item (and no number too big to bind)
        return None
    _lock(task)
    if task.status != "open":
        raise TickRefused(409)
    if not can_tick(user, task):
        raise TickRefused(403)
    item = db.session.scalar(select(TaskChecklistItem).where(
        TaskChecklistItem.tenant_id == task.tenant_id, TaskChecklistItem.task_id == task.id,
        TaskChecklistItem.position == position))
    if item is None or (item.ticked_at is not None) == ticked:
        return item
    item.ticked_at = utcnow() if ticked else None
    item.ticked_by_id = user.id if ticked else None
    history.record(task.request, "checklist_ticked" if ticked else "checklist_unticked", user,
                   step=task.name, changes={"item": item.text, "position": position,
                                            "checklist": item.checklist_key})
    db.session.flush()
    return item


def require_ticked(task: HumanTask, compiled) -> None:
    """Refuse (ValidationError: a 422 on the page and in the API, nothing changed) the
    completion of a task whose checklist has an unticked item."""
    if checklist_key(compiled, task.spec_id) is None:
        return
    rows = items(task)
    done = progress(rows)
    if not done.done:
        raise ValidationError({"_schema": [ngettext(
            "Tick every item of the checklist before completing this step "
            "(%(num)s of %(total)s ticked).",
            "Tick every item of the checklist before completing this step "
            "(%(num)s of %(total)s ticked).", done.ticked, total=done.total)]})
