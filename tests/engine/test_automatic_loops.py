"""A loop of sequence flows through automatic steps only is refused at deploy (the engine would
go round it up to its step limit in one go, evaluating its conditions each time); a loop that
passes a step that waits (a person, a timer) is fine."""

import pytest

from app.services.definitions import default_diagram
from tests.engine.compiling import compile_xml, problems_of

LOOP = "loop with no user task or timer"


def _back_to(source: str, target: str, condition: str = "priority == 'low'") -> str:
    """The default diagram with one more flow, from ``source`` back to ``target``."""
    return default_diagram().replace("</bpmn:process>", (
        f'<bpmn:sequenceFlow id="Flow_Back" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow></bpmn:process>"), 1)


@pytest.mark.parametrize("xml", [
    # a gateway looping on itself
    _back_to("Gateway_NeedsAuthorization", "Gateway_NeedsAuthorization"),
    # through a service task and a gateway
    _back_to("Service_MarkRejected", "Gateway_MergeRejected"),
    # two gateways feeding each other
    _back_to("Gateway_MergeEvaluate", "Gateway_NeedsAuthorization"),
], ids=["self", "service task", "two gateways"])
def test_loops_through_automatic_steps_only_are_refused(xml):
    assert any(LOOP in msg for _, msg in problems_of(xml))


def test_a_loop_inside_a_subprocess_without_waits_is_refused():
    sub = ('<bpmn:subProcess id="Sub"><bpmn:startEvent id="SubStart"/>'
           '<bpmn:exclusiveGateway id="SubGate" default="SubOut"/><bpmn:endEvent id="SubEnd"/>'
           '<bpmn:sequenceFlow id="S1" sourceRef="SubStart" targetRef="SubGate"/>'
           '<bpmn:sequenceFlow id="SubOut" sourceRef="SubGate" targetRef="SubEnd"/>'
           '<bpmn:sequenceFlow id="S2" sourceRef="SubGate" targetRef="SubGate">'
           "<bpmn:conditionExpression>priority == 'low'</bpmn:conditionExpression>"
           "</bpmn:sequenceFlow></bpmn:subProcess>")
    xml = default_diagram().replace("</bpmn:process>", sub + "</bpmn:process>", 1)
    assert any(LOOP in msg for _, msg in problems_of(xml))


@pytest.mark.parametrize("source,target", [
    ("Gateway_Authorized", "Task_Authorize"),     # back to a person: waits each time round
    ("Gateway_WorkOutcome", "Task_Work"),
])
def test_loops_through_a_step_that_waits_are_accepted(source, target):
    compile_xml(_back_to(source, target))


def test_the_default_diagram_has_loops_only_through_people():
    compile_xml(default_diagram())


def test_automatic_steps_stop_at_their_cpu_budget(monkeypatch):
    """A version deployed before the loop check, with costly conditions on its loop: the
    engine call stops at STEP_CPU_SECONDS (an incident for the host), not after minutes."""
    import time

    from app.engine import runner, validation
    from app.engine.runner import Instance, StepFailed

    heavy = "not (" + " or ".join(['"b" in ["a"] * 49000'] * 4) + ")"  # true: round again
    xml = _back_to("Gateway_NeedsAuthorization", "Gateway_NeedsAuthorization", heavy)
    monkeypatch.setattr(validation, "_check_loops", lambda problems, process: None)
    compiled = compile_xml(xml)
    monkeypatch.setattr(runner.budget, "cpu_seconds", 0.3)
    start = {"requester_is_head": False, "priority": "normal",
             "authorization_reminder_after": "PT48H", "auto_close_after": "P7D"}
    started = time.thread_time()
    with pytest.raises(StepFailed, match="took more than 0.3 s") as failed:
        Instance.start(compiled, start, lambda *args: {})
    assert failed.value.element_id == "Gateway_NeedsAuthorization"
    assert time.thread_time() - started < 3  # stopped at the budget, not at 500 passes


def _with_review_loop(characteristics: str, around_subprocess: str | None = None) -> str:
    """The default diagram with a multi-instance on the authorization (and, with
    ``around_subprocess``, that task inside a subprocess with these characteristics)."""
    xml = default_diagram()
    marker = '<bpmn:userTask id="Task_Authorize" name="Autorizar solicitud">'
    xml = xml.replace(marker, marker + characteristics, 1)
    if around_subprocess is not None:
        task = xml[xml.index(marker):]
        task = task[:task.index("</bpmn:userTask>") + len("</bpmn:userTask>")]
        xml = xml.replace(task, '<bpmn:subProcess id="Sub">' + around_subprocess
                          + '<bpmn:startEvent id="SubStart"/>' + task.replace(
                              'id="Task_Authorize"', 'id="Task_Inner"')
                          + "</bpmn:subProcess>" + task, 1)
    return xml


MI = ('<bpmn:multiInstanceLoopCharacteristics>{}</bpmn:multiInstanceLoopCharacteristics>')


@pytest.mark.parametrize("inner,message", [
    ("<bpmn:loopDataInputRef>notes</bpmn:loopDataInputRef>", "over a collection"),
    ("<bpmn:loopCardinality>3</bpmn:loopCardinality>"
     "<bpmn:inputDataItem id='item'/>", "over a collection"),
    ("", "needs a number of instances"),
    ("<bpmn:loopCardinality>1000</bpmn:loopCardinality>", "from 0 to 100"),
])
def test_multi_instance_steps_must_be_counted_and_bounded(app, inner, message):
    from app.engine.xml import DiagramError
    from app.services import definitions

    xml = _with_review_loop(MI.format(inner))
    with app.test_request_context(), pytest.raises(DiagramError) as refused:
        definitions.compile_xml(xml)
    assert any(message in msg for _, msg in refused.value.problems), refused.value.problems


def test_multi_instance_steps_cannot_be_nested():
    counted = MI.format("<bpmn:loopCardinality>10</bpmn:loopCardinality>")
    xml = _with_review_loop(counted, around_subprocess=counted)
    assert any("cannot be nested" in msg for _, msg in problems_of(xml))
