"""What changed in the expressions of a diagram (conditions, timers, operation parameters), in
the owner's words: which element, its name, the old text and the new one. SpiffWorkflow's spec
comparison only says *that* a gateway's conditions changed."""

from dataclasses import dataclass

from app.engine.validation import EXPRESSION_TAGS, B, S, owner_id
from app.engine.xml import load_bpmn_tree


@dataclass(frozen=True)
class ExpressionChange:
    element_id: str
    element_name: str
    what: str  # "condition", "timer", "parameter <id>"
    old: str | None
    new: str | None


def _expressions(xml: str) -> tuple[dict, dict]:
    root = load_bpmn_tree(xml)
    names = {el.get("id"): el.get("name") or "" for el in root.iter() if el.get("id")}
    found = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag.startswith(B) and el.tag[len(B):] in EXPRESSION_TAGS and (el.text or "").strip():
            found[(owner_id(el), EXPRESSION_TAGS[el.tag[len(B):]])] = el.text.strip()
        elif el.tag == f"{S}parameter":
            found[(owner_id(el), f"parameter {el.get('id')}")] = (el.get("value") or "").strip()
    return found, names


def expression_changes(old_xml: str, new_xml: str) -> list[ExpressionChange]:
    old, old_names = _expressions(old_xml)
    new, names = _expressions(new_xml)
    names = {**old_names, **names}  # a removed element keeps the name it had
    return [ExpressionChange(eid, names.get(eid, ""), what, old.get((eid, what)),
                             new.get((eid, what)))
            for eid, what in sorted(old.keys() | new.keys(), key=lambda k: (k[0] or "", k[1]))
            if old.get((eid, what)) != new.get((eid, what))]
