"""Forms defined in the diagram: ``<mesa:form>`` inside a user task's extension elements.

    <bpmn:userTask id="Task_Review" name="Revisar"><bpmn:extensionElements>
      <mesa:form>
        <mesa:field name="reason" type="text" label="Motivo" required="true" maxLength="200"/>
        <mesa:field name="hours" type="number" label="Horas" min="0" max="40"/>
        <mesa:field name="kind" type="choice" label="Tipo">
          <mesa:option value="a" label="Opción A"/><mesa:option value="b" label="Opción B"/>
        </mesa:field>
      </mesa:form></bpmn:extensionElements></bpmn:userTask>

A task with a form and no ``handlers`` property is completed through the generic ``form`` kind;
the values go into the task data under the field names, for later gateway conditions. Parsing
gives frozen ``FormSpec``s (one per user task id) and a list of problems (element id, message),
like ``validation.py``; a diagram with any problem is refused as a whole.
"""

import keyword
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from app.engine.expressions import FUNCTIONS
from app.engine.xml import BPMN_NS, MESA_NS, SPIFF_NS

M = f"{{{MESA_NS}}}"
_B = f"{{{BPMN_NS}}}"
_S = f"{{{SPIFF_NS}}}"

# The kind (handler name) a task with a diagram form is completed through.
FORM_KIND = "form"

TYPES = ("text", "longtext", "number", "date", "choice", "boolean")
DEFAULT_MAX_LENGTH = {"text": 200, "longtext": 4000}
MAX_LENGTH_CAP = {"text": 1000, "longtext": 20000}
NUMBER_LIMIT = Decimal(10) ** 15  # |value| of a number field, and of its min/max
MAX_FIELDS = 50
MAX_OPTIONS = 100
MAX_LABEL = 200
MAX_OPTION_VALUE = 100
MAX_NAME = 60
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Names the host writes into task data: ``services.workflow.start`` (the first four) and the
# handlers' ``apply`` (authorize, evaluate, assign, work, confirm). A form field with one of
# these names would overwrite what the diagram's gateways and operations read.
# tests/handlers/test_form_handler.py walks the default lifecycle to keep this list complete.
HOST_DATA_NAMES = frozenset(
    {
        "requester_is_head",
        "priority",
        "authorization_reminder_after",
        "auto_close_after",
        "decision",
        "estimated_cost",
        "estimated_hours",
        "staff_available",
        "over_budget",
        "earliest_start",
        "over_budget_approval",
        "budget_decision",
        "action",
        "rating",
        "solved",
        "assignment",
        # the change window's ``schedule_window`` (app.teams.window.DATA_NAMES)
        "window_start",
        "window_start_hour",
        "window_end",
        "window_time_zone",
        "window_start_at",
    }
)
# Names a completion uses for itself: ``kind`` (API), ``handler`` and ``csrf_token`` (page).
REQUEST_NAMES = frozenset({"kind", "handler", "csrf_token"})
RESERVED_NAMES = HOST_DATA_NAMES | REQUEST_NAMES | frozenset(FUNCTIONS) | frozenset(keyword.kwlist)
# What a version already deployed may not name a field either: a host name added since (e.g.
# the change window's ``window_start``, a form field of the change template's first version)
# does not stop it compiling, since the handler that writes it is not in that version.
STORED_RESERVED_NAMES = RESERVED_NAMES - HOST_DATA_NAMES

_COMMON = {"name", "type", "label", "required"}
_ATTRIBUTES = {
    "text": _COMMON | {"minLength", "maxLength"},
    "longtext": _COMMON | {"minLength", "maxLength"},
    "number": _COMMON | {"min", "max"},
    "date": _COMMON | {"min", "max"},
    "choice": _COMMON,
    "boolean": _COMMON,
}
_KNOWN_ATTRIBUTES = set().union(*_ATTRIBUTES.values())


