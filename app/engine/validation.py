"""Checks a tenant's diagram must pass before the engine may run it.

Every problem is reported with the id of the element that has it, so the modeler can show it.
"""

import ast
import re

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine import pathdata, timers
from app.engine.expressions import ExpressionError, parse_expression
from app.engine.forms import FORM_KIND, has_form, parse_forms, result_variables
from app.engine.vocabulary import Vocabulary, check_names, diagram_names
from app.engine.xml import BPMN_NS, MESA_NS, SPIFF_NS
from app.kinds import diagram as kinds_diagram

B = f"{{{BPMN_NS}}}"
S = f"{{{SPIFF_NS}}}"

# Lane names the default diagram uses, and the roles they stand for. A lane may also be named
# after the role itself.
LANE_ROLES = {
    "Requester": "requester",
    "UnitHead": "unit_head",
    "ServiceDirector": "service_director",
    "Worker": "worker",
    "TenantAdmin": "tenant_admin",
    "Team": "team",  # a team of people (app.teams), named by the task property ``team``
}
TASK_ROLES = {"requester", "unit_head", "service_director", "worker", "tenant_admin", "team"}
TEAM_ROLE = "team"
TEAM_KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,39}\Z")  # app.teams' key
# Roles held in the whole company, not in a unit: their tasks have no unit.
COMPANY_ROLES = {"tenant_admin"}


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


TIMER_KINDS = {"timeDuration": "duration", "timeDate": "date", "timeCycle": "cycle"}


def _check_timer_literal(problems, element, value) -> None:
    """A timer written as a literal must be an ISO 8601 duration, date-time or cycle within the
    bounds of ``engine.timers``, and one the engine itself reads."""
    local = element.tag[len(B):] if isinstance(element.tag, str) else ""
    kind = TIMER_KINDS.get(local)
    if kind is None:
        return
    try:
        timers.check(kind, value)
    except timers.TimerValueError as exc:
        problems.append((owner_id(element), f"timer: {exc}"))
        return
    parse = {"duration": TimerEventDefinition.parse_iso_duration,
             "date": TimerEventDefinition.get_datetime,
             "cycle": TimerEventDefinition.parse_iso_recurring_interval}[kind]
    try:
        parse(value)  # bounded above, so the engine's month-by-month walk is short
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


