"""Amounts of money as the company counts them: its currency (ISO 4217, the ``currency``
setting) written the way the reader's language writes numbers."""

from decimal import Decimal

from babel.numbers import UnknownCurrencyError, get_currency_name
from flask_babel import format_currency

DEFAULT_CURRENCY = "COP"


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency Babel knows (e.g. COP, USD, EUR, MXN)."""
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        return False
    try:
        return get_currency_name(code, locale="en") != code  # an unknown code names itself
    except UnknownCurrencyError:
        return False


def money(amount: Decimal | int | None, currency: str | None) -> str:
    """``amount`` in ``currency`` for the page's language, e.g. "$ 1.500.000,00" (empty when
    there is no amount)."""
    if amount is None:
        return ""
    # With the cents always shown: CLDR writes some currencies (COP) without them, and a
    # budget must add up to the cent on the page too.
    return format_currency(Decimal(amount), currency or DEFAULT_CURRENCY, currency_digits=False)


def register(app) -> None:
    """``{{ amount|money }}`` in templates, in the signed-in person's company's currency."""
    from flask_login import current_user

    def _money(amount) -> str:
        tenant = getattr(current_user, "tenant", None) if current_user else None
        return money(amount, tenant.setting("currency") if tenant is not None else None)

    app.jinja_env.filters["money"] = _money
