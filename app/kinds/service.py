"""A process's kind of work as its draft names it. The diagram is the one source of truth: the
process owner sets the kind in the modeler's properties panel (the process's properties), and it
applies once the draft is deployed, like every other change; no page writes it elsewhere."""

from app.kinds import diagram as kinds_diagram
from app.services import drafts


def draft_kind(tenant_id: int, process_key: str) -> str | None:
    """The kind the process's draft names (None: no draft)."""
    draft = drafts.get_draft(tenant_id, process_key)
    return None if draft is None else kinds_diagram.kind_of_xml(draft.bpmn_xml)
