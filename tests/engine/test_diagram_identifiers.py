"""Ids and references must be plain identifiers before SpiffWorkflow's parser sees them: the
parser puts some of them into XPath queries as they are, so crafted text turned one validation
into an exponential query (minutes of a worker's CPU)."""

from xml.sax.saxutils import escape

import pytest

from app.engine.validation import MAX_IDENTIFIER, check_identifiers
from app.engine.xml import load_bpmn_tree
from app.services.definitions import default_diagram
from tests.engine.compiling import compile_xml, problems_of

# Quotes close the engine's XPath literal; the rest makes the query explode.
EXPONENTIAL = "x' or count(//*[count(//*[count(//*[count(//*)>0])>0])>0])>0 or 'a'='b"
PAYLOADS = [
    EXPONENTIAL,
    "a\"] | //*[\"",
    "a'] | //bpmn:*['",
    "Task_Authorize' or '1'='1",
    "a b",
    "a\tb",
    "1starts_with_a_digit",
    "a/b",
    "a[1]",
    "a(b)",
    "",
    "x" * (MAX_IDENTIFIER + 1),
]


def _add_to_authorize(xml: str, inner: str) -> str:
    marker = '<bpmn:userTask id="Task_Authorize" name="Autorizar solicitud">'
    assert marker in xml
    return xml.replace(marker, marker + inner, 1)


