"""What every user-task handler and service operation has in common."""

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from app.models import HumanTask, ServiceRequest, User


def _translate_field_messages() -> None:
    """marshmallow's built-in messages, in the user's language (resolved when shown)."""
    fields.Field.default_error_messages.update(
        required=_l("This field is required."),
        null=_l("This field is required."),
        validator_failed=_l("Invalid value."),
    )
    fields.Number.default_error_messages.update(
        invalid=_l("Enter a number."), too_large=_l("The number is too large."))
    fields.Integer.default_error_messages.update(invalid=_l("Enter a whole number."))
    fields.Decimal.default_error_messages.update(special=_l("Enter a number."))
    fields.Date.default_error_messages.update(
        invalid=_l("Enter a date as YYYY-MM-DD."), format=_l("Enter a date as YYYY-MM-DD."))
    fields.Boolean.default_error_messages.update(invalid=_l("Answer yes or no."))
    fields.String.default_error_messages.update(invalid=_l("Enter text."))
    fields.List.default_error_messages.update(invalid=_l("Choose from the list."))


_translate_field_messages()


class Amount(fields.Decimal):
    """A decimal typed by a person: "150,50", "1.500,50", "150.50" and "1,500.50" all work.

    With both separators, the last one is the decimal mark; several dots (or commas) are
    thousands separators. A lone mark followed by exactly three digits is read as the page's
    language writes numbers: "35.000" is 35000 in Spanish (as the pages show amounts), "35,000"
    is 35000 in English; otherwise a lone mark is the decimal mark ("2,5", "2.5").

    Anything else is refused, never guessed: letters (an exponent: "1e9", "NaN"), thousands
    groups that are not of three digits ("1,5,5", "1.2.3"), two decimal marks.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("places", 2)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if "_" in value:
                raise self.make_error("invalid")
            value = _normalize_amount(value)
            if not _PLAIN.fullmatch(value) or not _grouped_well(value):
                raise self.make_error("invalid")
            value = value.replace("_", "")
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount is not None and amount.is_zero():
            amount = abs(amount)  # "-0" typed is 0 (not "-0.00" in the history)
        return amount


_PLAIN = re.compile(r"-?[0-9_]+(\.[0-9]+)?")  # after normalizing; "_" marks where groups were


def _grouped_well(text: str) -> bool:
    """Thousands groups (kept as "_") of three digits after a first of one to three."""
    whole = text.lstrip("-").partition(".")[0]
    if "_" not in whole:
        return True
    first, *rest = whole.split("_")
    return 1 <= len(first) <= 3 and all(len(group) == 3 for group in rest)


def _normalize_amount(text: str) -> str:
    """``text`` with "." as the decimal mark and "_" where thousands separators were."""
    text = text.strip().replace(" ", "").replace("\u00a0", "").replace("$", "")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        if text.count(decimal) > 1:
            return "invalid"
        return text.replace(thousands, "_").replace(decimal, ".")
    for mark in (",", "."):
        if text.count(mark) > 1:
            return text.replace(mark, "_")
    thousands = "," if _language() == "en" else "."
    whole, mark, decimals = text.partition(thousands)
    digits = whole.lstrip("-")
    if (mark and len(decimals) == 3 and decimals.isdigit() and digits.isdigit()
            and not digits.startswith("0")):  # "0.250" is a fraction in any language
        return whole + "_" + decimals
    return text.replace(",", ".")


def _language() -> str:
    from flask import has_request_context
    from flask_babel import get_locale

    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None else "es"


MAX_ID = 2**31 - 1
MAX_AMOUNT = Decimal("999999999999.99")  # what an amount of money's column holds (14, 2)


def ident(**kwargs) -> fields.Integer:
    """An id typed in a form: a positive integer the database can hold."""
    return fields.Integer(strict=False, validate=validate.Range(
        min=1, max=MAX_ID, error=_l("Choose from the list.")), **kwargs)


def length(min: int | None = None, max: int | None = None) -> validate.Length:
    if min and max:
        error = _l("Between %(min)s and %(max)s characters.", min=min, max=max)
    elif max:
        error = _l("At most %(max)s characters.", max=max)
    else:
        error = _l("At least %(min)s characters.", min=min)
    return validate.Length(min=min, max=max, error=error)


def in_range(min=None, max=None) -> validate.Range:
    if min is not None and max is not None:
        error = _l("Must be between %(min)s and %(max)s.", min=min, max=max)
    elif max is not None:
        error = _l("Must be at most %(max)s.", max=max)
    else:
        error = _l("Must be at least %(min)s.", min=min)
    return validate.Range(min=min, max=max, error=error)


def one_of(choices) -> validate.OneOf:
    return validate.OneOf(list(choices), error=_l("Choose one of the options."))


def normalize_messages(messages):
    """Field errors as {field: [str, ...]}: marshmallow keeps a lone lazy string as is."""
    if isinstance(messages, dict):
        return {key: normalize_messages(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        flat = []
        for item in messages:
            value = normalize_messages(item)
            flat.extend(value if isinstance(value, list) else [value])
        return flat
    return [str(messages)]


class FormSchema(Schema):
    """Form input: strings trimmed, empty values treated as absent, unknown fields ignored."""

    class Meta:
        unknown = EXCLUDE

    def handle_error(self, error, data, *, many, **kwargs):
        raise ValidationError(normalize_messages(error.messages)) from None

    @pre_load
    def _clean(self, data, **kwargs):
        cleaned = {}
        for key, value in dict(data).items():
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            if isinstance(value, list):
                value = [v for v in value if not (isinstance(v, str) and not v.strip())]
                if not value:
                    continue
            cleaned[key] = value
        return cleaned


def require_when(data: dict, field: str, condition: bool, message) -> None:
    if condition and not (data.get(field) or "").strip():
        raise ValidationError({field: [str(message)]})


@dataclass
class TaskContext:
    """What a handler works on: who acts, on which request, through which task."""

    user: User
    request: ServiceRequest
    task: HumanTask


@dataclass
class OperationContext:
    """What a service operation works on; ``actor`` is None when a timer triggered it."""

    request: ServiceRequest
    actor: User | None


class TaskHandler:
    """A kind of user task: its form (a marshmallow schema), its checks, and what it changes."""

    name: str = ""
    title = ""
    submit_label = ""
    schema: type[Schema] = FormSchema

    def load(self, ctx: TaskContext, form: dict) -> dict:
        """Validate form input; raises ValidationError with field messages and changes nothing."""
        data = self.schema().load(form)
        self.check(ctx, data)
        return data

    def check(self, ctx: TaskContext, data: dict) -> None:
        """Checks that need the database (e.g. the worker belongs to the service unit)."""

    # What ``apply`` may return, as a few samples covering its values (deploy walks them
    # through a diagram to find conditions that would fail: ``engine.pathdata``).
    samples: tuple[dict, ...] = ({},)

    def apply(self, ctx: TaskContext, data: dict) -> dict:
        """Change the domain rows; return the values the diagram's gateways read."""
        return {}

    def comment(self, data: dict) -> str | None:
        return data.get("comment")

    def form_notes(self, ctx: TaskContext) -> dict:
        """Field name -> {"label", "help"} that the form of this task shows instead of its
        schema's (what the person should know here, e.g. a reopened ticket's hours so far)."""
        return {}

    def event(self, data: dict) -> str | None:
        """The webhook event this completion stands for, if any."""
        return None

    def describe(self, ctx: TaskContext, data: dict) -> dict:
        """What the history shows as changed: the form minus what is shown as the comment."""
        comment = self.comment(data)
        return {k: v for k, v in data.items()
                if k != "comment" and not (comment and v == comment)}
