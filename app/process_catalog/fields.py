"""The category fields the incident template reads (impact and urgency), as a category's
request template holds them (``app.request_fields``): add them to an incident category so
the requester says both when filing."""

from sqlalchemy import select

from app.engine.xml import SPIFF_NS, DiagramError, load_bpmn_tree
from app.extensions import db
from app.models import ProcessDefinition
from app.process_catalog.matrix import LEVELS

PRIORITIZE = "prioritize"
_OPERATOR = f"{{{SPIFF_NS}}}serviceTaskOperator"
_USES_IT: dict[str, bool] = {}

LEVEL_TEXT = {
    "impact": {"high": "Alto: muchas personas o un servicio crítico",
               "medium": "Medio: un área o varias personas",
               "low": "Bajo: una persona"},
    "urgency": {"high": "Alta: no se puede trabajar",
                "medium": "Media: se trabaja con dificultad",
                "low": "Baja: puede esperar"},
}
LABELS = {"impact": "Impacto", "urgency": "Urgencia"}


def incident_fields() -> list[dict]:
    return [{"name": name, "type": "choice", "label": LABELS[name], "required": True,
             "options": [{"value": level, "label": LEVEL_TEXT[name][level]}
                         for level in LEVELS]}
            for name in ("impact", "urgency")]


def has_them(category) -> bool:
    names = {f.get("name") for f in category.request_fields or []}
    return {"impact", "urgency"} <= names


def add_to(actor, tenant, category) -> bool:
    """Add the fields ``impact`` and ``urgency`` a category lacks, through the categories'
    own editing (checked and audited as a tenant admin's edit). False when it has both.
    Raises marshmallow's ValidationError (e.g. a category already at its field limit)."""
    from app.admin import categories

    present = {f.get("name") for f in category.request_fields or []}
    missing = [f for f in incident_fields() if f["name"] not in present]
    if not missing:
        return False
    return categories.update(actor, tenant, category, {
        "request_fields": [*(category.request_fields or []), *missing]})


def _calls_prioritize(row: ProcessDefinition) -> bool:
    """Whether a version's diagram calls the ``prioritize`` operation (read once per
    checksum; the diagram is a deferred column, loaded only then)."""
    if row.checksum not in _USES_IT:
        try:
            root = load_bpmn_tree(row.bpmn_xml)
        except DiagramError:
            uses = False
        else:
            uses = any(op.get("id") == PRIORITIZE for op in root.iter(_OPERATOR))
        if len(_USES_IT) >= 512:
            _USES_IT.clear()
        _USES_IT[row.checksum] = uses
    return _USES_IT[row.checksum]


def prioritizing_keys(tenant_id: int) -> set[str]:
    """The company's processes whose active version prioritizes by impact and urgency: the
    only ones for which a category's fields impact and urgency mean anything."""
    return {row.process_key for row in db.session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.tenant_id == tenant_id, ProcessDefinition.is_active.is_(True)))
        if _calls_prioritize(row)}
