"""A user task whose form is defined in the diagram (``<mesa:form>``): the generic ``form`` kind.

The form comes from the compiled process of the task's instance (by the definition's checksum,
through the spec cache), looked up by the task's spec id: the diagram is the one source of
truth. The values go into the workflow's task data under the field names, so later gateway
conditions can read them (``hours > 8``), and into the request's history with their labels.
"""

from datetime import date
from decimal import Decimal
from functools import lru_cache

from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from marshmallow import fields, pre_load, validate
from sqlalchemy import select

from app.engine.forms import FORM_KIND, NUMBER_LIMIT, FieldSpec, FormSpec
from app.extensions import db
from app.handlers.base import Amount, FormSchema, TaskHandler, length, one_of
from app.models import HumanTask, ProcessDefinition, ProcessInstance
from app.services import definitions

RADIO_MAX_OPTIONS = 5  # a required choice with this many options or fewer shows as radios


class FormNotFound(LookupError):
    """The task's diagram has no form for it (the task row and its diagram disagree)."""


def _shown(value) -> LazyString:
    """A limit as the reader's locale writes it, resolved when the message is shown."""
    if isinstance(value, date):
        return LazyString(format_date, value, "d MMM y")
    return LazyString(format_decimal, value)


def _range_text(spec: FieldSpec):
    """The limits of a number or date field, as a hint under it."""
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None:
        return _l("From %(min)s to %(max)s.", min=_shown(low), max=_shown(high))
    if low is not None:
        return _l("At least %(min)s.", min=_shown(low))
    if high is not None:
        return _l("At most %(max)s.", max=_shown(high))
    return None


def _range_error(spec: FieldSpec):
    """What a value out of the field's limits is told."""
    low, high = spec.minimum, spec.maximum
    if spec.type == "date":
        if low is not None and high is not None:
            return _l("Choose a date from %(min)s to %(max)s.", min=_shown(low), max=_shown(high))
        if low is not None:
            return _l("Choose a date on or after %(min)s.", min=_shown(low))
        return _l("Choose a date on or before %(max)s.", max=_shown(high))
    if low is not None and high is not None:
        return _l("Enter a number from %(min)s to %(max)s.", min=_shown(low), max=_shown(high))
    if low is not None:
        return _l("Enter a number of at least %(min)s.", min=_shown(low))
    if high is not None:
        return _l("Enter a number of at most %(max)s.", max=_shown(high))
    return _l("The number is too large.")


def _range(spec: FieldSpec) -> validate.Range:
    low, high = spec.minimum, spec.maximum
    if spec.type == "number":  # a number field without limits still has sane ones
        low = -NUMBER_LIMIT if low is None else low
        high = NUMBER_LIMIT if high is None else high
    return validate.Range(min=low, max=high, error=_range_error(spec))


def _field(spec: FieldSpec) -> fields.Field:
    """The marshmallow field for one diagram field; metadata drives the page's widgets."""
    meta = {"label": spec.label, "attrs": {}}
    options = {"required": spec.required, "allow_none": not spec.required, "metadata": meta}
    if spec.type in ("text", "longtext"):
        meta["widget"] = "text" if spec.type == "text" else "textarea"
        meta["attrs"]["maxlength"] = spec.max_length
        if spec.min_length:
            meta["attrs"]["minlength"] = spec.min_length
            meta["help"] = _l("At least %(min)s characters.", min=spec.min_length)
        return fields.String(validate=length(min=spec.min_length, max=spec.max_length), **options)
    if spec.type == "number":
        meta["widget"] = "number"
        meta["help"] = _range_text(spec)
        return Amount(places=None, validate=_range(spec), **options)
    if spec.type == "date":
        meta["widget"] = "date"
        meta["help"] = _range_text(spec)
        if spec.minimum is not None:
            meta["attrs"]["min"] = spec.minimum.isoformat()
        if spec.maximum is not None:
            meta["attrs"]["max"] = spec.maximum.isoformat()
        checks = [_range(spec)] if (spec.minimum or spec.maximum) else []
        return fields.Date(validate=checks, **options)
    if spec.type == "choice":
        meta["choices"] = [(o.value, o.label) for o in spec.options]
        few = len(spec.options) <= RADIO_MAX_OPTIONS
        meta["widget"] = "radio" if spec.required and few else "select"
        meta["placeholder"] = _l("Choose...") if spec.required else "—"
        return fields.String(validate=one_of(o.value for o in spec.options), **options)
    meta["widget"] = "yesno"  # boolean: yes/no radios; required means "must answer"
    return fields.Boolean(**options)


class DiagramFormSchema(FormSchema):
    """Every diagram field holds one value; a page sends some names (``..._ids``) as lists."""

    @pre_load
    def _single_values(self, data, **kwargs):
        return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in data.items()}


