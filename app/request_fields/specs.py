"""A category's request template: the extra fields it asks for when a request is filed.

They are stored on the category (``categories.request_fields``) as the JSON list
``app.engine.forms.parse_field_list`` reads, and read back as a ``FormSpec`` of the diagram
forms' ``FieldSpec``s: one field engine, so a category field has the types, limits,
validation, widgets and JSON schema a diagram form's field has.

``clean`` checks what a tenant admin sends (page or API): the parser's rules plus the
messages a person reads for the common mistakes, in their language.
"""

import json
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from app.engine import forms
from app.engine.forms import FormSpec, field_as_json, parse_field_list

MAX_FIELDS = 30  # a form to fill in when filing, not a database
TYPES = forms.TYPES
TYPE_LABELS = {
    "text": _l("Short text"),
    "longtext": _l("Long text"),
    "number": _l("Number"),
    "date": _l("Date"),
    "choice": _l("Choice from a list"),
    "boolean": _l("Yes / no"),
}
# Names a request's page and API already use beside its fields.
REQUEST_NAMES = frozenset({"title", "description", "category_id", "category", "location",
                           "fields", "number", "status"})
RESERVED = forms.RESERVED_NAMES | REQUEST_NAMES


def form_of(category) -> FormSpec:
    """The category's fields (empty when it asks for none); parsed once per version."""
    items = category.request_fields or []
    if not items:
        return FormSpec(f"category_{category.id}", ())
    return _parsed(category.id, json.dumps(items, sort_keys=True))


@lru_cache(maxsize=1024)
def _parsed(category_id: int, text: str) -> FormSpec:
    specs, _problems = parse_field_list(json.loads(text), RESERVED, MAX_FIELDS)
    return FormSpec(f"category_{category_id}", specs)


def _name_problem(name) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return str(_l("Give the field a name."))
    name = name.strip()
    if len(name) > forms.MAX_NAME or not forms.NAME_RE.match(name):
        return str(_l("The name starts with a lower-case letter and holds only lower-case "
                      "letters, digits and '_' (at most %(n)s characters), e.g. passengers.",
                      n=forms.MAX_NAME))
    if name in RESERVED:
        return str(_l("'%(name)s' is a name the process or the request already uses; "
                      "choose another.", name=name))
    return None


def _friendly(data) -> list[str]:
    """The common mistakes in one field, told in the reader's language."""
    if not isinstance(data, dict):
        return [str(_l("Each field is an object with a name, a type and a label."))]
    found = []
    problem = _name_problem(data.get("name"))
    if problem:
        found.append(problem)
    if data.get("type") not in TYPES:
        found.append(str(_l("Choose the type of the field.")))
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        found.append(str(_l("Give the field a label (what the person filing reads).")))
    options = data.get("options")
    if data.get("type") == "choice":
        if not isinstance(options, list) or not options:
            found.append(str(_l("A choice field needs at least one option.")))
        elif len(options) > forms.MAX_OPTIONS:
            found.append(str(_l("A choice field has at most %(n)s options.",
                                n=forms.MAX_OPTIONS)))
    return found


def clean(items) -> list[dict]:
    """``items`` checked and normalised (the JSON the category keeps); raises
    ``marshmallow.ValidationError`` with ``{"request_fields": {position: [messages]}}``
    (``_schema`` for the list as a whole)."""
    from marshmallow import ValidationError

    if items is None:
        items = []
    if not isinstance(items, list):
        raise ValidationError({"request_fields": {"_schema": [str(_l(
            "The fields are a list."))]}})
    if len(items) > MAX_FIELDS:
        raise ValidationError({"request_fields": {"_schema": [str(_l(
            "A category asks for at most %(n)s fields.", n=MAX_FIELDS))]}})
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, data in enumerate(items):
        found = _friendly(data)
        name = data.get("name", "").strip() if isinstance(data, dict) and isinstance(
            data.get("name"), str) else ""
        if name and name in seen:
            found.append(str(_l("Two fields are called '%(name)s'.", name=name)))
        seen.add(name)
        if found:
            errors[str(index)] = found
    specs, problems = parse_field_list(items, RESERVED, MAX_FIELDS)
    for index, messages in problems.items():
        key = "_schema" if index is None else str(index)
        errors.setdefault(key, messages)  # the parser's words where ours said nothing
    if errors:
        raise ValidationError({"request_fields": errors})
    return [field_as_json(spec) for spec in specs]
