"""The company's settings page (/admin/settings) and its logo, served to its own people at
/company/logo/<version> (the version changes with the image, so it may be cached for long)."""

from zoneinfo import available_timezones

from babel.numbers import get_currency_name
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select

from app.admin import access, settings
from app.extensions import db
from app.models import Tenant

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings",
               template_folder="templates")
logo_bp = Blueprint("company", __name__, url_prefix="/company")
_ZONES: list[str] = []


bp.before_request(access.tenant_admins_only)


def _tenant() -> Tenant:
    return db.session.get(Tenant, current_user.tenant_id)


def zones() -> list[str]:
    if not _ZONES:
        _ZONES.extend(sorted(available_timezones()))
    return _ZONES


def _page(values=None, errors=None, status=200):
    tenant = _tenant()
    page = render_template(
        "admin/settings.html", tenant=tenant, values=values or settings.current(tenant),
        errors=errors or {}, zones=zones(), locales=settings.LOCALES,
        locale_labels=settings.LOCALE_LABELS, timer_labels=settings.TIMER_LABELS,
        timers=settings.TIMERS, defaults=settings.defaults(),
        currencies=_currencies(tenant),
        logo_version=tenant.setting("logo_version"),
        logo_kb=settings.LOGO_MAX_BYTES // 1024)
    return page, status, {"Cache-Control": "no-store"}


def _currencies(tenant: Tenant) -> list[tuple[str, str]]:
    """(code, name in the page's language) of the currencies offered, the company's first
    when it is not a common one."""
    codes = list(settings.CURRENCIES)
    if tenant.setting("currency") and tenant.setting("currency") not in codes:
        codes.insert(0, tenant.setting("currency"))
    locale = get_locale() or "es"
    return [(code, get_currency_name(code, locale=locale)) for code in codes]


@bp.route("")
def index():
    return _page()


@bp.post("/general")
def save():
    tenant = _tenant()
    typed = {key: request.form.get(key, "") for key in settings.FIELDS}
    typed["over_budget_approval"] = request.form.get("over_budget_approval") == "yes"
    try:
        values = settings.clean(tenant, typed)
    except ValidationError as exc:
        db.session.rollback()
        return _page(typed, exc.messages, 422)
    changed = settings.apply(current_user, tenant, values)
    db.session.commit()
    flash(_("The settings were saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("admin_settings.index"))


@bp.post("/logo")
def upload_logo():
    upload = request.files.get("logo")
    data = upload.stream.read(settings.LOGO_MAX_BYTES + 1) if upload else b""
    try:
        logo = settings.check_logo(data)
    except ValidationError as exc:
        db.session.rollback()
        return _page(errors=exc.messages, status=422)
    settings.set_logo(current_user, _tenant(), logo)
    db.session.commit()
    flash(_("The logo was saved; it shows in the top bar."), "success")
    return redirect(url_for("admin_settings.index"))


@bp.post("/logo/remove")
def remove_logo():
    removed = settings.remove_logo(current_user, _tenant())
    db.session.commit()
    flash(_("The logo was removed.") if removed else _("There was no logo."), "success")
    return redirect(url_for("admin_settings.index"))


@bp.get("/general")
@bp.get("/logo")
@bp.get("/logo/remove")
def back_to_index():
    """A form's address opened again (a reload after an error): back to the page."""
    return redirect(url_for("admin_settings.index"))


@logo_bp.route("/logo/<version>")
@login_required
def logo(version: str):
    """The logo of the signed-in person's company. Only its current version is served, so
    the answer may be cached as immutable; its type is the one checked at upload, and
    browsers are told not to guess another."""
    row = db.session.execute(select(Tenant.logo, Tenant.logo_type, Tenant.settings).where(
        Tenant.id == current_user.tenant_id)).one_or_none()
    if row is None or not row.logo or (row.settings or {}).get("logo_version") != version \
            or row.logo_type not in ("image/png", "image/jpeg"):
        abort(404)
    response = Response(row.logo, mimetype=row.logo_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
