"""Deploy evaluates every expression on the data each path can bring it (engine.pathdata): a
condition that would fail at run time for some request is refused, with the data it fails on."""

import pytest

from app.engine.xml import DiagramError
from app.services import definitions
from app.services.definitions import default_diagram
from tests.form_diagrams import with_fields

NUMBER = '<mesa:field name="hours" type="number" label="Horas" required="true" min="0" max="40"/>'
OPTIONAL_NUMBER = '<mesa:field name="hours" type="number" label="Horas" min="1" max="40"/>'
CHOICE = ('<mesa:field name="job" type="choice" label="Tipo" required="true">'
          '<mesa:option value="a" label="A"/><mesa:option value="b" label="B"/></mesa:field>')
OPTIONAL_CHOICE = CHOICE.replace(' required="true"', "")
TEXT = '<mesa:field name="note" type="text" label="Nota"/>'


@pytest.fixture(autouse=True)
def _context(app):
    with app.test_request_context():
        yield


def problems(xml: str) -> list[tuple]:
    try:
        definitions.compile_xml(xml)
    except DiagramError as exc:
        return exc.problems
    return []


def messages(xml: str, element: str = "Flow_BigJob") -> list[str]:
    return [msg for eid, msg in problems(xml) if eid == element]


def test_the_default_diagram_and_safe_conditions_pass():
    assert problems(default_diagram()) == []
    assert problems(with_fields(NUMBER, condition="hours > 8")) == []
    assert problems(with_fields(OPTIONAL_NUMBER,
                                condition="hours is not None and hours > 8")) == []
    assert problems(with_fields(NUMBER, condition="hours != 0 and 100 / hours > 2")) == []


@pytest.mark.parametrize("condition,fails_on", [
    ("100 / hours > 2", "hours = 0"),
    ("100 // hours > 2", "hours = 0"),
    ("100 % hours == 1", "hours = 0"),
    ("hours / (hours - 40) > 1", "hours = 40"),
])
def test_a_division_by_a_value_a_form_allows_is_refused(condition, fails_on):
    found = messages(with_fields(NUMBER, condition=condition))
    assert any("fails when" in m and fails_on in m for m in found), found


@pytest.mark.parametrize("fields,condition,fails_on", [
    ((OPTIONAL_NUMBER,), "hours > 8", "hours = None"),
    ((OPTIONAL_NUMBER,), "hours + 1 > 8", "hours = None"),
    ((OPTIONAL_CHOICE,), "len(job) > 0", "job = None"),
    ((TEXT,), "note[0] == 'x'", "note = ''"),
    ((NUMBER,), "priority > hours", "hours = 0"),
])
def test_an_answer_a_form_may_leave_empty_or_a_type_mismatch_is_refused(fields, condition,
                                                                       fails_on):
    found = messages(with_fields(*fields, condition=condition))
    assert any("fails when" in m and fails_on in m for m in found), found


def test_a_name_not_yet_set_on_the_path_is_refused():
    """``decision`` is written by the authorization, which comes after the review."""
    found = messages(with_fields(NUMBER, condition="decision == 'authorize'"))
    assert any("'decision' is not set" in m and "Task_Review" in m for m in found), found


def test_a_name_read_before_any_step_writes_it():
    xml = default_diagram().replace("requester_is_head == True", "decision == 'authorize'", 1)
    found = [m for _, m in problems(xml)]
    assert any("'decision' is not set when the request is filed" in m for m in found), found


def test_a_gateway_without_default_that_some_answer_leaves_stuck():
    xml = with_fields(CHOICE, condition="job == 'a'").replace(
        ' default="Flow_SmallJob"', "", 1).replace(
        '<bpmn:sequenceFlow id="Flow_SmallJob" sourceRef="Gateway_Hours" '
        'targetRef="Gateway_MergeEvaluate" />',
        '<bpmn:sequenceFlow id="Flow_SmallJob" sourceRef="Gateway_Hours" '
        'targetRef="Gateway_MergeEvaluate"><bpmn:conditionExpression>job == None'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>", 1)
    found = [m for eid, m in problems(xml) if eid == "Gateway_Hours"]
    assert any("no outgoing flow's condition holds when job = 'b'" in m for m in found), \
        problems(xml)


def test_a_gateway_routing_every_answer_needs_no_default():
    xml = with_fields(CHOICE, condition="job == 'a'").replace(
        ' default="Flow_SmallJob"', "", 1).replace(
        '<bpmn:sequenceFlow id="Flow_SmallJob" sourceRef="Gateway_Hours" '
        'targetRef="Gateway_MergeEvaluate" />',
        '<bpmn:sequenceFlow id="Flow_SmallJob" sourceRef="Gateway_Hours" '
        'targetRef="Gateway_MergeEvaluate"><bpmn:conditionExpression>job == \'b\''
        "</bpmn:conditionExpression></bpmn:sequenceFlow>", 1)
    assert problems(xml) == []


def _after_evaluation(condition: str, on_approved_branch: bool) -> str:
    """The default diagram with a condition on the flow leaving the viability decision."""
    xml = default_diagram()
    flow = "decision == 'approve'" if on_approved_branch else "decision == 'return'"
    assert flow in xml
    return xml.replace(flow, f"({flow}) and {condition}" if on_approved_branch else
                       f"({flow}) or {condition}", 1)


def test_the_walk_follows_the_decision_that_leads_to_a_branch():
    """``estimated_cost`` is None unless the director approved: reading it on the approved
    branch is fine, reading it where a rejection may arrive is not."""
    assert problems(_after_evaluation("estimated_cost >= 0", True)) == []
    found = [m for _, m in problems(_after_evaluation("estimated_cost > 1000", False))]
    assert any("estimated_cost = None" in m for m in found), found


@pytest.mark.parametrize("timer,message", [
    ("'PT' + str(hours * 10000) + 'H'", "longer than"),
    ("'PT' + str(hours) + 'X'", "not an ISO 8601 duration"),
    ("hours", "must be text"),
])
def test_a_computed_timer_is_checked_on_every_answer(timer, message):
    xml = with_fields(NUMBER, condition="hours > 8").replace(
        "<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">authorization_reminder_after",
        f"<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">{timer}", 1)
    found = [m for eid, m in problems(xml) if eid == "Timer_AuthorizationReminder"]
    assert any(message in m for m in found), problems(xml)


def test_a_service_parameter_that_fails_is_refused():
    xml = default_diagram().replace('value="\'Task_Authorize\'"',
                                    'value="\'Task_\' + priority[10]"', 1)
    found = [m for eid, m in problems(xml) if eid == "Service_SendReminder"]
    assert any("parameter 'step' fails" in m and "IndexError" in m for m in found), found


def test_each_problem_is_reported_once_per_element_at_most_twice():
    found = messages(with_fields(OPTIONAL_NUMBER, condition="hours > 8 and 100 / hours > 1"))
    assert 1 <= len(found) <= 2
