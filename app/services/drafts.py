"""Drafts: a process owner's unfinished diagram, one per tenant and process.

A draft only has to be a safe, well-formed BPMN file (it may still have problems the validation
would list); it is never run. Deploying it creates a version and removes the draft.
"""

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.engine.xml import load_bpmn_tree
from app.extensions import db
from app.models import ProcessDraft, User
from app.models.base import utcnow


def get_draft(tenant_id: int, process_key: str) -> ProcessDraft | None:
    return db.session.scalar(select(ProcessDraft).where(
        ProcessDraft.tenant_id == tenant_id, ProcessDraft.process_key == process_key))


def save_draft(tenant_id: int, process_key: str, xml: str, user: User | None) -> ProcessDraft:
    """Store (or replace) the draft; raises DiagramError if the file is not a safe BPMN file."""
    load_bpmn_tree(xml, max_bytes=current_app.config["MAX_DIAGRAM_BYTES"])
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