@dataclass(frozen=True)
class OptionSpec:
    value: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    """One field. ``min_length``/``max_length`` for text and longtext (``max_length`` always
    set), ``minimum``/``maximum`` (Decimal or date) for number and date, ``options`` for choice.
    ``required`` on a boolean field means it must be answered, yes or no."""

    name: str
    type: str
    label: str
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    minimum: Decimal | date | None = None
    maximum: Decimal | date | None = None
    options: tuple[OptionSpec, ...] = ()

    def option_label(self, value) -> str | None:
        return next((o.label for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class FormSpec:
    task_id: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


Problems = list[tuple[str | None, str]]


def _local(tag) -> str:
    if not isinstance(tag, str):
        return str(tag)
    return tag.rsplit("}", 1)[-1]


def _owner_task(element):
    """The user task whose extension elements hold ``element``, or None."""
    parent = element.getparent()
    if parent is None or parent.tag != f"{_B}extensionElements":
        return None
    task = parent.getparent()
    return task if task is not None and task.tag == f"{_B}userTask" else None


def _owner_id(element) -> str | None:
    """The id of the nearest BPMN element around ``element`` (for problems)."""
    while element is not None:
        if isinstance(element.tag, str) and element.tag.startswith(_B) and element.get("id"):
            return element.get("id")
        element = element.getparent()
    return None


def result_variables(root) -> set[str]:
    """Names service tasks write their results to (``resultVariable``)."""
    return {
        op.get("resultVariable")
        for op in root.iter(f"{_S}serviceTaskOperator")
        if op.get("resultVariable")
    }


class _FieldParser:
    """Reads one ``<mesa:field>``; problems go to ``problems`` with the task's id."""

    def __init__(self, element, task_id: str, problems: Problems):
        self.el = element
        self.task_id = task_id
        self.problems = problems
        self.what = "a form field"
        self.ok = True

    def problem(self, message: str) -> None:
        self.problems.append((self.task_id, f"{self.what}: {message}"))
        self.ok = False

    def parse(self, reserved: set[str]) -> FieldSpec | None:
        name = (self.el.get("name") or "").strip()
        if name:
            self.what = f"form field '{name}'"
        self._check_name(name, reserved)
        kind = (self.el.get("type") or "").strip()
        if not kind:
            self.problem("it has no type (text, longtext, number, date, choice or boolean)")
        elif kind not in TYPES:
            self.problem(
                f"unknown type '{kind}' (use text, longtext, number, date, choice or boolean)"
            )
            kind = ""
        self._check_attributes(kind)
        label = " ".join((self.el.get("label") or "").split())
        if not label:
            self.problem("it has no label")
        elif len(label) > MAX_LABEL:
            self.problem(f"the label is longer than {MAX_LABEL} characters")
        required = self._flag("required")
        lengths = self._lengths(kind) if kind in DEFAULT_MAX_LENGTH else (None, None)
        bounds = self._bounds(kind) if kind in ("number", "date") else (None, None)
        options = self._options(kind)
        if not self.ok or not kind:
            return None
        return FieldSpec(
            name=name,
            type=kind,
            label=label,
            required=required,
            min_length=lengths[0],
            max_length=lengths[1],
            minimum=bounds[0],
            maximum=bounds[1],
            options=options,
        )

    def _check_name(self, name: str, reserved: set[str]) -> None:
        if not name:
            self.problem("it has no name")
        elif len(name) > MAX_NAME or not NAME_RE.match(name):
            self.problem(
                "the name must start with a lower-case letter and hold only "
                f"lower-case letters, digits and '_' (at most {MAX_NAME} characters)"
            )
        elif name in reserved:
            self.problem(
                "the name is reserved (the process or the language uses it); choose another"
            )

    def _check_attributes(self, kind: str) -> None:
        for attr in self.el.attrib:
            if attr.startswith("{"):
                continue  # another tool's namespaced attribute: not ours to judge
            if attr not in _KNOWN_ATTRIBUTES:
                self.problem(f"unknown attribute '{attr}'")
            elif kind and attr not in _ATTRIBUTES[kind]:
                self.problem(f"'{attr}' does not apply to a {kind} field")

    def _flag(self, attr: str) -> bool:
        raw = self.el.get(attr)
        if raw is None or not raw.strip():  # an empty attribute is an absent one
            return False
        value = raw.strip().lower()
        if value not in ("true", "false"):
            self.problem(f"{attr} must be true or false, not '{raw}'")
            return False
        return value == "true"

    def _integer(self, attr: str) -> int | None:
        raw = self.el.get(attr)
        if raw is None or not raw.strip():  # an empty attribute is an absent one
            return None
        text = raw.strip()
        if not text.isdigit() or not text.isascii():
            self.problem(f"{attr} must be a whole number of characters, not '{raw}'")
            return None
        return int(text)

    def _lengths(self, kind: str) -> tuple[int | None, int | None]:
        low, high = self._integer("minLength"), self._integer("maxLength")
        cap = MAX_LENGTH_CAP[kind]
        if high is not None and not 1 <= high <= cap:
            self.problem(f"maxLength must be between 1 and {cap} for a {kind} field")
            high = None
        if high is None:
            high = DEFAULT_MAX_LENGTH[kind]
        if low is not None and low > high:
            self.problem(f"minLength ({low}) is greater than maxLength ({high})")
        return (low or None), high

    def _bound(self, kind: str, attr: str):
        raw = self.el.get(attr)
        if raw is None or not raw.strip():  # an empty attribute is an absent one
            return None
        text = raw.strip()
        if kind == "date":
            try:
                if not DATE_RE.match(text):
                    raise ValueError(text)
                return date.fromisoformat(text)
            except ValueError:
                self.problem(f"{attr} must be a date written YYYY-MM-DD, not '{raw}'")
                return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or "e" in text.lower():
            self.problem(f"{attr} must be a number like 10 or 2.5, not '{raw}'")
            return None
        if abs(value) > NUMBER_LIMIT:
            self.problem(f"{attr} is out of range (at most {NUMBER_LIMIT:,} either way)")
            return None
        return value

    def _bounds(self, kind: str):
        low, high = self._bound(kind, "min"), self._bound(kind, "max")
        if low is not None and high is not None and low > high:
            self.problem(f"min ({low}) is greater than max ({high})")
        return low, high

    def _options(self, kind: str) -> tuple[OptionSpec, ...]:
        options, seen = [], set()
        for child in self.el:
            if not isinstance(child.tag, str):
                continue
            if child.tag != f"{M}option":
                self.problem(f"unexpected element <{_local(child.tag)}> in the field")
                continue
            if kind and kind != "choice":
                if self.ok:  # said once, not once per option
                    self.problem("options apply only to choice fields")
                continue
            option = self._option(child, seen)
            if option is not None:
                options.append(option)
        if kind == "choice":
            if not options and self.ok:
                self.problem("a choice field needs at least one <mesa:option>")
            elif len(options) > MAX_OPTIONS:
                self.problem(f"a choice field may have at most {MAX_OPTIONS} options")
        return tuple(options)

    def _option(self, child, seen: set[str]) -> OptionSpec | None:
        for attr in child.attrib:
            if not attr.startswith("{") and attr not in ("value", "label"):
                self.problem(f"unknown attribute '{attr}' on an option")
        value = (child.get("value") or "").strip()
        if not value:
            self.problem("an option has no value")
            return None
        if len(value) > MAX_OPTION_VALUE:
            self.problem(f"option value '{value[:20]}...' is longer than {MAX_OPTION_VALUE}")
            return None
        if value in seen:
            self.problem(f"option value '{value}' appears more than once")
            return None
        seen.add(value)
        label = " ".join((child.get("label") or "").split()) or value
        if len(label) > MAX_LABEL:
            self.problem(f"the label of option '{value}' is longer than {MAX_LABEL} characters")
            return None
        return OptionSpec(value, label)


def _parse_form(form_el, task_id: str, reserved: set[str], problems: Problems):
    fields, names = [], set()
    count = 0
    for child in form_el:
        if not isinstance(child.tag, str):
            continue
        if child.tag != f"{M}field":
            problems.append(
                (
                    task_id,
                    f"unexpected element <{_local(child.tag)}> in the form; "
                    "a form holds <mesa:field> elements",
                )
            )
            continue
        count += 1
        spec = _FieldParser(child, task_id, problems).parse(reserved)
        name = (child.get("name") or "").strip()
        if name and name in names:
            problems.append((task_id, f"form field '{name}' appears more than once in the form"))
            continue
        names.add(name)
        if spec is not None:
            fields.append(spec)
    for attr in form_el.attrib:
        if not attr.startswith("{"):
            problems.append((task_id, f"unknown attribute '{attr}' on the form"))
    if count == 0:
        problems.append((task_id, "the form has no fields"))
    elif count > MAX_FIELDS:
        problems.append((task_id, f"the form has more than {MAX_FIELDS} fields"))
    return FormSpec(task_id, tuple(fields))


def parse_forms(root, stored: bool = False) -> tuple[dict[str, FormSpec], Problems]:
    """Every user task's form by task id, and every problem found in ``mesa:`` elements.
    ``stored``: a version already deployed (``STORED_RESERVED_NAMES``)."""
    problems: Problems = []
    forms: dict[str, FormSpec] = {}
    reserved = set(STORED_RESERVED_NAMES if stored else RESERVED_NAMES)
    services = result_variables(root)
    for el in root.iter(f"{M}*"):
        if el.tag in (f"{M}field", f"{M}option"):
            continue  # read with their form (a stray one is reported below)
        if el.tag != f"{M}form":
            problems.append((_owner_id(el), f"unknown element <mesa:{_local(el.tag)}>"))
            continue
        task = _owner_task(el)
        if task is None:
            problems.append((_owner_id(el), "a form belongs in a user task's extension elements"))
            continue
        task_id = task.get("id")
        if task_id in forms:
            problems.append((task_id, "the user task has more than one form"))
            continue
        spec = _parse_form(el, task_id, reserved, problems)
        for field in spec.fields:
            if field.name in services:
                problems.append(
                    (
                        task_id,
                        f"form field '{field.name}': a service task of this "
                        "diagram writes its result under that name; choose another",
                    )
                )
        forms[task_id] = spec
    for el in root.iter(f"{M}field", f"{M}option"):
        parent = el.getparent()
        expected = f"{M}form" if el.tag == f"{M}field" else f"{M}field"
        if parent is None or parent.tag != expected:
            problems.append(
                (_owner_id(el), f"<mesa:{_local(el.tag)}> outside a <mesa:{_local(expected)}>")
            )
    return forms, problems


def has_form(task_el) -> bool:
    return task_el.find(f"{_B}extensionElements/{M}form") is not None


# --- the same fields as JSON (a category's request template) -------------------------------
#
# A category asks for extra fields when a request is filed, in the same format: a list of
# objects with the attributes of ``<mesa:field>`` (``name``, ``type``, ``label``,
# ``required``, ``minLength``, ``maxLength``, ``min``, ``max``) and, for a choice field,
# ``options`` ([{"value", "label"}]). Each object is read by the diagram's own field parser,
# so both kinds of form accept and refuse exactly the same fields.

JSON_ATTRIBUTES = ("name", "type", "label", "required", "minLength", "maxLength", "min", "max")
# What an XML attribute cannot hold (lxml refuses it): C0 controls but tab, line feed and
# carriage return (so the vertical tab and form feed the input layer lets through too), lone
# surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _attribute_text(value) -> str | None:
    """A JSON value as the XML attribute text the parser reads (None: absent)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal | str):
        text = str(value)
        return "\u0000" if _NOT_XML.search(text) else text
    return "\u0000"  # a list or an object (or text XML cannot hold): no attribute is one


def _element_of(data: dict, problems: list[str]):
    from lxml import etree

    element = etree.Element(f"{M}field")
    for key, value in data.items():
        if key == "options":
            continue
        if key not in JSON_ATTRIBUTES:
            problems.append(f"unknown attribute '{key}'")
            continue
        text = _attribute_text(value)
        if text == "\u0000":
            problems.append(f"'{key}' must be text, a number or true/false, without control "
                            "characters")
        elif text is not None:
            element.set(key, text)
    options = data.get("options")
    if options is not None and not isinstance(options, list):
        problems.append("options must be a list of {value, label}")
    for option in options if isinstance(options, list) else ():
        if not isinstance(option, dict):
            problems.append("an option must be an object {value, label}")
            continue
        child = etree.SubElement(element, f"{M}option")
        for key in ("value", "label"):
            text = _attribute_text(option.get(key))
            if text == "\u0000":
                problems.append(f"an option's {key} must be text without control characters")
            elif text is not None:
                child.set(key, text)
        if set(option) - {"value", "label"}:
            problems.append("an option has only a value and a label")
    return element


def parse_field_list(items, reserved=RESERVED_NAMES, max_fields: int = MAX_FIELDS):
    """A JSON list of fields read as a form: ``(specs, problems)`` where ``problems`` maps a
    field's position (or None: the list as a whole) to its messages, in English as the
    modeler's. ``specs`` holds the fields that parsed, in order."""
    problems: dict[int | None, list[str]] = {}
    if not isinstance(items, list):
        return (), {None: ["the fields must be a list"]}
    if len(items) > max_fields:
        return (), {None: [f"at most {max_fields} fields"]}
    specs, names = [], set()
    for index, data in enumerate(items):
        found: list[str] = []
        if not isinstance(data, dict):
            problems[index] = ["a field must be an object"]
            continue
        element = _element_of(data, found)
        task_problems: Problems = []
        spec = _FieldParser(element, "", task_problems).parse(set(reserved))
        found.extend(message for _id, message in task_problems)
        name = element.get("name", "").strip()
        if name and name in names:
            found.append(f"form field '{name}' appears more than once in the form")
        names.add(name)
        if found:
            problems[index] = found
        elif spec is not None:
            specs.append(spec)
    return tuple(specs), problems


def _json_number(value: Decimal):
    return int(value) if value == value.to_integral_value() else str(value)


def field_as_json(spec: FieldSpec) -> dict:
    """A field as the JSON list holds it (what ``parse_field_list`` reads back)."""
    out: dict = {"name": spec.name, "type": spec.type, "label": spec.label,
                 "required": spec.required}
    if spec.type in DEFAULT_MAX_LENGTH:
        if spec.min_length:
            out["minLength"] = spec.min_length
        out["maxLength"] = spec.max_length
    for key, bound in (("min", spec.minimum), ("max", spec.maximum)):
        if bound is not None:
            out[key] = bound.isoformat() if isinstance(bound, date) else _json_number(bound)
    if spec.type == "choice":
        out["options"] = [{"value": o.value, "label": o.label} for o in spec.options]
    return out
