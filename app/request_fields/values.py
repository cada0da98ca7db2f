"""A request's answers to its category's fields: checked when filed, kept on the request
(``service_requests.fields``, name -> value), handed to its workflow.

Values are checked by the diagram forms' own schema (``handlers.form.schema_for``) and kept
as the task data keeps a form's answers (``handlers.form.plain_value``): text, numbers (whole
or decimal), dates as ``YYYY-MM-DD``, choice values, true/false. Unanswered fields are left
out of the request and given to the workflow as None.
"""

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from app.handlers.form import answers, plain_value, schema_for
from app.request_fields.specs import form_of

PAGE_PREFIX = "cf-"  # a page's inputs: cf-<category id>-<field name>


def load(category, raw) -> dict:
    """``raw`` (name -> value, as typed or as JSON) checked against ``category``'s fields:
    the answered values, or ``ValidationError({"fields": {name: [messages]}})``."""
    form = form_of(category)
    if raw is None or raw == "":
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"fields": {"_schema": [str(_l(
            "Send the fields as an object of name: value."))]}})
    known = {spec.name for spec in form.fields}
    unknown = sorted(str(name) for name in raw if name not in known)
    if unknown:
        raise ValidationError({"fields": {name[:60]: [str(_l(
            "The category %(category)s has no field of this name.", category=category.name))]
            for name in unknown[:20]}})
    if not form.fields:
        return {}
    try:
        data = schema_for(form)().load(raw)
    except ValidationError as exc:
        raise ValidationError({"fields": exc.messages}) from None
    values = {spec.name: plain_value(spec, data.get(spec.name)) for spec in form.fields}
    return {name: value for name, value in values.items() if value is not None}


def described(category, values: dict) -> list[dict]:
    """The answers with the labels (and option texts) they were filed under, for the
    request's history (shown so even after the category's fields change)."""
    form = form_of(category)
    loaded = {}
    for spec in form.fields:
        value = values.get(spec.name)
        if value is not None and spec.type == "number":
            value = Decimal(str(value))
        elif isinstance(value, str) and spec.type == "date":
            value = date.fromisoformat(value)
        loaded[spec.name] = value
    return answers(form, loaded)


def task_data(req, free_names=frozenset()) -> dict:
    """What the request's workflow starts with of its fields: each field of its category
    (None when unanswered) and None for any other name the diagram reads that nothing else
    writes (a field of another category following the same process, or one since removed),
    so a condition such as ``passengers is not None and passengers > 10`` never fails on
    an undefined name."""
    data = dict.fromkeys(free_names)
    data.update(dict.fromkeys(spec.name for spec in form_of(req.category).fields))
    data.update(req.fields or {})
    return data


def from_page(form: dict) -> dict | None:
    """The inputs of the chosen category's group of a filing page (``cf-<id>-<name>``), by
    field name; None when the page sent none."""
    category_id = str(form.get("category_id") or "").strip()
    prefix = f"{PAGE_PREFIX}{category_id}-"
    found = {key[len(prefix):]: value for key, value in form.items()
             if category_id and key.startswith(prefix)}
    return found or None
