"""Checks a tenant's diagram must pass before the engine may run it.

Every problem is reported with the id of the element that has it, so the modeler can show it.
"""

from lxml import etree

from app.engine.expressions import ExpressionError, parse_expression
from app.engine.xml import BPMN_NS, SPIFF_NS

B = f"{{{BPMN_NS}}}"
S = f"{{{SPIFF_NS}}}"

# Lane names the default diagram uses, and the roles they stand for. A lane may also be named
# after the role itself.
LANE_ROLES = {
    "Requester": "requester",
    "UnitHead": "unit_head",
    "ServiceDirector": "service_director",
    "Worker": "worker",
}
TASK_ROLES = {"requester", "unit_head", "service_director", "worker"}


# Elements whose text the engine evaluates, and how to name them in a problem.
EXPRESSION_TAGS = {
    "conditionExpression": "condition",
    "condition": "condition",
    "timeDuration": "timer",
    "timeDate": "timer",
    "timeCycle": "timer",
    "loopCardinality": "multi-instance expression",
    "completionCondition": "completion condition",
    "loopCondition": "loop condition",
    "messagePath": "message expression",
    "formalExpression": "expression",
    "dataPath": "expression",
}


def lane_role(lane_name: str | None) -> str | None:
    if not lane_name:
        return None
    if lane_name in LANE_ROLES:
        return LANE_ROLES[lane_name]
    return lane_name if lane_name in TASK_ROLES else None


_CONTAINERS = {f"{B}process", f"{B}subProcess", f"{B}adHocSubProcess", f"{B}transaction"}


def _owner_id(element) -> str | None:
    """The id of the flow element (task, event, flow...) that holds ``element``."""
    while element is not None:
        parent = element.getparent()
        if parent is None or parent.tag in _CONTAINERS:
            return element.get("id")
        element = parent
    return None


def _check_expression(problems, element, text, what):
    try:
        parse_expression((text or "").strip())
    except ExpressionError as exc:
        problems.append((_owner_id(element), f"{what}: {exc.reason}"))


def _properties(task) -> dict:
    return {
        p.get("name"): p.get("value")
        for p in task.iter(f"{S}property")
        if p.get("name") is not None
    }


def _lanes_by_node(root) -> dict:
    lanes = {}
    for lane in root.iter(f"{B}lane"):
        for ref in lane.findall(f"{B}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name")
    return lanes


def check_tree(root, handler_names, operation_names) -> list[tuple[str | None, str]]:
    """Problems found in the XML tree (before the engine parses it)."""
    problems = []
    for tag, what in (
        ("scriptTask", "script tasks are not allowed; use a service task"),
        ("businessRuleTask", "business rule tasks are not supported"),
    ):
        for el in root.iter(f"{B}{tag}"):
            problems.append((el.get("id"), what))
    for tag in ("preScript", "postScript"):
        for el in root.iter(f"{S}{tag}"):
            problems.append((_owner_id(el), "scripts are not allowed in a diagram"))
    for el in root.iter(f"{B}script"):
        problems.append((_owner_id(el), "scripts are not allowed in a diagram"))
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(B):
            continue
        what = EXPRESSION_TAGS.get(el.tag[len(B):])
        if what is not None and (el.text or "").strip():
            _check_expression(problems, el, el.text, what)
    for tag in ("manualTask", "receiveTask", "sendTask"):
        for el in root.iter(f"{B}{tag}"):
            problems.append((el.get("id"), f"{tag} is not supported; use a user or service task"))
    for el in root.iter(f"{B}correlationPropertyRetrievalExpression"):
        problems.append((el.getparent().get("id"), "message correlations are not supported"))
    for op in root.iter(f"{S}serviceTaskOperator"):
        if op.get("id") not in operation_names:
            problems.append((_owner_id(op), f"unknown service operation '{op.get('id')}'"))
        for param in op.iter(f"{S}parameter"):
            _check_expression(problems, param, param.get("value"),
                              f"parameter '{param.get('id')}'")
    lanes = _lanes_by_node(root)
    for task in root.iter(f"{B}userTask"):
        tid = task.get("id")
        if lane_role(lanes.get(tid)) is None:
            problems.append((tid, "the user task is not in a lane mapped to a role"))
        handlers = [h.strip() for h in (_properties(task).get("handlers") or "").split(",")]
        handlers = [h for h in handlers if h]
        if not handlers:
            problems.append((tid, "the user task names no handler"))
        for name in handlers:
            if name not in handler_names:
                problems.append((tid, f"unknown handler '{name}'"))
    if not list(root.iter(f"{B}process")):
        problems.append((None, "the diagram has no process"))
    return problems


def to_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
