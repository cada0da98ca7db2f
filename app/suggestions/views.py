"""Pages: the tenant admin's /admin/suggestions (status, settings, "train now") and the filing
page's helper /suggestions/preview (JSON for frontend/suggestions.js; the page works without
it, nothing is proposed then)."""

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app import policy
from app.admin import access as admin_access
from app.extensions import db
from app.models import Tenant
from app.suggestions import service, settings, status
from app.suggestions.settings import SuggestionSettingsSchema

bp = Blueprint("suggestions", __name__, template_folder="templates")
admin_bp = Blueprint("suggestions_admin", __name__, url_prefix="/admin/suggestions",
                     template_folder="templates")
admin_bp.before_request(admin_access.tenant_admins_only)

FORM_FIELDS = ("min_history", "retrain_after", "min_confidence")


def _locale() -> str | None:
    locale = get_locale()
    return str(locale) if locale else None


def _page(values=None, errors=None, code=200):
    tenant = db.session.get(Tenant, current_user.tenant_id)
    described = status.describe(tenant, _locale())
    page = render_template("suggestions/admin.html", info=described,
                           values=values or described["settings"], errors=errors or {},
                           schema=SuggestionSettingsSchema())
    return page, code, {"Cache-Control": "no-store"}


@admin_bp.route("")
def index():
    return _page()


@admin_bp.post("/settings")
def save():
    typed = {key: request.form.get(key, "").strip() for key in FORM_FIELDS}
    typed["enabled"] = request.form.get("enabled") == "yes"
    try:
        values = SuggestionSettingsSchema().load(typed)
    except ValidationError as exc:
        return _page(typed, exc.messages, 422)
    tenant = db.session.get(Tenant, current_user.tenant_id)
    changed = status.save_settings(current_user, tenant, values)
    db.session.commit()
    flash(_("The settings were saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("suggestions_admin.index"))


@admin_bp.post("/train")
def train():
    tenant = db.session.get(Tenant, current_user.tenant_id)
    try:
        status.ask_training(current_user, tenant)
    except status.NotEnoughHistory as exc:
        db.session.rollback()
        flash(_("Not enough history yet: %(settled)s of %(needed)s settled requests.",
                settled=exc.settled, needed=exc.needed), "error")
        return redirect(url_for("suggestions_admin.index"))
    db.session.commit()
    flash(_("Training queued: the background runner trains the model within minutes."),
          "success")
    return redirect(url_for("suggestions_admin.index"))


def read_text(args) -> tuple[str, str] | None:
    """title and description from a query string, None when longer than a request may be."""
    title, description = args.get("title", ""), args.get("description", "")
    if len(title) > service.MAX_TITLE or len(description) > service.MAX_DESCRIPTION:
        return None
    return title, description


@bp.route("/suggestions/preview")
@login_required
def preview():
    """The suggestion for the text typed so far (the filing page's script asks as one types)."""
    if not policy.can_ask_suggestion(current_user):
        return jsonify({"error": _("You cannot file requests.")}), 403
    text = read_text(request.args)
    if text is None:
        return jsonify({"error": _("The text is longer than a request may be.")}), 422
    suggestion = service.suggest(current_user, *text, locale=_locale())
    response = jsonify(suggestion.to_json())
    response.headers["Cache-Control"] = "no-store"
    return response


def filing_box() -> bool:
    """Whether the filing page shows the suggestion's box (and may run its script): the
    company has it enabled and the person may file."""
    tenant = db.session.get(Tenant, current_user.tenant_id)
    if not policy.can_ask_suggestion(current_user) or not settings.of(tenant).enabled:
        return False
    g.page_scripts = True  # frontend/suggestions.js asks as the person types
    return True


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.add_template_global(filing_box, "suggestion_box")
