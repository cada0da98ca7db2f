"""Drafts: a process owner's unfinished diagram, one per tenant and process.

A draft only has to be a safe, well-formed BPMN file (it may still have problems the validation
would list) whose process names no unknown kind of work (a kind is chosen from a list, so an
unknown one is a mistake to say at once, not at deploy); it is never run. Deploying it creates a
version and removes the draft.
"""

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.engine.xml import DiagramError, load_bpmn_tree
from app.extensions import db
from app.kinds import diagram as kinds_diagram
from app.models import ProcessDraft, User
from app.models.base import utcnow


def get_draft(tenant_id: int, process_key: str) -> ProcessDraft | None:
    return db.session.scalar(select(ProcessDraft).where(
        ProcessDraft.tenant_id == tenant_id, ProcessDraft.process_key == process_key))


def save_draft(tenant_id: int, process_key: str, xml: str, user: User | None) -> ProcessDraft:
    """Store (or replace) the draft; raises DiagramError if the file is not a safe BPMN file or
    names a kind of work that is not one."""
    problems = kinds_diagram.check(load_bpmn_tree(xml,
                                                  max_bytes=current_app.config["MAX_DIAGRAM_BYTES"]))
    if problems:
        raise DiagramError(problems)
    values = {"bpmn_xml": xml, "updated_by_id": user.id if user is not None else None,
              "updated_at": utcnow()}
    draft = get_draft(tenant_id, process_key)
    if draft is None:
        try:
            with db.session.begin_nested():
                draft = ProcessDraft(tenant_id=tenant_id, process_key=process_key, **values)
                db.session.add(draft)
            return draft
        except IntegrityError:  # another owner created it a moment ago: last save wins
            draft = get_draft(tenant_id, process_key)
    for name, value in values.items():
        setattr(draft, name, value)
    db.session.flush()
    return draft


def discard_draft(tenant_id: int, process_key: str) -> bool:
    """Remove the draft; True if there was one."""
    result = db.session.execute(delete(ProcessDraft).where(
        ProcessDraft.tenant_id == tenant_id, ProcessDraft.process_key == process_key))
    return bool(result.rowcount)
