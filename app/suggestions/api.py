"""The learned suggestion over the API: ``GET /api/v1/suggestions`` for whoever may file a
request, and the tenant admin's ``/api/v1/admin/suggestions`` (status, settings, train)."""

from flask_babel import get_locale
from marshmallow import Schema, fields, validate

from app import policy
from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.extensions import db
from app.models import Tenant
from app.suggestions import service, status
from app.suggestions.settings import SuggestionSettingsSchema

blp = Blueprint("api_suggestions", __name__, url_prefix="/api/v1",
                description="Learned suggestion of a request's category and priority")
admin_blp = Blueprint("api_admin_suggestions", __name__, url_prefix="/api/v1/admin/suggestions",
                      description="Tenant administration: the learned suggestion (status, "
                                  "accuracy, settings, training)")


class SuggestionArgs(Schema):
    title = fields.String(load_default="", validate=validate.Length(max=service.MAX_TITLE),
                          metadata={"description": "The title typed so far (at most "
                                                   f"{service.MAX_TITLE} characters)"})
    description = fields.String(load_default="",
                                validate=validate.Length(max=service.MAX_DESCRIPTION),
                                metadata={"description": "The description typed so far (at "
                                                         f"most {service.MAX_DESCRIPTION} "
                                                         "characters)"})


class SuggestedCategory(Schema):
    id = fields.Integer()
    label = fields.String()
    confidence = fields.Integer(allow_none=True, metadata={
        "description": "Percent; null when a classification rule decided it"})


class SuggestedPriority(Schema):
    value = fields.String(metadata={"description": "low, normal, high or urgent"})
    label = fields.String()
    confidence = fields.Integer(allow_none=True)


class SuggestionOut(Schema):
    source = fields.String(allow_none=True, metadata={
        "description": "rule (the company's classification rules matched: they win), model "
                       "(the learned model), or null: nothing proposed (not enough history, "
                       "disabled, or below the company's least confidence)"})
    category = fields.Nested(SuggestedCategory, allow_none=True)
    priority = fields.Nested(SuggestedPriority, allow_none=True)
    text = fields.String(metadata={"description": "What the filing page shows, in the "
                                                  "caller's language"})


class SuggestionTargetOut(Schema):
    accuracy = fields.Float(allow_none=True, metadata={"description": "Share right on the "
                                                                      "held-out requests"})
    baseline = fields.Float(allow_none=True, metadata={"description": "Share right by always "
                                                                      "answering the most "
                                                                      "common value"})
    held_out = fields.Integer()
    useful = fields.Boolean(metadata={"description": "Beats the baseline: only then proposed"})
    classes = fields.List(fields.Dict(), metadata={"description": "value, label, training "
                                                                  "rows"})


class SuggestionStatusOut(Schema):
    settings = fields.Nested(SuggestionSettingsSchema)
    settled_requests = fields.Integer(metadata={"description": "Requests accepted by the "
                                                               "service unit (the history)"})
    enough_history = fields.Boolean()
    status = fields.String(metadata={"description": "pending, trained or failed"})
    train_requested_at = fields.DateTime(allow_none=True)
    trained_at = fields.DateTime(allow_none=True)
    training_rows = fields.Integer()
    features = fields.Integer(metadata={"description": "Words (stems) the model knows"})
    duration_ms = fields.Integer(allow_none=True)
    history_count = fields.Integer()
    next_training_at = fields.Integer(metadata={"description": "Settled requests at which the "
                                                               "next training starts"})
    error = fields.String(allow_none=True)
    targets = fields.Dict(keys=fields.String(), values=fields.Nested(SuggestionTargetOut))


def _locale() -> str | None:
    locale = get_locale()
    return str(locale) if locale else None


@blp.route("/suggestions")
@blp.arguments(SuggestionArgs, location="query", as_kwargs=True)
@blp.response(200, SuggestionOut)
@blp.alt_response(403, **problem_doc, description="The caller may not file requests")
@blp.alt_response(422, **problem_doc, description="title or description too long")
def suggest(title="", description=""):
    """A category and priority for a request being written (rules first, then the model)"""
    user = caller()
    if not policy.can_ask_suggestion(user):
        return problem(403, "You may not file requests, so there is nothing to suggest.")
    return service.suggest(user, title, description, locale=_locale()).to_json()


@admin_blp.before_request
def _tenant_admins_only():
    if not policy.can_manage_suggestions(caller()):
        return problem(404, "Not found.")  # as the pages: nothing here for others
    return None


def _tenant() -> Tenant:
    return db.session.get(Tenant, caller().tenant_id)


@admin_blp.route("")
@admin_blp.response(200, SuggestionStatusOut)
@admin_blp.alt_response(404, **problem_doc, description="Not a tenant admin")
def get_status():
    """History, the last training, accuracy on held-out requests next to the baseline"""
    return status.describe(_tenant(), _locale())


@admin_blp.route("", methods=["PATCH"])
@admin_blp.arguments(SuggestionSettingsSchema)
@admin_blp.response(200, SuggestionStatusOut)
@admin_blp.alt_response(404, **problem_doc, description="Not a tenant admin")
def patch_settings(values):
    """Change the settings (any subset): enabled, min_history, retrain_after, min_confidence"""
    tenant = _tenant()
    status.save_settings(caller(), tenant, values)
    db.session.commit()
    return status.describe(tenant, _locale())


@admin_blp.route("/train", methods=["POST"])
@admin_blp.response(202, SuggestionStatusOut)
@admin_blp.alt_response(404, **problem_doc, description="Not a tenant admin")
@admin_blp.alt_response(409, **problem_doc, description="Not enough settled requests yet")
def train():
    """Queue a training: the background runner trains the model at its next pass"""
    tenant = _tenant()
    try:
        status.ask_training(caller(), tenant)
    except status.NotEnoughHistory as exc:
        db.session.rollback()
        return problem(409, f"Not enough history yet: {exc.settled} of {exc.needed} settled "
                            "requests.")
    db.session.commit()
    return status.describe(tenant, _locale())


def init_api(api) -> None:
    api.register_blueprint(blp)
    api.register_blueprint(admin_blp)


