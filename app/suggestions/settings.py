"""The company's settings of the learned suggestion, kept in the tenant's settings (JSON), with
their defaults and bounds in one place."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from app.models import Tenant

DEFAULTS = {
    "suggestions_enabled": True,
    # Requests whose category and priority were settled before a first model is trained
    "suggestions_min_history": 200,
    # Settled requests filed since the last training that make the next one
    "suggestions_retrain_after": 200,
    # Below this probability nothing is proposed (per target), in percent
    "suggestions_min_confidence": 60,
}
MIN_HISTORY = (50, 100000)
RETRAIN_AFTER = (10, 100000)
MIN_CONFIDENCE = (30, 99)


@dataclass(frozen=True)
class Settings:
    enabled: bool
    min_history: int
    retrain_after: int
    min_confidence: int  # percent

    def to_json(self) -> dict:
        return {"enabled": self.enabled, "min_history": self.min_history,
                "retrain_after": self.retrain_after, "min_confidence": self.min_confidence}


def _number(value, default: int, bounds: tuple[int, int]) -> int:
    """A stored value as an int within bounds (anything else: the default)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return min(max(value, bounds[0]), bounds[1])


def of(tenant: Tenant) -> Settings:
    stored = tenant.settings or {}
    enabled = stored.get("suggestions_enabled", DEFAULTS["suggestions_enabled"])
    return Settings(
        enabled=enabled is True,
        min_history=_number(stored.get("suggestions_min_history"),
                            DEFAULTS["suggestions_min_history"], MIN_HISTORY),
        retrain_after=_number(stored.get("suggestions_retrain_after"),
                              DEFAULTS["suggestions_retrain_after"], RETRAIN_AFTER),
        min_confidence=_number(stored.get("suggestions_min_confidence"),
                               DEFAULTS["suggestions_min_confidence"], MIN_CONFIDENCE),
    )


class SuggestionSettingsSchema(Schema):
    """What a tenant admin may change (any subset)."""

    enabled = fields.Boolean(metadata={
        "label": _l("Suggest a category and priority when filing"),
        "description": "Propose a category and a priority while a request is written"})
    min_history = fields.Integer(validate=validate.Range(*MIN_HISTORY), metadata={
        "label": _l("Settled requests needed before the first training"),
        "description": "Requests whose category and priority were settled (accepted by the "
                       "service unit) needed before a first model is trained"})
    retrain_after = fields.Integer(validate=validate.Range(*RETRAIN_AFTER), metadata={
        "label": _l("New settled requests that start a new training"),
        "description": "Settled requests since the last training that start the next one"})
    min_confidence = fields.Integer(validate=validate.Range(*MIN_CONFIDENCE), metadata={
        "label": _l("Lowest confidence shown (%)"),
        "description": "Percent: a category or priority less likely than this is not "
                       "proposed"})


def apply(tenant: Tenant, values: dict) -> bool:
    """Store validated ``values`` (SuggestionSettingsSchema's); True if anything changed."""
    stored = dict(tenant.settings or {})
    before = dict(stored)
    for key, value in values.items():
        stored[f"suggestions_{key}"] = value
    if stored == before:
        return False
    tenant.settings = stored
    return True
