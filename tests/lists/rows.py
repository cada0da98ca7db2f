"""Many list rows quickly: copies of a request filed (or walked) through the real services,
with its instance, open task and ticket, each copy with its own number, date, priority,
status and due time. Lists read only these rows, so hundreds of copies page like hundreds of
real requests without walking the engine hundreds of times."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, ServiceRequest, Ticket
from app.models.catalog import PRIORITIES
from app.models.request import REQUEST_STATUSES
from app.models.ticket import TICKET_STATUSES, ticket_helpers

BASE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _copy(obj, **changes):
    values = {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs
              if attr.key != "id"}
    values.update(changes)
    clone = type(obj)(**values)
    db.session.add(clone)
    return clone


def _varied(i: int, statuses) -> dict:
    """Values that make every order of a list meaningful: dates that repeat (every third
    copy shares its date with the one before: the tie-break must decide), every priority and
    status, due times with gaps (none on every fifth)."""
    return {
        "created_at": BASE + timedelta(minutes=(i // 3) * 7 + (i % 3 == 2)),
        "priority": PRIORITIES[(i * 7) % len(PRIORITIES)],
        "status": statuses[(i * 5) % len(statuses)],
        "sla_due_at": None if i % 5 == 0 else BASE + timedelta(hours=(i * 37) % 90),
        "sla_state": None if i % 5 == 0 else "running",
    }


def copies(template: ServiceRequest, count: int, *, prefix: str, statuses=None,
           with_task=True, with_ticket=True, helpers=(), worker_id=None) -> list[int]:
    """``count`` copies of ``template`` (its instance, its open tasks and its ticket along,
    when asked), numbered ``{prefix}-000001``...; returns their ids. ``helpers``: user ids
    added as helpers of each copy's ticket; ``worker_id``: the copies' worker."""
    instance = db.session.scalar(select(ProcessInstance).filter_by(request_id=template.id))
    tasks = list(db.session.scalars(select(HumanTask).filter_by(request_id=template.id,
                                                                status="open")))
    ticket = db.session.scalar(select(Ticket).filter_by(request_id=template.id))
    ids = []
    for i in range(count):
        values = _varied(i, statuses or REQUEST_STATUSES)
        req = _copy(template, number=f"{prefix}-{i + 1:06d}", title=f"{prefix} copy {i + 1}",
                    **values)
        db.session.flush()
        ids.append(req.id)
        run = _copy(instance, request_id=req.id) if instance is not None else None
        db.session.flush()
        for task in tasks if with_task and run is not None else ():
            _copy(task, request_id=req.id, instance_id=run.id,
                  created_at=values["created_at"] - timedelta(minutes=i % 4))
        if with_ticket and ticket is not None:
            copy = _copy(ticket, request_id=req.id, number=f"T{prefix}-{i + 1:06d}",
                         status=TICKET_STATUSES[(i * 5) % len(TICKET_STATUSES)],
                         planned_end=ticket.planned_end + timedelta(days=(i * 3) % 11),
                         **({"worker_id": worker_id} if worker_id else {}))
            db.session.flush()
            for user_id in helpers:
                db.session.execute(ticket_helpers.insert().values(ticket_id=copy.id,
                                                                   user_id=user_id))
    db.session.commit()
    return ids
