"""Forms defined in the diagram: parsing, every validation problem by element, the engine walk."""

from datetime import date
from decimal import Decimal

import pytest

from app.engine.forms import RESERVED_NAMES, FieldSpec, OptionSpec
from app.engine.runner import Instance
from app.engine.specs import SpecCache, checksum_of
from app.handlers.operations import OPERATIONS
from app.handlers.registry import TASK_HANDLERS
from tests.engine.compiling import compile_xml, problems_of
from tests.form_diagrams import with_fields, with_review

START = {
    "authorization_reminder_after": "PT48H",
    "auto_close_after": "P7D",
    "priority": "normal",
    "requester_is_head": False,
}


def assert_problem(xml, element_id, *words):
    problems = problems_of(xml)
    assert any(eid == element_id and all(w in msg for w in words) for eid, msg in problems), (
        problems
    )


def test_a_form_is_parsed_into_frozen_specs():
    compiled = compile_xml(with_review())
    form = compiled.forms["Task_Review"]
    assert [f.name for f in form.fields] == ["reason", "hours", "when", "job_kind", "ok", "notes"]
    assert form.field("reason") == FieldSpec(
        name="reason", type="text", label="Motivo", required=True, min_length=3, max_length=200
    )
    hours = form.field("hours")
    assert (hours.type, hours.minimum, hours.maximum) == ("number", Decimal(0), Decimal(40))
    when = form.field("when")
    assert (when.minimum, when.maximum) == (date(2026, 1, 1), date(2027, 12, 31))
    kind = form.field("job_kind")
    assert kind.options == (OptionSpec("a", "Opción A"), OptionSpec("b", "Opción B"))
    assert kind.option_label("b") == "Opción B"
    assert form.field("ok").required is False
    assert form.field("notes").label == "Notas <b>internas</b>"
    assert form.field("notes").max_length == 4000
    with pytest.raises(AttributeError):
        form.field("ok").required = True  # frozen


def test_default_lengths_of_text_fields():
    form = compile_xml(
        with_fields(
            '<mesa:field name="a" type="text" label="A"/>',
            '<mesa:field name="b" type="longtext" label="B"/>',
        )
    ).forms["Task_Review"]
    assert (form.field("a").max_length, form.field("b").max_length) == (200, 4000)


def test_empty_optional_attributes_count_as_absent():
    form = compile_xml(
        with_fields(
            '<mesa:field name="a" type="text" label="A" required="" minLength="" maxLength=" "/>',
            '<mesa:field name="b" type="number" label="B" min="" max=""/>',
        )
    ).forms["Task_Review"]
    assert form.field("a") == FieldSpec(name="a", type="text", label="A", max_length=200)
    assert (form.field("b").minimum, form.field("b").maximum) == (None, None)


def test_the_cache_keeps_the_forms():
    xml = with_review()
    cache = SpecCache()
    first = cache.get(xml, checksum_of(xml), set(TASK_HANDLERS), set(OPERATIONS))
    again = cache.get(xml, checksum_of(xml), set(TASK_HANDLERS), set(OPERATIONS))
    assert again is first and "Task_Review" in again.forms


def test_the_default_diagram_has_no_forms():
    from app.services.definitions import default_diagram

    assert compile_xml(default_diagram()).forms == {}


