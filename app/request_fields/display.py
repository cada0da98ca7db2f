"""A request's answers as people read them: on its page, in a list's summary, on the filing
page (each category's group of inputs) and in exports.

A field keeps the label it was filed under: the request's history holds the answers with their
labels (``values.described``), so a field since removed from the category, or retyped, still
shows as filed; one still there with the same type shows its current label.
"""

from datetime import date
from decimal import Decimal

from flask import Blueprint, g, request
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from app.handlers.form import schema_for
from app.request_fields.specs import form_of
from app.request_fields.values import PAGE_PREFIX

bp = Blueprint("request_fields", __name__, template_folder="templates")
SUMMARY_FIELDS = 3
SUMMARY_TEXT = 60


def text_of(kind: str, value, option_text: str | None = None) -> str:
    """A stored answer as text in the reader's language."""
    if value is None:
        return ""
    if kind == "boolean":
        return _("Yes") if value else _("No")
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return format_decimal(Decimal(str(value)))
    if kind == "date" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "medium")
        except ValueError:
            return value
    if kind == "choice":
        return option_text or str(value)
    return str(value)


def _filed_answers(events) -> dict[str, dict]:
    for event in events or ():
        if event.action == "filed":
            given = (event.changes or {}).get("form")
            if isinstance(given, list):
                return {a.get("name"): a for a in given if isinstance(a, dict)}
    return {}


def rows(req, events=None) -> list[dict]:
    """``[{name, label, text, removed}]``: the request's answers, in its category's order
    (fields since removed last)."""
    values = req.fields or {}
    if not values:
        return []
    current = {spec.name: spec for spec in form_of(req.category).fields}
    filed = _filed_answers(events) if events is not None else {}
    out = []
    order = [n for n in current if n in values] + [n for n in values if n not in current]
    for name in order:
        value, spec, was = values[name], current.get(name), filed.get(name, {})
        if spec is not None and (not was or was.get("type") == spec.type):
            text = text_of(spec.type, value, spec.option_label(value))
            out.append({"name": name, "label": spec.label, "text": text, "removed": False})
        else:
            kind = was.get("type") or (spec.type if spec else "text")
            out.append({"name": name, "label": was.get("label") or name,
                        "text": text_of(kind, value, was.get("text")),
                        "removed": spec is None})
    return out


def summary(req) -> str:
    """The first few answers, ``label: value · ...``, for a list's row."""
    found = rows(req)[:SUMMARY_FIELDS]
    text = " · ".join(f"{row['label']}: {row['text']}" for row in found)
    return text if len(text) <= SUMMARY_TEXT * SUMMARY_FIELDS else text[:177] + "…"


def filing_groups(categories, errors: dict | None) -> list[dict]:
    """Each category's inputs for the filing page (those asking for fields), named
    ``cf-<category id>-<field>`` so every group can be on the page at once; the chosen
    category's group gets the values sent and the messages of a refused filing."""
    from app.views.common import describe_form

    errors = errors or {}
    form = request.form if request.method == "POST" else {}
    chosen = str(form.get("category_id", "")) if form else ""
    groups = []
    for category in categories:
        spec = form_of(category)
        if not spec.fields:
            continue
        prefix = f"{PAGE_PREFIX}{category.id}-"
        values = {key[len(prefix):]: value for key, value in form.items()
                  if key.startswith(prefix)}
        own_errors = errors.get("fields") if chosen == str(category.id) else None
        described = describe_form(schema_for(spec), values,
                                  own_errors if isinstance(own_errors, dict) else {})
        for item in described:
            item["name"] = prefix + item["name"]
        groups.append({"category": category, "fields": described,
                       "chosen": chosen == str(category.id)})
    if groups:
        g.page_scripts = True  # frontend/request_fields.js shows the chosen category's group
    return groups


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.add_template_global(rows, "request_field_rows")
    app.add_template_global(summary, "request_fields_summary")
    app.add_template_global(filing_groups, "request_field_groups")
