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
from app.models.base import utcnow


def _upsert(dialect: str, moving: bool = False):
    """INSERT, or for a pass an earlier step opened, rewrite how it ended (and, when a move
    carries it to another version, where and when it began there)."""
    table = ElementPass.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    columns = ("state", "left_at", "definition_id") + (
        ("entered_at", "came_from") if moving else ())
    return insert.on_conflict_do_update(
        index_elements=[table.c.request_id, table.c.task_uuid],
        set_={name: getattr(insert.excluded, name) for name in columns})


_STATEMENTS: dict[tuple[str, bool], object] = {}


def left_behind_key(task_id: str, definition_id: int) -> str:
    """The key of the pass a move closes on the version it leaves (the task goes on, under
    its own key, on the new one): unique per task and version, within the column's 36."""
    return f"{task_id[:27]}~{definition_id}"[:36]


def _row(req: ServiceRequest, definition_id: int, p, **changes) -> dict:
    row = {"tenant_id": req.tenant_id, "request_id": req.id, "definition_id": definition_id,
           "task_uuid": p.task_id, "element_id": p.element_id[:255],
           "came_from": p.came_from[:255] if p.came_from else None, "state": p.state,
           "entered_at": p.entered_at, "left_at": p.left_at}
    row.update(changes)
    return row


def record(req: ServiceRequest, definition_id: int, instance: Instance,
           moved_to: int | None = None) -> int:
    """Write the step's passes of ``req`` on version ``definition_id``; ``moved_to``: the step
    moved the request to that version. A pass the move carries on (the engine kept its task)
    is cut short on the version it leaves, at the move, under a key of its own
    (``left_behind_key``), and begins afresh on the new one, from no element (the way it came
    in is the old version's). Call it before the instance is saved (saving prunes what the
    step finished). Returns the number of passes written."""
    passes = instance.step_passes(reopen=moved_to is not None)
    if not passes:
        return 0
    if moved_to is None:
        rows = [_row(req, definition_id, p) for p in passes]
    else:
        carried = {str(task_id) for task_id in instance.seen.open}
        now = utcnow()
        rows = []
        for p in passes:
            if p.state == "moved":
                rows.append(_row(req, definition_id, p))
            elif p.state == "waiting" and p.task_id in carried:
                rows.append(_row(req, definition_id, p, state="moved", left_at=now,
                                 task_uuid=left_behind_key(p.task_id, definition_id)))
                rows.append(_row(req, moved_to, p, entered_at=now, came_from=None))
            else:
                rows.append(_row(req, moved_to, p))
    dialect = db.session.get_bind().dialect.name
    key = (dialect, moved_to is not None)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _upsert(dialect, moving=moved_to is not None)
    db.session.execute(statement, rows)
    return len(rows)


# A company's user-task passes taken from its inbox rows: what migration 0013 gave the requests
# filed before passes were written, and what `flask seed-scale` gives the requests it generates
# (it runs no engine step per request). Flows and automatic elements are not known that way.
FROM_INBOX = """
    INSERT INTO element_passes (tenant_id, request_id, definition_id, task_uuid, element_id,
                                came_from, state, entered_at, left_at)
    SELECT h.tenant_id, h.request_id, i.definition_id, h.task_uuid, h.spec_id, NULL,
           CASE h.status WHEN 'open' THEN 'waiting' WHEN 'completed' THEN 'completed'
                ELSE 'cancelled' END,
           h.created_at, CASE WHEN h.status = 'open' THEN NULL ELSE h.completed_at END
    FROM human_tasks h JOIN process_instances i ON i.id = h.instance_id
    WHERE h.tenant_id = :tenant_id AND (h.status = 'open' OR h.completed_at IS NOT NULL)
"""


def passes_from_inbox(tenant_id: int) -> None:
    """Give a company's user tasks their passes from the inbox rows (see ``FROM_INBOX``).
    One statement in the caller's transaction."""
    from sqlalchemy import text

    db.session.execute(text(FROM_INBOX), {"tenant_id": tenant_id})