@pytest.mark.parametrize(
    "field,words",
    [
        ('<mesa:field type="text" label="A"/>', ["has no name"]),
        ('<mesa:field name="Hours" type="text" label="A"/>', ["'Hours'", "lower-case"]),
        ('<mesa:field name="2x" type="text" label="A"/>', ["'2x'", "lower-case"]),
        ('<mesa:field name="a-b" type="text" label="A"/>', ["'a-b'", "lower-case"]),
        ('<mesa:field name="decision" type="text" label="A"/>', ["'decision'", "reserved"]),
        ('<mesa:field name="requester_is_head" type="boolean" label="A"/>', ["reserved"]),
        ('<mesa:field name="class" type="text" label="A"/>', ["'class'", "reserved"]),
        ('<mesa:field name="len" type="number" label="A"/>', ["'len'", "reserved"]),
        ('<mesa:field name="kind" type="text" label="A"/>', ["'kind'", "reserved"]),
        ('<mesa:field name="ticket" type="text" label="A"/>', ["'ticket'", "service task"]),
        ('<mesa:field name="a" label="A"/>', ["'a'", "no type"]),
        ('<mesa:field name="a" type="money" label="A"/>', ["'a'", "unknown type 'money'"]),
        ('<mesa:field name="a" type="text"/>', ["'a'", "no label"]),
        ('<mesa:field name="a" type="text" label="  "/>', ["'a'", "no label"]),
        ('<mesa:field name="a" type="text" label="A" required="yes"/>', ["required", "'yes'"]),
        ('<mesa:field name="a" type="text" label="A" placeholder="x"/>', ["'placeholder'"]),
        ('<mesa:field name="a" type="text" label="A" min="1"/>', ["'min'", "text field"]),
        ('<mesa:field name="a" type="number" label="A" maxLength="9"/>', ["'maxLength'"]),
        ('<mesa:field name="a" type="text" label="A" maxLength="many"/>', ["maxLength"]),
        ('<mesa:field name="a" type="text" label="A" maxLength="-1"/>', ["maxLength"]),
        ('<mesa:field name="a" type="text" label="A" maxLength="0"/>', ["maxLength"]),
        ('<mesa:field name="a" type="text" label="A" maxLength="5000"/>', ["maxLength", "1000"]),
        (
            '<mesa:field name="a" type="text" label="A" minLength="9" maxLength="3"/>',
            ["minLength (9) is greater than maxLength (3)"],
        ),
        ('<mesa:field name="a" type="text" label="A" minLength="300"/>', ["minLength (300)"]),
        ('<mesa:field name="a" type="number" label="A" min="5" max="1"/>', ["min (5)", "max (1)"]),
        ('<mesa:field name="a" type="number" label="A" min="ten"/>', ["min", "'ten'"]),
        ('<mesa:field name="a" type="number" label="A" max="NaN"/>', ["max", "'NaN'"]),
        ('<mesa:field name="a" type="number" label="A" max="1e999"/>', ["max", "'1e999'"]),
        ('<mesa:field name="a" type="number" label="A" max="1' + "0" * 20 + '"/>', ["range"]),
        ('<mesa:field name="a" type="date" label="A" min="01/02/2026"/>', ["min", "YYYY-MM-DD"]),
        ('<mesa:field name="a" type="date" label="A" max="2026-02-30"/>', ["max", "YYYY-MM-DD"]),
        (
            '<mesa:field name="a" type="date" label="A" min="2027-01-01" max="2026-01-01"/>',
            ["min (2027-01-01) is greater than max (2026-01-01)"],
        ),
        ('<mesa:field name="a" type="choice" label="A"/>', ["at least one <mesa:option>"]),
        (
            '<mesa:field name="a" type="choice" label="A"><mesa:option label="X"/></mesa:field>',
            ["option has no value"],
        ),
        (
            '<mesa:field name="a" type="choice" label="A"><mesa:option value="x"/>'
            '<mesa:option value="x"/></mesa:field>',
            ["'x' appears more than once"],
        ),
        (
            '<mesa:field name="a" type="choice" label="A"><mesa:option value="x" colour="red"/>'
            "</mesa:field>",
            ["'colour'"],
        ),
        (
            '<mesa:field name="a" type="text" label="A"><mesa:option value="x"/></mesa:field>',
            ["options apply only to choice"],
        ),
        (
            '<mesa:field name="a" type="choice" label="A"><mesa:choice value="x"/></mesa:field>',
            ["unexpected element <choice>"],
        ),
    ],
)
def test_each_field_problem_names_the_task(field, words):
    assert_problem(with_fields(field), "Task_Review", *words)


def test_duplicate_field_names():
    xml = with_fields(
        '<mesa:field name="a" type="text" label="A"/>',
        '<mesa:field name="a" type="number" label="B"/>',
    )
    assert_problem(xml, "Task_Review", "'a' appears more than once")


def test_an_empty_form():
    assert_problem(with_fields(), "Task_Review", "the form has no fields")


def test_too_many_fields():
    many = [f'<mesa:field name="f{i}" type="text" label="F"/>' for i in range(51)]
    assert_problem(with_fields(*many), "Task_Review", "more than 50 fields")


def test_unknown_elements_and_attributes_in_the_form():
    xml = with_review('<mesa:form layout="wide"><mesa:section/></mesa:form>')
    problems = problems_of(xml)
    assert ("Task_Review", "unknown attribute 'layout' on the form") in problems
    assert any(eid == "Task_Review" and "<section>" in msg for eid, msg in problems)


def test_two_forms_in_one_task():
    field = '<mesa:field name="a" type="text" label="A"/>'
    form = f"<mesa:form>{field}</mesa:form>"
    assert_problem(with_review(form + form), "Task_Review", "more than one form")


