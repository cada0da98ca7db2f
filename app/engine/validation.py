"""Checks a tenant's diagram must pass before the engine may run it.

Every problem is reported with the id of the element that has it, so the modeler can show it.
"""

import ast

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.expressions import ExpressionError, parse_expression
from app.engine.forms import FORM_KIND, has_form, parse_forms, result_variables
from app.engine.vocabulary import Vocabulary, check_names, diagram_names
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


def owner_id(element) -> str | None:
    """The id of the flow element (task, event, flow...) that holds ``element``."""
    while element is not None:
        parent = element.getparent()
        if parent is None or parent.tag in _CONTAINERS:
            return element.get("id")
        element = parent
    return None


def _check_expression(problems, element, text, what):
    try:
        tree = parse_expression((text or "").strip())
    except ExpressionError as exc:
        problems.append((owner_id(element), f"{what}: {exc.reason}"))
        return
    if what == "timer" and isinstance(tree.body, ast.Constant):
        _check_timer_literal(problems, element, tree.body.value)


def _check_timer_literal(problems, element, value) -> None:
    """A timer written as a literal must be an ISO 8601 duration, date-time or cycle."""
    kind = element.tag[len(B):] if isinstance(element.tag, str) else ""
    parse = {"timeDuration": TimerEventDefinition.parse_iso_duration,
             "timeDate": TimerEventDefinition.get_datetime,
             "timeCycle": TimerEventDefinition.parse_iso_recurring_interval}.get(kind)
    if parse is None:
        return
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        parse(value)
    except Exception:
        problems.append((owner_id(element), f"timer: {value!r} is not a valid ISO 8601 "
                         "value (e.g. 'PT48H', 'P7D', '2026-12-01T09:00:00Z')"))


# Flow nodes that must be reachable from a start event (start events themselves are not).
FLOW_NODES = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask",
              "receiveTask", "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
              "intermediateCatchEvent", "intermediateThrowEvent", "endEvent", "boundaryEvent"}
# Ids SpiffWorkflow gives its own internal task specs: an element with one of them breaks it.
ENGINE_IDS = {"Start", "End", "Root"}


def _check_paths(problems, process) -> None:
    """Every start event must reach an end event along sequence flows (and boundary events),
    and every step must be reachable from a start event."""
    edges: dict[str, set[str]] = {}
    for flow in process.iter(f"{B}sequenceFlow"):
        edges.setdefault(flow.get("sourceRef"), set()).add(flow.get("targetRef"))
    for boundary in process.iter(f"{B}boundaryEvent"):
        edges.setdefault(boundary.get("attachedToRef"), set()).add(boundary.get("id"))
    ends = {e.get("id") for e in process.iter(f"{B}endEvent")}
    reached: set[str] = set()
    for start in process.findall(f"{B}startEvent"):
        seen, stack = set(), [start.get("id")]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges.get(node, ()))
        if not seen & ends:
            problems.append((start.get("id"), "no path leads from this start event to an end"))
        reached |= seen
    if not process.findall(f"{B}startEvent"):
        return
    for node in process:
        if (isinstance(node.tag, str) and node.tag.startswith(B)
                and node.tag[len(B):] in FLOW_NODES and node.get("id") not in reached):
            problems.append((node.get("id"), "no path leads to this step from the start; "
                                             "connect it or remove it"))


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


def _check_handlers(problems, task, handler_names) -> None:
    """A user task names known handlers, or carries a form (and then no other handler)."""
    tid = task.get("id")
    handlers = [h.strip() for h in (_properties(task).get("handlers") or "").split(",")]
    handlers = [h for h in handlers if h]
    with_form = has_form(task)
    if not handlers and not with_form:
        problems.append((tid, "the user task names no handler and has no form"))
    for name in handlers:
        if name == FORM_KIND:
            if not with_form:
                problems.append((tid, f"the handler '{FORM_KIND}' needs a <mesa:form> in "
                                 "the task"))
        elif name not in handler_names:
            problems.append((tid, f"unknown handler '{name}'"))
        elif with_form:
            problems.append((tid, f"the user task has both a form and the handler '{name}'; "
                             "use one or the other"))


def _check_vocabulary(problems, root, forms, vocabulary: Vocabulary) -> None:
    """Every name an expression reads must be data the process has (see engine.vocabulary)."""
    vocabulary = vocabulary.extended(diagram_names(forms, result_variables(root)))
    expressions = [(el, el.text, EXPRESSION_TAGS.get(el.tag[len(B):]))
                   for el in root.iter() if isinstance(el.tag, str) and el.tag.startswith(B)]
    expressions += [(p, p.get("value"), f"parameter '{p.get('id')}'")
                    for p in root.iter(f"{S}parameter")]
    for el, text, what in expressions:
        if what is None or not (text or "").strip():
            continue
        try:
            tree = parse_expression(text.strip())
        except ExpressionError:
            continue  # reported already
        for message in check_names(tree, vocabulary):
            problems.append((owner_id(el), f"{what}: {message}"))


def check_tree(root, handler_names, operation_names,
               vocabulary: Vocabulary | None = None) -> list[tuple[str | None, str]]:
    """Problems found in the XML tree (before the engine parses it). With ``vocabulary``, the
    names expressions read are checked too (new diagrams; versions already deployed are
    compiled without it, so a stricter rule never stops a running request)."""
    problems = []
    for tag, what in (
        ("scriptTask", "script tasks are not allowed; use a service task"),
        ("businessRuleTask", "business rule tasks are not supported"),
    ):
        for el in root.iter(f"{B}{tag}"):
            problems.append((el.get("id"), what))
    for tag in ("preScript", "postScript"):
        for el in root.iter(f"{S}{tag}"):
            problems.append((owner_id(el), "scripts are not allowed in a diagram"))
    for el in root.iter(f"{B}script"):
        problems.append((owner_id(el), "scripts are not allowed in a diagram"))
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
            problems.append((owner_id(op), f"unknown service operation '{op.get('id')}'"))
        for param in op.iter(f"{S}parameter"):
            _check_expression(problems, param, param.get("value"),
                              f"parameter '{param.get('id')}'")
    lanes = _lanes_by_node(root)
    forms, form_problems = parse_forms(root)
    problems.extend(form_problems)
    if vocabulary is not None:
        _check_vocabulary(problems, root, forms, vocabulary)
    for task in root.iter(f"{B}userTask"):
        tid = task.get("id")
        if lane_role(lanes.get(tid)) is None:
            problems.append((tid, "the user task is not in a lane mapped to a role"))
        _check_handlers(problems, task, handler_names)
    for el in root.iter():
        if el.get("id") in ENGINE_IDS and isinstance(el.tag, str) and el.tag.startswith(B):
            problems.append((el.get("id"), f"the id '{el.get('id')}' is used by the engine "
                                           "itself; give the element another id"))
    processes = list(root.iter(f"{B}process"))
    if not processes:
        problems.append((None, "the diagram has no process"))
    for process in processes:
        if not process.findall(f"{B}startEvent"):
            problems.append((process.get("id"), "the process has no start event"))
        _check_paths(problems, process)
    return problems


def to_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