def _reach(sources, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(sources)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return seen


def _check_paths(problems, process) -> None:
    """Every start event must reach an end event along sequence flows (and boundary events),
    and every step must be reachable from a start event. Two walks over the graph, whatever
    the number of start events."""
    edges: dict[str, set[str]] = {}
    backwards: dict[str, set[str]] = {}
    for source, target in [(f.get("sourceRef"), f.get("targetRef"))
                           for f in process.iter(f"{B}sequenceFlow")] + [
                          (b.get("attachedToRef"), b.get("id"))
                          for b in process.iter(f"{B}boundaryEvent")]:
        edges.setdefault(source, set()).add(target)
        backwards.setdefault(target, set()).add(source)
    starts = [start.get("id") for start in process.findall(f"{B}startEvent")]
    if not starts:
        return
    leads_to_end = _reach([e.get("id") for e in process.iter(f"{B}endEvent")], backwards)
    for start in starts:
        if start not in leads_to_end:
            problems.append((start, "no path leads from this start event to an end"))
    reached = _reach(starts, edges)
    for node in process:
        if (isinstance(node.tag, str) and node.tag.startswith(B)
                and node.tag[len(B):] in FLOW_NODES and node.get("id") not in reached):
            problems.append((node.get("id"), "no path leads to this step from the start; "
                                             "connect it or remove it"))


# Steps where the engine stops and waits (for a person, a timer, a message): a loop through
# one of them runs once per wait; a loop through none would run up to the engine's step limit
# in one go, evaluating its conditions every time round.
WAIT_STATES = {"userTask", "intermediateCatchEvent", "receiveTask", "manualTask"}


def _waits(node) -> bool:
    local = node.tag[len(B):] if isinstance(node.tag, str) and node.tag.startswith(B) else ""
    if local in WAIT_STATES:
        return True
    if local in ("subProcess", "transaction", "adHocSubProcess", "callActivity"):
        return any(n.tag in {f"{B}{w}" for w in WAIT_STATES} for n in node.iter())
    return False


def _check_multi_instance(problems, root) -> None:
    """Multi-instance steps make one task per instance: only a counted number of them (a
    ``loopCardinality``, at most 100 when it runs), never one per item of a collection (a form
    answer of 20,000 characters would be 20,000 tasks), and never one inside another (100 x 100)."""
    for loop in root.iter(f"{B}multiInstanceLoopCharacteristics"):
        owner = loop.getparent()
        if any(loop.find(f"{B}{tag}") is not None
               for tag in ("loopDataInputRef", "loopDataOutputRef", "inputDataItem",
                           "outputDataItem")):
            problems.append((_shown_id(owner), "a multi-instance step over a collection is not "
                             "supported; give it a number of instances (loopCardinality)"))
        elif loop.find(f"{B}loopCardinality") is None:
            problems.append((_shown_id(owner), "a multi-instance step needs a number of "
                             "instances (loopCardinality)"))
        if any(ancestor.find(f"{B}multiInstanceLoopCharacteristics") is not None
               for ancestor in owner.iterancestors()):
            problems.append((_shown_id(owner), "multi-instance steps cannot be nested inside "
                             "one another"))


def _check_loops(problems, process) -> None:
    """No cycle of sequence flows may pass only through automatic steps (iterative search for
    a cycle in the graph without the wait states: linear in the diagram)."""
    nodes = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str)
             and n.tag.startswith(B) and n.get("id")}
    edges: dict[str, list[str]] = {}
    for flow in process.iter(f"{B}sequenceFlow"):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes and not _waits(nodes[source]) \
                and not _waits(nodes[target]):
            edges.setdefault(source, []).append(target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in edges:
        if state.get(root):
            continue
        stack = [(root, iter(edges.get(root, ())))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                problems.append((child, "this step is on a loop with no user task or timer "
                                        "in it: the engine would go round it without waiting "
                                        "for anyone; add a step that waits, or end the loop"))
                return
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(edges.get(child, ()))))


# Ids and references must be plain identifiers: SpiffWorkflow's parser puts some of them into
# XPath expressions as they are (e.g. a data association's sourceRef), so a crafted reference
# would turn one parse into an exponential query. Checked before the parser sees the diagram.
IDENTIFIER_RE = re.compile(r"[^\W\d][\w.\-]*(?::[^\W\d][\w.\-]*)?\Z")
MAX_IDENTIFIER = 255
_REFERENCE_ATTRIBUTES = {"id", "bpmnElement", "default", "calledElement", "sourceElement",
                         "targetElement", "labelStyle"}
_REFERENCE_TEXTS = {"incoming", "outgoing", "propertyId"}
# What a diagram may hold: far above any real process, low enough that every check stays
# quick whatever the file (MAX_DIAGRAM_BYTES bounds the rest).
MAX_ELEMENTS = 40_000
MAX_FLOW_NODES = 1_000
MAX_PROBLEMS = 100
MAX_NESTING = 10
_SCOPE_TAGS = ("subProcess", "transaction", "adHocSubProcess")
_NESTED = {f"{B}{tag}" for tag in _SCOPE_TAGS}


