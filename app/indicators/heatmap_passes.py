"""Writes the passes an engine step opened or closed, in the step's transaction.

Called by every engine step of ``app.services.workflow`` (filing, a completion, timers, a
withdrawal, a move to another version, a retry) before the instance is saved: one statement,
an INSERT of every pass the step touched that, for a pass opened by an earlier step, rewrites
its end instead (``ON CONFLICT (request_id, task_uuid) DO UPDATE``). No statement at all when
the step touched no element.
"""

from sqlalchemy.dialects import postgresql, sqlite

from app.engine.runner import Instance
from app.extensions import db
from app.models import ElementPass, ServiceRequest


def _upsert(dialect: str):
    table = ElementPass.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.request_id, table.c.task_uuid],
        set_={"state": insert.excluded.state, "left_at": insert.excluded.left_at,
              "definition_id": insert.excluded.definition_id})


_STATEMENTS: dict[str, object] = {}


def record(req: ServiceRequest, definition_id: int, instance: Instance,
           moved_to: int | None = None) -> int:
    """Write the step's passes of ``req`` on version ``definition_id``; ``moved_to``: the step
    moved the request to that version (the passes it left open count for it from now on).
    Call it before the instance is saved (saving prunes what the step finished). Returns the
    number of passes written."""
    passes = instance.step_passes(reopen=moved_to is not None)
    if not passes:
        return 0
    rows = [{
        "tenant_id": req.tenant_id, "request_id": req.id,
        "definition_id": definition_id if moved_to is None or p.state == "moved" else moved_to,
        "task_uuid": p.task_id, "element_id": p.element_id[:255],
        "came_from": p.came_from[:255] if p.came_from else None, "state": p.state,
        "entered_at": p.entered_at, "left_at": p.left_at,
    } for p in passes]
    dialect = db.session.get_bind().dialect.name
    statement = _STATEMENTS.get(dialect)
    if statement is None:
        statement = _STATEMENTS[dialect] = _upsert(dialect)
    db.session.execute(statement, rows)
    return len(rows)
