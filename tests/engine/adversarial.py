"""Diagrams built to make validation expensive, each as large as MAX_DIAGRAM_BYTES allows.

Shared by tests/engine/test_diagram_budget.py (each must be answered within the budget) and
bench/diagram_budget.py (what each costs, for the README). ``largest(shape, max_bytes)``
grows a shape until the next step would pass the size or the number of steps validation
accepts.
"""

import re

from app.engine.validation import FLOW_NODES, MAX_FLOW_NODES

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:mesa="https://mesa-de-servicios.org/schema/bpmn/1.0" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">'
)
HANDLER = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
           'name="handlers" value="authorize" /></spiffworkflow:properties>'
           '</bpmn:extensionElements>')


def _process(lane_refs: list[str], body: list[str], extra: str = "") -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in lane_refs)
    return (f'{HEAD}<bpmn:process id="proc" isExecutable="true"><bpmn:laneSet id="Lanes">'
            f'<bpmn:lane id="Lane_Head" name="UnitHead">{refs}</bpmn:lane></bpmn:laneSet>'
            f'{"".join(body)}</bpmn:process>{extra}</bpmn:definitions>')


_STEP_RE = re.compile(r"<bpmn:(?:" + "|".join(sorted(FLOW_NODES)) + r")\b")


MAX_DEPTH = 250  # elements nested deeper than about 256 are refused by the XML parser itself


def _fits(xml: str, max_bytes: int) -> bool:
    return (len(xml.encode()) <= max_bytes and len(_STEP_RE.findall(xml)) <= MAX_FLOW_NODES
            and xml.count("<bpmn:subProcess") <= MAX_DEPTH)


def _grow(build, max_bytes: int) -> str:
    """The largest ``build(n)`` within ``max_bytes`` and MAX_FLOW_NODES steps (n doubles,
    then bisects): the biggest such diagram validation can be asked to accept."""
    low, high = 1, 2
    while _fits(build(high), max_bytes):
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if _fits(build(mid), max_bytes):
            low = mid
        else:
            high = mid
    return build(low)


def chain(n: int) -> str:
    """User tasks one after another, with their shapes."""
    body, refs, shapes = ['<bpmn:startEvent id="S" /><bpmn:endEvent id="E" />'], [], []
    previous = "S"
    for i in range(n):
        body.append(f'<bpmn:userTask id="T{i}">{HANDLER}</bpmn:userTask>'
                    f'<bpmn:sequenceFlow id="F{i}" sourceRef="{previous}" targetRef="T{i}" />')
        shapes.append(f'<bpmndi:BPMNShape id="T{i}_di" bpmnElement="T{i}"><dc:Bounds x="{i}" '
                      'y="0" width="100" height="80" /></bpmndi:BPMNShape>')
        refs.append(f"T{i}")
        previous = f"T{i}"
    body.append(f'<bpmn:sequenceFlow id="FE" sourceRef="{previous}" targetRef="E" />')
    plane = (f'<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="proc">'
             f'{"".join(shapes)}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>')
    return _process(refs, body, plane)


def starts(n: int) -> str:
    """Many start events, each with its own task, all to one end."""
    body, refs = ['<bpmn:endEvent id="E" />'], []
    for i in range(n):
        body.append(f'<bpmn:startEvent id="S{i}" /><bpmn:userTask id="T{i}">{HANDLER}'
                    f'</bpmn:userTask><bpmn:sequenceFlow id="F{i}" sourceRef="S{i}" '
                    f'targetRef="T{i}" /><bpmn:sequenceFlow id="G{i}" sourceRef="T{i}" '
                    'targetRef="E" />')
        refs.append(f"T{i}")
    return _process(refs, body)


def parallel_fan(n: int) -> str:
    """One parallel split to n tasks joined again (the join merges every branch's data)."""
    body = ['<bpmn:startEvent id="S" /><bpmn:parallelGateway id="Split" />'
            '<bpmn:parallelGateway id="Join" /><bpmn:endEvent id="E" />'
            '<bpmn:sequenceFlow id="a" sourceRef="S" targetRef="Split" />'
            '<bpmn:sequenceFlow id="b" sourceRef="Join" targetRef="E" />']
    refs = []
    for i in range(n):
        body.append(f'<bpmn:userTask id="T{i}">{HANDLER}</bpmn:userTask>'
                    f'<bpmn:sequenceFlow id="F{i}" sourceRef="Split" targetRef="T{i}" />'
                    f'<bpmn:sequenceFlow id="G{i}" sourceRef="T{i}" targetRef="Join" />')
        refs.append(f"T{i}")
    return _process(refs, body)