def _local_name(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _is_reference(local: str) -> bool:
    return local.endswith(("Ref", "Refs"))


def _plain(value: str) -> bool:
    return len(value) <= MAX_IDENTIFIER and IDENTIFIER_RE.match(value) is not None


def check_identifiers(root) -> list[tuple[str | None, str]]:
    """Problems with ids and references that are not plain identifiers (letters, digits,
    ``_``, ``-``, ``.``, one optional ``prefix:``), and with diagrams too big to check."""
    problems = []
    elements = flow_nodes = 0
    for el in root.iter():
        elements += 1
        if elements > MAX_ELEMENTS:
            return [(None, f"the diagram has more than {MAX_ELEMENTS} elements")]
        if not isinstance(el.tag, str):
            continue
        local = _local_name(el.tag)
        if el.tag.startswith(B) and local in FLOW_NODES:
            flow_nodes += 1
        for name, value in el.attrib.items():
            attribute = _local_name(name)
            if (attribute in _REFERENCE_ATTRIBUTES or _is_reference(attribute)) and not _plain(
                    value):
                problems.append((_shown_id(el), f"the {attribute} {value[:60]!r} is not a "
                                 "plain identifier (letters, digits, _ - and . only)"))
        if _is_reference(local) or local in _REFERENCE_TEXTS:
            # The engine reads a reference's text before any child element: all of it counts.
            text = "".join(el.itertext()).strip()
            if len(el) or not _plain(text):
                problems.append((_shown_id(el.getparent()), f"the reference <{local}> "
                                 f"{text[:60]!r} is not a plain identifier"))
        if len(problems) > MAX_PROBLEMS:
            break
    if flow_nodes > MAX_FLOW_NODES:
        problems.append((None, f"the diagram has more than {MAX_FLOW_NODES} steps"))
    for scope in root.iter(*(f"{B}{tag}" for tag in _SCOPE_TAGS)):
        depth = sum(1 for parent in scope.iterancestors() if parent.tag in _NESTED)
        if depth >= MAX_NESTING:
            problems.append((_shown_id(scope), f"subprocesses are nested more than "
                             f"{MAX_NESTING} deep"))
            break
    return problems


def _shown_id(element) -> str | None:
    """The id of ``element`` or of the nearest element around it that has a plain one (a
    crafted id is never echoed)."""
    while element is not None:
        value = element.get("id")
        if value and _plain(value):
            return value
        element = element.getparent()
    return None


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


def _check_team(problems, task) -> None:
    """A task in a ``Team`` lane names its team (property ``team``: a team key, e.g.
    ``change_board``); a vote (property ``approval_rule``) is a multi-instance step."""
    tid = task.get("id")
    properties = _properties(task)
    key = properties.get("team")
    if not key:
        problems.append((tid, "a task in the Team lane needs the property 'team' (a team key, "
                              "e.g. change_board)"))
    elif not TEAM_KEY_RE.match(key):
        problems.append((tid, f"the team {key[:60]!r} is not a team key (a-z, 0-9 and _, "
                              "2 to 40 characters, starting with a letter)"))
    rule = properties.get("approval_rule")
    if rule is not None:
        if rule not in APPROVAL_RULES:
            problems.append((tid, f"the approval rule {rule[:40]!r} is not one of "
                                  f"{', '.join(APPROVAL_RULES)}"))
        if task.find(f"{B}multiInstanceLoopCharacteristics") is None:
            problems.append((tid, "a vote (approval_rule) must be a multi-instance step, one "
                                  "instance per member (loopCardinality: board[\"size\"])"))
        if not _has_vote_field(task):
            problems.append((tid, "a vote (approval_rule) needs a form with a required choice "
                                  "field 'vote' offering 'approve' and 'reject'"))


def _has_vote_field(task) -> bool:
    mesa = f"{{{MESA_NS}}}"
    for field in task.iter(f"{mesa}field"):
        if field.get("name") == "vote" and field.get("type") == "choice":
            values = {o.get("value") for o in field.iter(f"{mesa}option")}
            return values == {"approve", "reject"} and field.get("required") == "true"
    return False


APPROVAL_RULES = ("all", "any", "majority")


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


# Handlers whose answer only the diagram can act on: the data name a gateway right after the
# task must read (a "not solved" that no gateway reads would close the request silently).
ROUTED_HANDLERS = {"reopen": "solved"}
_GATEWAYS = {f"{B}exclusiveGateway", f"{B}inclusiveGateway"}


def _names_read_after(root, task) -> set[str]:
    """The names the conditions of the gateways right after ``task`` read (XML walk)."""
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    names: set[str] = set()
    seen: set[str] = set()
    frontier = [task]
    while frontier:
        node = frontier.pop()
        for out in node.findall(f"{B}outgoing"):
            flow = by_id.get((out.text or "").strip())
            if flow is None:
                continue
            if node is not task:
                condition = flow.find(f"{B}conditionExpression")
                if condition is not None and (condition.text or "").strip():
                    try:
                        tree = parse_expression(condition.text.strip())
                    except ExpressionError:
                        continue
                    names.update(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
            target = by_id.get(flow.get("targetRef"))
            if target is not None and target.tag in _GATEWAYS and target.get("id") not in seen:
                seen.add(target.get("id"))
                frontier.append(target)
    return names


def _check_routed(problems, task) -> None:
    handlers = {h.strip() for h in (_properties(task).get("handlers") or "").split(",")}
    for handler, name in ROUTED_HANDLERS.items():
        if handler in handlers and name not in _names_read_after(task.getroottree().getroot(),
                                                                 task):
            problems.append((task.get("id"), f"the handler '{handler}' needs a gateway right "
                             f"after the task with a condition on '{name}' (e.g. "
                             f"{name} == False), else its answer would be ignored"))


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
        if len(problems) > MAX_PROBLEMS:
            return  # the rest would not be shown


def check_tree(root, handler_names, operation_names, vocabulary: Vocabulary | None = None,
               host: pathdata.HostData | None = None) -> list[tuple[str | None, str]]:
    """Problems found in the XML tree (before the engine parses it). With ``vocabulary``, the
    names expressions read are checked too, and with ``host``, every expression is evaluated
    on the data each path can bring it (``engine.pathdata``): new diagrams; versions already
    deployed are compiled without them, so a stricter rule never stops a running request."""
    problems = check_identifiers(root)
    if problems:
        return _capped(problems)
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
    _check_multi_instance(problems, root)
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
    forms, form_problems = parse_forms(root, stored=vocabulary is None)
    problems.extend(form_problems)
    if vocabulary is not None:
        _check_vocabulary(problems, root, forms, vocabulary)
    for task in root.iter(f"{B}userTask"):
        tid = task.get("id")
        if lane_role(lanes.get(tid)) is None:
            problems.append((tid, "the user task is not in a lane mapped to a role"))
        elif lane_role(lanes.get(tid)) == TEAM_ROLE:
            _check_team(problems, task)
        _check_handlers(problems, task, handler_names)
        if vocabulary is not None:  # new diagrams (deployed ones are compiled without it)
            _check_routed(problems, task)
    for el in root.iter():
        if el.get("id") in ENGINE_IDS and isinstance(el.tag, str) and el.tag.startswith(B):
            problems.append((el.get("id"), f"the id '{el.get('id')}' is used by the engine "
                                           "itself; give the element another id"))
    problems.extend(kinds_diagram.check(root))  # the process's kind of work (app.kinds)
    processes = list(root.iter(f"{B}process"))
    if not processes:
        problems.append((None, "the diagram has no process"))
    for process in processes:
        if not process.findall(f"{B}startEvent"):
            problems.append((process.get("id"), "the process has no start event"))
        _check_paths(problems, process)
        _check_loops(problems, process)
    if host is not None and not problems:
        problems.extend(pathdata.check(root, host, forms))
    return _capped(problems)


def _capped(problems: list) -> list:
    """At most MAX_PROBLEMS problems, then one line saying how many more there are."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return problems[:MAX_PROBLEMS] + [(None, f"... and {more} more problems")]


def to_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
