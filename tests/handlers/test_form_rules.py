"""Diagram forms field by field: the limits, messages, hints and widgets each ``<mesa:field>``
becomes, the JSON schema the API publishes for it, and what reaches the task data and the
history. Built from FieldSpec directly, in English, on fixed dates."""

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from marshmallow import ValidationError

from app.engine.forms import NUMBER_LIMIT, FieldSpec, FormSpec, OptionSpec
from app.handlers.form import RADIO_MAX_OPTIONS, FormHandler, json_schema, schema_for

JAN, MAR, DEC = date(2026, 1, 1), date(2026, 3, 15), date(2027, 12, 31)


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(), force_locale("en"):
        yield


def form(*fields: FieldSpec) -> FormSpec:
    return FormSpec("Task_T", tuple(fields))


def number(**limits) -> FieldSpec:
    return FieldSpec("n", "number", "N", **limits)


def day(**limits) -> FieldSpec:
    return FieldSpec("d", "date", "D", **limits)


def choice(count: int, required: bool = True) -> FieldSpec:
    options = tuple(OptionSpec(f"o{i}", f"Option {i}") for i in range(count))
    return FieldSpec("c", "choice", "C", required=required, options=options)


def load(spec: FieldSpec, value) -> dict:
    return schema_for(form(spec))().load({spec.name: value})


def error(spec: FieldSpec, value) -> str:
    with pytest.raises(ValidationError) as refused:
        load(spec, value)
    (message,) = refused.value.messages[spec.name]
    return message


def field_meta(spec: FieldSpec) -> dict:
    return schema_for(form(spec))().fields[spec.name].metadata


def test_a_number_without_limits_stays_within_the_number_limit():
    spec = number()
    assert load(spec, str(NUMBER_LIMIT)) == {"n": NUMBER_LIMIT}
    assert load(spec, str(-NUMBER_LIMIT)) == {"n": -NUMBER_LIMIT}
    assert load(spec, "-5") == {"n": Decimal("-5")}
    assert error(spec, str(NUMBER_LIMIT + 1)) == "The number is too large."
    assert error(spec, str(-NUMBER_LIMIT - 1)) == "The number is too large."


def test_a_number_keeps_the_decimals_typed():
    # These rules run on an English page: a comma before three digits groups thousands there.
    assert load(number(), "2.125") == {"n": Decimal("2.125")}
    assert load(number(), "2,5") == {"n": Decimal("2.5")}
    assert load(number(), "2,125") == {"n": Decimal("2125")}


@pytest.mark.parametrize("spec,value,message", [
    (number(minimum=Decimal(0), maximum=Decimal(40)), "41", "Enter a number from 0 to 40."),
    (number(minimum=Decimal(0)), "-1", "Enter a number of at least 0."),
    (number(maximum=Decimal(40)), "41", "Enter a number of at most 40."),
    (day(minimum=JAN, maximum=DEC), "2025-12-31",
     "Choose a date from 1 Jan 2026 to 31 Dec 2027."),
    (day(minimum=MAR), "2026-03-14", "Choose a date on or after 15 Mar 2026."),
    (day(maximum=MAR), "2026-03-16", "Choose a date on or before 15 Mar 2026."),
])
def test_a_value_out_of_range_is_told_the_limits(spec, value, message):
    assert error(spec, value) == message


def test_the_limits_themselves_are_allowed():
    assert load(number(minimum=Decimal(0), maximum=Decimal(40)), "40") == {"n": Decimal(40)}
    assert load(day(minimum=MAR), "2026-03-15") == {"d": MAR}
    assert load(day(maximum=MAR), "2026-03-15") == {"d": MAR}
    assert load(day(), "1999-01-01") == {"d": date(1999, 1, 1)}