def _form(i: int, fields: int) -> str:
    items = "".join(
        f'<mesa:field name="f{i}_{j}" type="choice" label="Campo {j}">'
        '<mesa:option value="a" label="A" /><mesa:option value="b" label="B" />'
        '<mesa:option value="c" label="C" /></mesa:field>' for j in range(fields))
    return f"<bpmn:extensionElements><mesa:form>{items}</mesa:form></bpmn:extensionElements>"


def gateway_chain(n: int) -> str:
    """A form, then a gateway routing on its answers, then the next form...: every sample
    goes through every condition."""
    body, refs = ['<bpmn:startEvent id="S" /><bpmn:endEvent id="E" />'], []
    previous = "S"
    for i in range(n):
        condition = " and ".join(f"f{i}_{j} != 'c'" for j in range(3))
        body.append(
            f'<bpmn:userTask id="T{i}">{_form(i, 3)}</bpmn:userTask>'
            f'<bpmn:exclusiveGateway id="G{i}" default="D{i}" />'
            f'<bpmn:exclusiveGateway id="J{i}" />'
            f'<bpmn:sequenceFlow id="F{i}" sourceRef="{previous}" targetRef="T{i}" />'
            f'<bpmn:sequenceFlow id="TG{i}" sourceRef="T{i}" targetRef="G{i}" />'
            f'<bpmn:sequenceFlow id="C{i}" sourceRef="G{i}" targetRef="J{i}">'
            f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow>'
            f'<bpmn:sequenceFlow id="D{i}" sourceRef="G{i}" targetRef="J{i}" />')
        refs.append(f"T{i}")
        previous = f"J{i}"
    body.append(f'<bpmn:sequenceFlow id="FE" sourceRef="{previous}" targetRef="E" />')
    return _process(refs, body)


def form_gateways(n: int) -> str:
    """Wide forms, each followed by a gateway whose conditions read many of its fields and
    every field before it, then parallel branches joined again: the data walk's worst case."""
    body, refs = ['<bpmn:startEvent id="S" /><bpmn:endEvent id="E" />'], []
    previous = "S"
    for i in range(n):
        terms = [f"f{k}_{j} != 'c'" for k in range(i, -1, -1) for j in range(2)]
        reads = " and ".join(terms[:20])  # within the 500 characters of an expression
        body.append(
            f'<bpmn:userTask id="T{i}">{_form(i, 20)}</bpmn:userTask>'
            f'<bpmn:exclusiveGateway id="G{i}" default="D{i}" />'
            f'<bpmn:parallelGateway id="P{i}" /><bpmn:parallelGateway id="Q{i}" />'
            f'<bpmn:userTask id="U{i}">{HANDLER}</bpmn:userTask>'
            f'<bpmn:userTask id="V{i}">{HANDLER}</bpmn:userTask>'
            f'<bpmn:sequenceFlow id="F{i}" sourceRef="{previous}" targetRef="T{i}" />'
            f'<bpmn:sequenceFlow id="TG{i}" sourceRef="T{i}" targetRef="G{i}" />'
            f'<bpmn:sequenceFlow id="C{i}" sourceRef="G{i}" targetRef="P{i}">'
            f'<bpmn:conditionExpression>{reads}</bpmn:conditionExpression>'
            f'</bpmn:sequenceFlow><bpmn:sequenceFlow id="D{i}" sourceRef="G{i}" '
            f'targetRef="P{i}" /><bpmn:sequenceFlow id="PU{i}" sourceRef="P{i}" '
            f'targetRef="U{i}" /><bpmn:sequenceFlow id="PV{i}" sourceRef="P{i}" '
            f'targetRef="V{i}" /><bpmn:sequenceFlow id="UQ{i}" sourceRef="U{i}" '
            f'targetRef="Q{i}" /><bpmn:sequenceFlow id="VQ{i}" sourceRef="V{i}" '
            f'targetRef="Q{i}" />')
        refs += [f"T{i}", f"U{i}", f"V{i}"]
        previous = f"Q{i}"
    body.append(f'<bpmn:sequenceFlow id="FE" sourceRef="{previous}" targetRef="E" />')
    return _process(refs, body)


def unknown_names(n: int) -> str:
    """Conditions reading names close to many form fields' (each needs a "did you mean")."""
    body = ['<bpmn:startEvent id="S" /><bpmn:exclusiveGateway id="Split" default="d" />'
            '<bpmn:exclusiveGateway id="Join" /><bpmn:endEvent id="E" />'
            '<bpmn:sequenceFlow id="a" sourceRef="S" targetRef="Split" />'
            '<bpmn:sequenceFlow id="b" sourceRef="Join" targetRef="E" />'
            '<bpmn:sequenceFlow id="d" sourceRef="Split" targetRef="Join" />']
    refs = []
    for i in range(n):
        condition = " and ".join(f"campo_largx_{i}_{j}_zz == 1" for j in range(8))
        body.append(f'<bpmn:userTask id="T{i}">{_form(i, 3)}</bpmn:userTask>'
                    f'<bpmn:sequenceFlow id="F{i}" sourceRef="Split" targetRef="T{i}">'
                    f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>'
                    f'</bpmn:sequenceFlow><bpmn:sequenceFlow id="G{i}" sourceRef="T{i}" '
                    'targetRef="Join" />')
        refs.append(f"T{i}")
    return _process(refs, body)


