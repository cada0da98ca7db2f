"""How budgets read on pages: a period in the reader's language ("diciembre de 2026",
"T4 2026", "2026") and a budget's scope (the whole service unit, a category, a unit)."""

from datetime import date

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

PERIOD_KINDS = {"month": _l("Month"), "quarter": _l("Quarter"), "year": _l("Year")}
# CLDR skeletons: the locale orders the parts ("December 2026", "diciembre de 2026")
_SKELETONS = {"month": "yMMMM", "quarter": "yQQQ", "year": "y"}


def period_label(period: str, starts_on: date | None) -> str:
    """The period that begins on ``starts_on``, as the page's language writes it."""
    if starts_on is None:
        return ""
    skeleton = _SKELETONS.get(period)
    if skeleton is None:
        return starts_on.isoformat()
    return format_skeleton(skeleton, starts_on, locale=get_locale() or "es")


def period_kind(period: str) -> str:
    return str(PERIOD_KINDS.get(period, period))


def scope_label(budget, locale: str | None = None) -> str:
    """What part of its service unit a budget is for."""
    parts = []
    if budget.category_id is not None and budget.category is not None:
        parts.append(budget.category.label(locale))
    if budget.requesting_unit_id is not None and budget.requesting_unit is not None:
        parts.append(budget.requesting_unit.name)
    return " · ".join(parts) if parts else str(_l("Whole service unit"))


def register(app) -> None:
    app.add_template_global(period_label, "budget_period")
    app.add_template_global(period_kind, "budget_period_kind")
    app.add_template_global(scope_label, "budget_scope")
