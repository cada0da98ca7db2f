"""The requests and tickets exports' columns of category fields: one column per field name of
the company's categories (in the order of the categories' names, then of their fields), each
request's answer in its own cell, typed (a number, a date, text; yes/no and a choice's option
in words), empty where the request's category does not ask for it.

One column per field rather than a single "name: value" column: a spreadsheet user filters,
sorts and adds up a column (the passengers of every trip), which text pairs would prevent.
A name several categories use is one column (headed by its first label); two names under the
same label are told apart by their names. Fields since removed from every category are not
columns (their answers stay on the requests, their page and the API).
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.indicators.exports_columns import VALUE, Column
from app.models import Category
from app.request_fields.specs import form_of

ROW_ATTRIBUTE = "request_field_values"  # the label of ServiceRequest.fields in export rows


def _cell(kinds: dict, name: str):
    """How a row's answer to ``name`` becomes a cell."""

    def get(row):
        value = (getattr(row, ROW_ATTRIBUTE, None) or {}).get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        kind = kinds.get(name)
        if kind == "date" and isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        if kind == "choice":
            return kinds.get((name, value), str(value))
        if isinstance(value, int | float):
            return value
        return str(value)

    return get


def columns(tenant_id: int) -> list[Column]:
    specs: dict[str, object] = {}
    for category in db.session.scalars(select(Category).where(Category.tenant_id == tenant_id)
                                       .order_by(func.lower(Category.name), Category.id)):
        for spec in form_of(category).fields:
            specs.setdefault(spec.name, spec)
    kinds: dict = {}
    labels: dict[str, list[str]] = {}
    for name, spec in specs.items():
        kinds[name] = spec.type
        for option in spec.options:
            kinds[(name, option.value)] = option.label
        labels.setdefault(spec.label.casefold(), []).append(name)
    out = []
    for name, spec in specs.items():
        shared = len(labels[spec.label.casefold()]) > 1
        header = f"{spec.label} ({name})" if shared else spec.label
        out.append(Column(header, VALUE, _cell(kinds, name)))
    return out
