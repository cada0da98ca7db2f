"""A version deployed before a name became the host's keeps compiling: the change template's
first version asked for the window in a form of its own (fields ``window_start``,
``window_start_hour``, ``window_end``), names the ``schedule_window`` handler writes since.
New diagrams may not use them as field names; a company's stored version still runs."""

import pytest

from app.engine.specs import DiagramError, compile_process
from app.handlers.registry import OPERATIONS, TASK_HANDLERS
from app.services import definitions

HANDLER = '<spiffworkflow:property name="handlers" value="schedule_window" />'
OLD_FORM = (
    '<mesa:form><mesa:field name="window_start" type="date" label="Inicio de la ventana" '
    'required="true"/><mesa:field name="window_start_hour" type="choice" label="Hora (UTC)" '
    'required="true"><mesa:option value="09" label="09:00"/></mesa:field>'
    '<mesa:field name="window_end" type="date" label="Fin de la ventana" required="true"/>'
    '</mesa:form>')
OLD_TIMER = 'window_start + "T" + window_start_hour + ":00:00Z"'


def _with_form_on_schedule() -> str:
    xml = open("processes/change_request.bpmn", encoding="utf-8").read()
    start = xml.index('id="Task_Schedule"')
    props_end = xml.index("</spiffworkflow:properties>", start)
    xml = xml[:props_end].replace(HANDLER, "") + xml[props_end:]
    xml = xml[:start] + xml[start:].replace(
        "</spiffworkflow:properties></bpmn:extensionElements>",
        "</spiffworkflow:properties>" + OLD_FORM + "</bpmn:extensionElements>", 1)
    return xml.replace(">window_start_at<", f">{OLD_TIMER}<")


def test_the_stored_first_version_compiles_with_its_window_form(app):
    compiled = compile_process(_with_form_on_schedule(), set(TASK_HANDLERS), set(OPERATIONS))
    names = [f.name for f in compiled.forms["Task_Schedule"].fields]
    assert names == ["window_start", "window_start_hour", "window_end"]


def test_a_new_diagram_may_not_name_a_field_as_the_host_writes_it(app):
    with pytest.raises(DiagramError) as refused:
        definitions.compile_xml(_with_form_on_schedule())
    assert "window_start" in str(refused.value) and "reserved" in str(refused.value)
