"""The kind of work in a diagram: read from the process element only, checked by the same
validation as every diagram, written by ``with_kind`` (the tests' helper to deploy one)."""

import pytest
from lxml import etree

from app.engine.specs import compile_process
from app.engine.xml import DiagramError
from app.handlers.registry import OPERATIONS, TASK_HANDLERS
from app.kinds import KINDS
from app.kinds.diagram import kind_of_xml, with_kind
from app.services import definitions


def _compile(xml):
    return compile_process(xml, handler_names=set(TASK_HANDLERS),
                           operation_names=set(OPERATIONS))


def test_absent_is_request_and_each_kind_round_trips(app):
    xml = definitions.default_diagram()
    assert kind_of_xml(xml) == "request"
    for kind in KINDS:
        written = with_kind(xml, kind)
        assert kind_of_xml(written) == kind
        _compile(written)  # passes the validation every diagram passes
    # request is the absence of the property: nothing left behind
    assert 'name="kind"' not in with_kind(with_kind(xml, "change"), "request")


def test_an_unknown_kind_is_refused_on_the_process_element(app):
    xml = with_kind(definitions.default_diagram(), "incident").replace(
        'value="incident"', 'value="incidente"')
    with pytest.raises(DiagramError) as refused:
        _compile(xml)
    problems = refused.value.problems
    assert ("service_request", "the process's kind of work 'incidente' is not a kind; it must "
                               "be one of request, incident, change, security_incident") in problems


def test_two_kinds_on_one_process_are_refused(app):
    xml = with_kind(definitions.default_diagram(), "incident").replace(
        '<spiffworkflow:property name="kind" value="incident"/>',
        '<spiffworkflow:property name="kind" value="incident"/>'
        '<spiffworkflow:property name="kind" value="change"/>')
    with pytest.raises(DiagramError) as refused:
        _compile(xml)
    assert ("service_request", "the process names its kind more than once") \
        in refused.value.problems


def test_a_tasks_property_called_kind_is_not_the_process_kind(app):
    xml = definitions.default_diagram().replace(
        '<spiffworkflow:property name="handlers" value="authorize" />',
        '<spiffworkflow:property name="handlers" value="authorize" />'
        '<spiffworkflow:property name="kind" value="x" />', 1)
    assert 'value="x"' in xml
    assert kind_of_xml(xml) == "request"


def test_with_kind_keeps_the_rest_of_the_diagram(app):
    xml = definitions.default_diagram()
    written = with_kind(xml, "security_incident")
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    before = etree.fromstring(xml.encode())
    after = etree.fromstring(written.encode())
    assert len(before.xpath("//bpmn:*", namespaces=ns)) + 1 == \
        len(after.xpath("//bpmn:*", namespaces=ns))  # one extensionElements more
    with pytest.raises(ValueError):
        with_kind(xml, "bogus")
