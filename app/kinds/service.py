"""Setting a process's kind of work: written into its draft (the diagram is the one source of
truth), so that it applies once the process owner deploys it, like every other change."""

from app.engine.xml import DiagramError
from app.kinds import KINDS
from app.kinds import diagram as kinds_diagram
from app.models import ProcessDraft, User
from app.services import definitions, drafts, processes


class NoDiagram(LookupError):
    """The process has neither a draft nor a deployed version to start from."""


def draft_kind(tenant_id: int, process_key: str) -> str | None:
    """The kind the process's draft names (None: no draft)."""
    draft = drafts.get_draft(tenant_id, process_key)
    return None if draft is None else kinds_diagram.kind_of_xml(draft.bpmn_xml)


def set_draft_kind(tenant_id: int, process_key: str, kind: str, user: User) -> ProcessDraft:
    """Write ``kind`` into the process's draft (a draft made from the active version when there
    is none). Raises ValueError for a kind that is not one, NoDiagram, or DiagramError (a draft
    that is not a diagram). Only flushes."""
    if kind not in KINDS:
        raise ValueError(kind)
    draft = drafts.get_draft(tenant_id, process_key)
    if draft is not None:
        xml = draft.bpmn_xml
    elif process_key in processes.deployed_keys(tenant_id):
        xml = definitions.active_definition(tenant_id, process_key).bpmn_xml
    else:
        raise NoDiagram(process_key)
    return drafts.save_draft(tenant_id, process_key, kinds_diagram.with_kind(xml, kind), user)


__all__ = ["DiagramError", "NoDiagram", "draft_kind", "set_draft_kind"]
