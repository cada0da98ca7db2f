"""What a company's process is called on pages: the catalog template's name in the reader's
language when the process is an adopted template still under its shipped title, else the title
its diagram gives the process (``<bpmn:process name>``), else nothing (pages show the key).
Pages show the key small beside the name, as diagrams, the API and URLs use it."""

from functools import lru_cache

from sqlalchemy import select

from app.engine.xml import BPMN_NS, DiagramError, load_bpmn_tree
from app.extensions import db
from app.models import ProcessDefinition, ProcessDraft
from app.process_catalog import templates

_PROCESS = f"{{{BPMN_NS}}}process"


def diagram_title(xml: str | bytes) -> tuple[str, str] | None:
    """``(process id, title)`` of a diagram's executable process (title "" without one)."""
    try:
        root = load_bpmn_tree(xml)
    except DiagramError:
        return None
    found = list(root.iter(_PROCESS))
    executable = [p for p in found if (p.get("isExecutable") or "true").lower() == "true"]
    if not (executable or found):
        return None
    chosen = (executable or found)[0]
    return chosen.get("id") or "", " ".join((chosen.get("name") or "").split())


@lru_cache(maxsize=1)
def _shipped() -> dict[tuple[str, str], templates.Template]:
    """(process id, title) as each template ships -> the template."""
    return {found: t for t in templates.available() if (found := diagram_title(t.xml()))}


_BY_CHECKSUM: dict[str, tuple[str, str] | None] = {}


def _version_title(row: ProcessDefinition) -> tuple[str, str] | None:
    """A version's (process id, title), read from its diagram once per checksum (the diagram
    is a deferred column: loaded only then)."""
    if row.checksum not in _BY_CHECKSUM:
        if len(_BY_CHECKSUM) >= 512:
            _BY_CHECKSUM.clear()
        _BY_CHECKSUM[row.checksum] = diagram_title(row.bpmn_xml)
    return _BY_CHECKSUM[row.checksum]


def title(found: tuple[str, str] | None, locale: str | None) -> str | None:
    """The name to show for a diagram's ``(process id, title)``."""
    if found is None:
        return None
    template = _shipped().get(found)
    if template is not None:
        return template.name.get(locale)
    process_id, own = found
    return own if own and own != process_id else None


def titles(tenant_id: int, locale: str | None) -> dict[str, str]:
    """Process key -> the name to show, for the company's processes that have one: by the
    active version (else the newest), or the draft of a process never deployed. Two
    queries; a version's diagram is read once (cached by its checksum)."""
    newest: dict[str, ProcessDefinition] = {}
    for row in db.session.scalars(
            select(ProcessDefinition).where(ProcessDefinition.tenant_id == tenant_id)
            .order_by(ProcessDefinition.is_active, ProcessDefinition.version)):
        newest[row.process_key] = row  # the active one last, else the highest version
    names = {}
    for key, row in newest.items():
        found = _version_title(row)
        if (name := title(found, locale)) is not None:
            names[key] = name
    for draft in db.session.scalars(select(ProcessDraft).where(
            ProcessDraft.tenant_id == tenant_id, ProcessDraft.process_key.not_in(newest))):
        if (name := title(diagram_title(draft.bpmn_xml), locale)) is not None:
            names[draft.process_key] = name
    return names