def subprocesses(n: int) -> str:
    """Many subprocesses side by side, each a process of its own for the engine."""
    body = ['<bpmn:startEvent id="S" /><bpmn:parallelGateway id="Split" />'
            '<bpmn:parallelGateway id="Join" /><bpmn:endEvent id="E" />'
            '<bpmn:sequenceFlow id="a" sourceRef="S" targetRef="Split" />'
            '<bpmn:sequenceFlow id="b" sourceRef="Join" targetRef="E" />']
    for i in range(n):
        body.append(f'<bpmn:subProcess id="P{i}"><bpmn:startEvent id="PS{i}" />'
                    f'<bpmn:endEvent id="PE{i}" /><bpmn:sequenceFlow id="PF{i}" '
                    f'sourceRef="PS{i}" targetRef="PE{i}" /></bpmn:subProcess>'
                    f'<bpmn:sequenceFlow id="F{i}" sourceRef="Split" targetRef="P{i}" />'
                    f'<bpmn:sequenceFlow id="G{i}" sourceRef="P{i}" targetRef="Join" />')
    return _process([], body)


def nested_subprocesses(n: int) -> str:
    """Subprocesses inside subprocesses, as deep as the file allows."""
    inner = '<bpmn:startEvent id="IS" /><bpmn:endEvent id="IE" />' \
            '<bpmn:sequenceFlow id="IF" sourceRef="IS" targetRef="IE" />'
    for i in range(n):
        inner = (f'<bpmn:startEvent id="S{i}" /><bpmn:subProcess id="P{i}">{inner}'
                 f'</bpmn:subProcess><bpmn:endEvent id="E{i}" />'
                 f'<bpmn:sequenceFlow id="A{i}" sourceRef="S{i}" targetRef="P{i}" />'
                 f'<bpmn:sequenceFlow id="B{i}" sourceRef="P{i}" targetRef="E{i}" />')
    return _process([], [inner])


def timers(n: int) -> str:
    """Many timer events with computed durations, one after another."""
    body, previous = ['<bpmn:startEvent id="S" /><bpmn:endEvent id="E" />'], "S"
    for i in range(n):
        body.append(f'<bpmn:intermediateCatchEvent id="W{i}"><bpmn:timerEventDefinition '
                    f'id="WD{i}"><bpmn:timeDuration>\'PT\' + str(len(priority) + {i}) + \'M\''
                    '</bpmn:timeDuration></bpmn:timerEventDefinition>'
                    f'</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="F{i}" '
                    f'sourceRef="{previous}" targetRef="W{i}" />')
        previous = f"W{i}"
    body.append(f'<bpmn:sequenceFlow id="FE" sourceRef="{previous}" targetRef="E" />')
    return _process([], body)


def references(n: int) -> str:
    """Crafted references that would be XPath for the engine's parser."""
    payload = "x' or count(//*[count(//*[count(//*[count(//*)&gt;0])&gt;0])&gt;0])&gt;0 or 'a'='b"
    body = ['<bpmn:startEvent id="S" /><bpmn:endEvent id="E" />'
            '<bpmn:sequenceFlow id="F" sourceRef="S" targetRef="T" />'
            '<bpmn:sequenceFlow id="G" sourceRef="T" targetRef="E" />'
            '<bpmn:userTask id="T">' + HANDLER]
    for i in range(n):
        body.append(f'<bpmn:dataInputAssociation id="A{i}"><bpmn:sourceRef>{payload}'
                    '</bpmn:sourceRef><bpmn:targetRef>t</bpmn:targetRef>'
                    '</bpmn:dataInputAssociation>')
    body.append("</bpmn:userTask>")
    return _process(["T"], body)


BUILDERS = {
    "chain": chain, "starts": starts, "parallel_fan": parallel_fan,
    "gateway_chain": gateway_chain, "form_gateways": form_gateways,
    "unknown_names": unknown_names, "subprocesses": subprocesses,
    "nested_subprocesses": nested_subprocesses, "timers": timers, "references": references,
}


def largest(name: str, max_bytes: int) -> str:
    """The largest diagram of shape ``name`` validation can be asked to check."""
    return _grow(BUILDERS[name], max_bytes)


SHAPES = sorted(BUILDERS)