def test_a_form_outside_a_user_task():
    xml = with_review().replace(
        '<spiffworkflow:serviceTaskOperator id="create_ticket"',
        '<mesa:form><mesa:field name="a" type="text" label="A"/></mesa:form>'
        '<spiffworkflow:serviceTaskOperator id="create_ticket"',
        1,
    )
    assert_problem(xml, "Service_CreateTicket", "user task")


def test_a_stray_field_and_an_unknown_mesa_element():
    xml = with_review().replace(
        '<spiffworkflow:property name="handlers" value="evaluate" />',
        '<spiffworkflow:property name="handlers" value="evaluate" />'
        "</spiffworkflow:properties><mesa:widget/>"
        '<mesa:field name="a" type="text" label="A"/><spiffworkflow:properties>',
        1,
    )
    problems = problems_of(xml)
    assert any(eid == "Task_Evaluate" and "<mesa:widget>" in msg for eid, msg in problems)
    assert any(eid == "Task_Evaluate" and "outside a <mesa:form>" in msg for eid, msg in problems)


def test_every_problem_is_listed_at_once():
    xml = with_fields(
        '<mesa:field name="Bad" type="text" label="A"/>',
        '<mesa:field name="b" type="number" label="B" min="9" max="1"/>',
        '<mesa:field name="c" type="choice" label="C"/>',
    )
    problems = [msg for eid, msg in problems_of(xml) if eid == "Task_Review"]
    assert len(problems) == 3, problems


# The rule for user tasks: a known handler, or a form.


def test_a_user_task_with_neither_handler_nor_form():
    xml = with_review(form="")
    assert ("Task_Review", "the user task names no handler and has no form") in problems_of(xml)


def test_a_form_and_no_handler_is_accepted():
    assert "Task_Review" in compile_xml(with_review()).forms


def test_a_form_with_the_form_handler_named_is_accepted():
    extra = '<spiffworkflow:properties><spiffworkflow:property name="handlers" value="form" />'
    extra += "</spiffworkflow:properties>"
    assert "Task_Review" in compile_xml(with_review(extra=extra)).forms


def test_the_form_handler_without_a_form():
    extra = '<spiffworkflow:properties><spiffworkflow:property name="handlers" value="form" />'
    extra += "</spiffworkflow:properties>"
    assert_problem(with_review(form="", extra=extra), "Task_Review", "needs a <mesa:form>")


def test_an_unknown_handler_stays_a_problem_even_with_a_form():
    extra = '<spiffworkflow:properties><spiffworkflow:property name="handlers" value="magic" />'
    extra += "</spiffworkflow:properties>"
    assert_problem(with_review(extra=extra), "Task_Review", "unknown handler 'magic'")


def test_a_form_and_a_handler_together_are_refused():
    extra = '<spiffworkflow:properties><spiffworkflow:property name="handlers" '
    extra += 'value="authorize" /></spiffworkflow:properties>'
    assert_problem(with_review(extra=extra), "Task_Review", "both a form", "'authorize'")


def test_reserved_names_cover_keywords_functions_and_request_names():
    for name in ("if", "lambda", "min", "round", "kind", "handler", "csrf_token", "decision"):
        assert name in RESERVED_NAMES


# The engine: the ready task exposes its form, and the answers route the gateway.


def _walk_to_review():
    compiled = compile_xml(with_review())
    instance = Instance.start(compiled, START, lambda *a: {"ok": True})
    (task,) = instance.ready_tasks()
    return compiled, instance, task


def test_the_ready_task_exposes_its_form_and_the_form_kind():
    compiled, _, task = _walk_to_review()
    assert task.spec_id == "Task_Review"
    assert task.form is compiled.forms["Task_Review"]
    assert task.handlers == ["form"]
    assert task.properties == {}


def test_tasks_without_a_form_expose_none():
    compiled = compile_xml(with_review())
    instance = Instance.start(compiled, {**START, "requester_is_head": True}, lambda *a: {})
    (task,) = instance.ready_tasks()
    assert (task.spec_id, task.form, task.handlers) == ("Task_Evaluate", None, ["evaluate"])


@pytest.mark.parametrize("hours,next_step", [(10, "Task_Authorize"), (8, "Task_Evaluate")])
def test_a_gateway_routes_on_a_form_value(hours, next_step):
    compiled, instance, task = _walk_to_review()
    state = instance.dump()
    restored = Instance.restore(compiled, state, lambda *a: {"ok": True})
    restored.complete(task.uuid, {"reason": "x", "hours": hours, "ok": None})
    assert [t.spec_id for t in restored.ready_tasks()] == [next_step]
    again = Instance.restore(compiled, restored.dump(), lambda *a: {"ok": True})
    assert [t.spec_id for t in again.ready_tasks()] == [next_step]
