"""Diagrams carrying Python, scripts, DOCTYPEs or entities are refused with a clear error."""

import pytest

from app.engine.runner import EngineError, Instance
from app.engine.specs import compile_process
from app.engine.xml import DiagramError
from app.extensions import db
from app.handlers.operations import OPERATIONS
from app.handlers.registry import TASK_HANDLERS
from app.models import ProcessDefinition, Tenant
from app.services import definitions
from app.services.definitions import default_diagram

PAYLOAD = "__import__('os').system('touch /tmp/mesa-pwned')"
SPIFF = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'


def compile_xml(xml):
    return compile_process(xml, set(TASK_HANDLERS), set(OPERATIONS))


def problems_of(xml) -> list:
    with pytest.raises(DiagramError) as info:
        compile_xml(xml)
    return info.value.problems


def test_default_diagram_is_accepted():
    assert compile_xml(default_diagram()).process_id == "service_request"


def test_python_in_a_condition_is_refused():
    xml = default_diagram().replace("decision == 'authorize'", PAYLOAD, 1)
    problems = problems_of(xml)
    assert any(eid and eid.startswith("Flow_") and "condition" in msg for eid, msg in problems)


@pytest.mark.parametrize("expression", [
    "().__class__.__base__.__subclasses__()",
    "[c for c in range(3)]",
    "(lambda: 1)()",
    "open('/etc/passwd').read()",
    "decision.__class__",
])
def test_escapes_in_a_condition_are_refused(expression):
    xml = default_diagram().replace("decision == 'authorize'", expression, 1)
    assert problems_of(xml)


def test_python_in_a_timer_is_refused():
    xml = default_diagram().replace(">authorization_reminder_after<", f">{PAYLOAD}<", 1)
    assert any(eid == "Timer_AuthorizationReminder" and "timer" in msg
               for eid, msg in problems_of(xml))


def test_python_in_a_service_parameter_is_refused():
    xml = default_diagram().replace("value=\"'Task_Authorize'\"",
                                    'value="__import__(&quot;os&quot;)"', 1)
    assert any(eid == "Service_SendReminder" for eid, _ in problems_of(xml))


def test_script_task_is_refused():
    xml = default_diagram().replace(
        '<bpmn:serviceTask id="Service_MarkRejected"', '<bpmn:scriptTask id="Service_MarkRejected"'
    ).replace("</bpmn:serviceTask>\n    <bpmn:endEvent id=\"End_Rejected\"",
              "</bpmn:scriptTask>\n    <bpmn:endEvent id=\"End_Rejected\"")
    # Whatever the closing tag, a scriptTask element anywhere is refused.
    xml = xml.replace('<bpmn:userTask id="Task_Confirm"',
                      f'<bpmn:scriptTask id="Evil"><bpmn:script>{PAYLOAD}</bpmn:script>'
                      '</bpmn:scriptTask><bpmn:userTask id="Task_Confirm"', 1)
    assert any(eid == "Evil" and "script" in msg for eid, msg in problems_of(xml))


def test_pre_and_post_scripts_are_refused():
    for tag in ("preScript", "postScript"):
        xml = default_diagram().replace(
            '<spiffworkflow:property name="handlers" value="authorize" />',
            f'<spiffworkflow:property name="handlers" value="authorize" />'
            f'</spiffworkflow:properties><spiffworkflow:{tag}>{PAYLOAD}</spiffworkflow:{tag}>'
            '<spiffworkflow:properties>', 1)
        assert ("Task_Authorize", "scripts are not allowed in a diagram") in problems_of(xml)


def test_unknown_handler_and_operation_are_refused():
    xml = default_diagram().replace('value="authorize" />', 'value="format_disk" />', 1)
    assert any("unknown handler 'format_disk'" in msg for _, msg in problems_of(xml))
    xml = default_diagram().replace('serviceTaskOperator id="send_reminder"',
                                    'serviceTaskOperator id="os_system"', 1)
    assert any("unknown service operation" in msg for _, msg in problems_of(xml))


DOCTYPE = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'


def test_doctype_and_external_entity_are_refused():
    body = default_diagram().split("?>", 1)[1].encode()
    body = body.replace(b'name="Autorizar solicitud"', b'name="&e;"', 1)
    problems = problems_of(DOCTYPE + body)
    assert problems == [(None, "DOCTYPE and entity declarations are not allowed")]


def test_billion_laughs_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<definitions>&lol2;</definitions>')
    assert problems_of(bomb)


def test_oversize_and_non_bpmn_files_are_refused():
    with pytest.raises(DiagramError):
        compile_process(default_diagram(), set(TASK_HANDLERS), set(OPERATIONS), max_bytes=1000)
    assert problems_of(b"<html><body>hi</body></html>")
    assert problems_of(b"not xml at all")


def test_runtime_evaluation_never_runs_python():
    """Even a diagram that bypassed the checks cannot run Python: the engine refuses."""
    compiled = compile_xml(default_diagram())
    # A timer's value is data, never code: Python text there is refused as a duration.
    with pytest.raises(EngineError):
        Instance.start(compiled, {"requester_is_head": False,
                                  "authorization_reminder_after": PAYLOAD,
                                  "auto_close_after": "P7D"}, lambda *a: {})
    instance = Instance.start(compiled, {"requester_is_head": False,
                                         "authorization_reminder_after": "PT1H",
                                         "auto_close_after": "P7D"}, lambda *a: {})
    engine = instance.workflow.script_engine
    task = instance.workflow.get_tasks()[0]
    with pytest.raises(Exception) as info:
        engine.evaluate(task, PAYLOAD)
    assert "only len" in str(info.value)
    with pytest.raises(Exception) as info:
        engine.execute(task, "x = 1")
    assert "scripts are not allowed" in str(info.value)
    import os
    assert not os.path.exists("/tmp/mesa-pwned")


def test_a_refused_diagram_deploys_nothing(app):
    tenant = Tenant(slug="t1", name="T1")
    db.session.add(tenant)
    db.session.commit()
    bad = default_diagram().replace("decision == 'authorize'", PAYLOAD, 1)
    with pytest.raises(DiagramError):
        definitions.deploy(tenant.id, bad)
    db.session.rollback()
    assert db.session.query(ProcessDefinition).filter_by(tenant_id=tenant.id).count() == 0