@pytest.mark.parametrize("spec,hint", [
    (number(minimum=Decimal(0), maximum=Decimal(40)), "From 0 to 40."),
    (number(minimum=Decimal(0)), "At least 0."),
    (number(maximum=Decimal("40.5")), "At most 40.5."),
    (number(), None),
    (day(minimum=JAN, maximum=DEC), "From 1 Jan 2026 to 31 Dec 2027."),
    (day(minimum=MAR), "At least 15 Mar 2026."),
    (day(maximum=MAR), "At most 15 Mar 2026."),
    (day(), None),
])
def test_number_and_date_fields_show_their_limits_as_a_hint(spec, hint):
    shown = field_meta(spec)["help"]
    assert (None if shown is None else str(shown)) == hint
    described = json_schema(form(spec), "T")["properties"][spec.name].get("description")
    assert described == hint


@pytest.mark.parametrize("spec,widget", [
    (FieldSpec("t", "text", "T", max_length=10), "text"),
    (FieldSpec("t", "longtext", "T", max_length=10), "textarea"),
    (number(), "number"),
    (day(), "date"),
    (FieldSpec("b", "boolean", "B"), "yesno"),
    (choice(RADIO_MAX_OPTIONS), "radio"),
    (choice(RADIO_MAX_OPTIONS + 1), "select"),
    (choice(2, required=False), "select"),
])
def test_each_kind_of_field_has_its_widget(spec, widget):
    assert field_meta(spec)["widget"] == widget


def test_a_date_field_tells_the_browser_its_limits():
    assert field_meta(day(minimum=JAN, maximum=DEC))["attrs"] == {
        "min": "2026-01-01", "max": "2027-12-31"}
    assert field_meta(day())["attrs"] == {}


@pytest.mark.parametrize("spec", [
    FieldSpec("t", "text", "T", max_length=10), number(), day(), FieldSpec("b", "boolean", "B"),
    choice(2, required=False),
])
def test_an_optional_field_may_be_sent_empty_a_required_one_may_not(spec):
    assert load(spec, None) == {spec.name: None}
    required = FieldSpec(**{**spec.__dict__, "required": True})
    assert error(required, None)


def test_whole_numbers_reach_the_task_data_as_integers():
    handler = FormHandler(form(number(), day()), "T")
    data = handler.apply(None, {"n": Decimal("10"), "d": MAR})
    assert data == {"n": 10, "d": "2026-03-15"} and type(data["n"]) is int
    assert handler.apply(None, {"n": Decimal("2.50")}) == {"n": 2.5, "d": None}


def test_a_form_left_empty_adds_nothing_to_the_history():
    handler = FormHandler(form(FieldSpec("t", "text", "T", max_length=10)), "T")
    assert handler.describe(None, {"t": None}) == {}
    assert handler.describe(None, {"t": "x"}) == {
        "form": [{"name": "t", "label": "T", "type": "text", "value": "x"}]}


def test_the_json_schema_of_each_kind_of_field():
    schema = json_schema(form(
        number(), FieldSpec("h", "number", "H", minimum=Decimal("0.5"), maximum=Decimal(40)),
        day(minimum=JAN), choice(2), FieldSpec("t", "text", "T", max_length=10)), "T")
    props = schema["properties"]
    assert props["n"] == {"title": "N", "type": "number", "minimum": -NUMBER_LIMIT,
                          "maximum": NUMBER_LIMIT, "nullable": True}
    assert type(props["n"]["minimum"]) is int and type(props["n"]["maximum"]) is int
    assert (props["h"]["minimum"], props["h"]["maximum"]) == (0.5, 40)
    assert type(props["h"]["maximum"]) is int
    assert props["d"] == {"title": "D", "type": "string", "format": "date",
                          "formatMinimum": "2026-01-01", "description": "At least 1 Jan 2026.",
                          "nullable": True}
    assert props["c"]["type"] == "string" and props["c"]["enum"] == ["o0", "o1"]
    assert "description" not in props["c"] and "description" not in props["t"]
    assert schema["required"] == ["c"]