PLACES = {
    "data input sourceRef": lambda p: _add_to_authorize(
        default_diagram(), f'<bpmn:dataInputAssociation id="DIA"><bpmn:sourceRef>{p}'
        '</bpmn:sourceRef><bpmn:targetRef>t</bpmn:targetRef></bpmn:dataInputAssociation>'),
    "data output targetRef": lambda p: _add_to_authorize(
        default_diagram(), '<bpmn:dataOutputAssociation id="DOA"><bpmn:sourceRef>s'
        f'</bpmn:sourceRef><bpmn:targetRef>{p}</bpmn:targetRef></bpmn:dataOutputAssociation>'),
    "task id": lambda p: default_diagram().replace(
        'id="Task_Evaluate"', f'id="{p}"', 1),
    "flowNodeRef": lambda p: default_diagram().replace(
        "<bpmn:flowNodeRef>Task_Evaluate</bpmn:flowNodeRef>",
        f"<bpmn:flowNodeRef>{p}</bpmn:flowNodeRef>", 1),
    "incoming": lambda p: default_diagram().replace(
        "<bpmn:incoming>Flow_AuthorizeToDecision</bpmn:incoming>",
        f"<bpmn:incoming>{p}</bpmn:incoming>", 1),
    "sequence flow sourceRef": lambda p: default_diagram().replace(
        'sourceRef="Task_Authorize"', f'sourceRef="{p}"', 1),
    "gateway default": lambda p: default_diagram().replace(
        'default="Flow_ToAuthorize"', f'default="{p}"', 1),
    "boundary attachedToRef": lambda p: default_diagram().replace(
        'attachedToRef="Task_Authorize"', f'attachedToRef="{p}"', 1),
    "shape bpmnElement": lambda p: default_diagram().replace(
        'bpmnElement="Task_Authorize"', f'bpmnElement="{p}"', 1),
    "message event messageRef": lambda p: _add_to_authorize(
        default_diagram(), "").replace(
        "</bpmn:process>", '<bpmn:intermediateCatchEvent id="Catch"><bpmn:messageEventDefinition '
        f'id="MED" messageRef="{p}" /></bpmn:intermediateCatchEvent></bpmn:process>', 1),
    "signal event signalRef": lambda p: default_diagram().replace(
        "</bpmn:process>", '<bpmn:intermediateCatchEvent id="Catch"><bpmn:signalEventDefinition '
        f'id="SED" signalRef="{p}" /></bpmn:intermediateCatchEvent></bpmn:process>', 1),
    "error event errorRef": lambda p: default_diagram().replace(
        "</bpmn:process>", '<bpmn:endEvent id="Err"><bpmn:errorEventDefinition '
        f'id="EED" errorRef="{p}" /></bpmn:endEvent></bpmn:process>', 1),
    "escalation escalationRef": lambda p: default_diagram().replace(
        "</bpmn:process>", '<bpmn:endEvent id="Esc"><bpmn:escalationEventDefinition '
        f'id="XED" escalationRef="{p}" /></bpmn:endEvent></bpmn:process>', 1),
    "participant processRef": lambda p: default_diagram().replace(
        "<bpmn:process ", '<bpmn:collaboration id="Collab"><bpmn:participant id="Part" '
        f'processRef="{p}" /></bpmn:collaboration><bpmn:process ', 1),
    "correlation propertyId": lambda p: _add_to_authorize(
        default_diagram(), '<bpmn:extensionElements><spiffworkflow:processVariableCorrelation>'
        f'<spiffworkflow:propertyId>{p}</spiffworkflow:propertyId>'
        '</spiffworkflow:processVariableCorrelation></bpmn:extensionElements>'),
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_a_crafted_id_or_reference_is_refused_before_the_engine_parses(place, payload):
    # Escaped for XML (an attribute's quotes too): the parser reads back the raw payload.
    xml = PLACES[place](escape(payload, {'"': "&quot;", "'": "&apos;"}))
    problems = problems_of(xml)
    assert any("not a plain identifier" in msg for _, msg in problems), problems
    # Only this check answered: nothing else ran on a diagram that may attack the parser.
    assert all("not a plain identifier" in msg or "more than" in msg for _, msg in problems)
    # A crafted id is never echoed as an element id (the modeler would look it up).
    assert all(eid is None or "'" not in eid for eid, _ in problems)


@pytest.mark.parametrize("inner", [
    f"DOR1' or {EXPONENTIAL}<x/>",            # the text before a child is what the engine reads
    "DOR1<x/>' or 'a'='b",
    "<x/>DOR1",
    "DOR1<!-- a comment is removed, a child is not --><x>' or 'a'='b</x>",
])
def test_a_reference_hiding_text_behind_a_child_element_is_refused(inner):
    inner = inner.replace(">0", "&gt;0").replace("<0", "&lt;0")
    xml = _add_to_authorize(default_diagram(), '<bpmn:dataInputAssociation id="DIA">'
                            f"<bpmn:sourceRef>{inner}</bpmn:sourceRef><bpmn:targetRef>t"
                            "</bpmn:targetRef></bpmn:dataInputAssociation>")
    assert any("<sourceRef>" in msg and "not a plain identifier" in msg
               for _, msg in problems_of(xml))


@pytest.mark.parametrize("identifier", [
    "Activity_0x1y2z", "Flow_1", "Gateway_Decisión", "Tarea.Aprobar-2", "_hidden", "Ñandú",
    "a" * (MAX_IDENTIFIER - 3),  # "_di" is added to it for its shape
])
def test_plain_identifiers_are_accepted(identifier):
    xml = default_diagram().replace("Task_Evaluate", identifier)
    assert compile_xml(xml).spec.task_specs[identifier]


def test_qualified_type_references_are_accepted():
    root = load_bpmn_tree(default_diagram().replace(
        "</bpmn:process>", '<bpmn:dataObject id="Obj" itemSubjectRef="xsd:string" />'
                           "</bpmn:process>", 1))
    assert check_identifiers(root) == []


def test_a_diagram_with_too_many_steps_is_refused_with_one_clear_problem():
    tasks = "".join(f'<bpmn:task id="Extra{i}" />' for i in range(1001))
    xml = default_diagram().replace("</bpmn:process>", tasks + "</bpmn:process>", 1)
    assert problems_of(xml) == [(None, "the diagram has more than 1000 steps")]


def test_too_many_problems_are_cut_with_a_count():
    tasks = "".join(f'<bpmn:scriptTask id="Script{i}" />' for i in range(150))
    xml = default_diagram().replace("</bpmn:process>", tasks + "</bpmn:process>", 1)
    problems = problems_of(xml)
    assert len(problems) == 101
    assert problems[-1][0] is None and problems[-1][1].startswith("... and ")