@lru_cache(maxsize=512)
def schema_for(form: FormSpec) -> type[FormSchema]:
    """A marshmallow schema class for a diagram form (built once per form)."""
    return DiagramFormSchema.from_dict(
        {f.name: _field(f) for f in form.fields}, name=f"DiagramForm_{form.task_id}"
    )


def plain_value(spec: FieldSpec, value):
    """A validated value as the task data (and a request's category fields) hold it: JSON
    types the expressions compare."""
    if value is None:
        return None
    if spec.type == "number":
        return int(value) if value == value.to_integral_value() else float(value)
    if spec.type == "date":
        return value.isoformat()
    return value


def _limit(value):
    """A Decimal or date limit for a JSON schema."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value.isoformat()


def _json_property(spec: FieldSpec) -> dict:
    prop: dict = {"title": spec.label}
    if spec.type in ("text", "longtext"):
        prop.update(type="string", maxLength=spec.max_length)
        if spec.min_length:
            prop["minLength"] = spec.min_length
    elif spec.type == "number":
        prop["type"] = "number"
        prop["minimum"] = _limit(-NUMBER_LIMIT if spec.minimum is None else spec.minimum)
        prop["maximum"] = _limit(NUMBER_LIMIT if spec.maximum is None else spec.maximum)
    elif spec.type == "date":
        prop.update(type="string", format="date")
        # JSON Schema has no bounds for dates; formatMinimum/formatMaximum is the vocabulary
        # validators that know formats (e.g. ajv-formats) read.
        if spec.minimum is not None:
            prop["formatMinimum"] = _limit(spec.minimum)
        if spec.maximum is not None:
            prop["formatMaximum"] = _limit(spec.maximum)
    elif spec.type == "choice":
        prop.update(
            type="string",
            enum=[o.value for o in spec.options],
            oneOf=[{"const": o.value, "title": o.label} for o in spec.options],
        )
    else:
        prop["type"] = "boolean"
    help_text = _range_text(spec) if spec.type in ("number", "date") else None
    if help_text is not None:
        prop["description"] = str(help_text)
    if not spec.required:
        prop["nullable"] = True
    return prop


def json_schema(form: FormSpec, title: str) -> dict:
    """The JSON schema of the body that completes a task with this form (the API's ``forms``)."""
    schema = {
        "type": "object",
        "title": title,
        "properties": {f.name: _json_property(f) for f in form.fields},
        # JSON objects have no order (and the API sorts keys): the diagram's order of fields.
        "x-order": [f.name for f in form.fields],
    }
    required = [f.name for f in form.fields if f.required]
    if required:
        schema["required"] = required
    return schema


class FormHandler(TaskHandler):
    """Completes a task with the form its diagram defines; bound to one form and task name."""

    name = FORM_KIND
    submit_label = _l("Send")

    def __init__(self, form: FormSpec, title: str):
        self.form = form
        self.title = title
        self.schema = schema_for(form)

    def apply(self, ctx, data):
        # Every field is set, an unanswered one to None, so a condition naming it never
        # fails on an undefined name, and a repeated step does not keep an old answer.
        return {f.name: plain_value(f, data.get(f.name)) for f in self.form.fields}

    def comment(self, data):
        return None

    def describe(self, ctx, data):
        """The answers with the labels they were given under (the diagram may change later)."""
        given = answers(self.form, data)
        return {"form": given} if given else {}


def answers(form: FormSpec, data: dict) -> list[dict]:
    """The answered fields of ``form`` in ``data`` (validated values), each with the label,
    type and (for a choice) option text it had: what a history entry keeps of a form, shown
    as filled in even after the form changes."""
    given = []
    for spec in form.fields:
        value = data.get(spec.name)
        if value is None:
            continue
        entry = {"name": spec.name, "label": spec.label, "type": spec.type,
                 "value": plain_value(spec, value)}
        if spec.type == "choice":
            entry["text"] = spec.option_label(value)
        given.append(entry)
    return given


def form_of(task: HumanTask) -> FormSpec:
    """The diagram form of ``task``: from its instance's definition, by the task's spec id."""
    definition = db.session.scalar(
        select(ProcessDefinition)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(
            ProcessInstance.id == task.instance_id,
            ProcessInstance.tenant_id == task.tenant_id,
            ProcessDefinition.tenant_id == task.tenant_id,
        )
    )
    if definition is None:
        raise FormNotFound(f"task {task.id} has no process instance")
    form = definitions.compiled(definition).forms.get(task.spec_id)
    if form is None:
        raise FormNotFound(f"the diagram of task {task.id} has no form for {task.spec_id}")
    return form


def handler_for_task(task: HumanTask) -> FormHandler:
    return FormHandler(form_of(task), task.name)
