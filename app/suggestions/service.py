"""A suggestion for a request being written: the company's classification rules first, then
its learned model. Reading a suggestion never trains: it loads the stored model (kept in this
process while its version stands) and computes one dot product per class."""

import importlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.labels import PRIORITY, label
from app.models import PRIORITIES, Category, Tenant, User
from app.suggestions import features, learning, settings
from app.suggestions.models import SuggestionModel

log = logging.getLogger(__name__)
MAX_TITLE = 200          # the filing form's limits: longer input is refused (422), not cut
MAX_DESCRIPTION = 10000
CACHED_MODELS = 32       # companies' models kept in this process
_cache: "OrderedDict[int, tuple[int, learning.Model]]" = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Proposal:
    value: str            # a category id (as text) or a priority
    label: str
    confidence: int | None  # percent; None for a rule (it is certain)


@dataclass(frozen=True)
class Suggestion:
    source: str | None    # "rule", "model" or None (nothing proposed)
    category: Proposal | None = None
    priority: Proposal | None = None

    @property
    def empty(self) -> bool:
        return self.category is None and self.priority is None

    def text(self) -> str:
        """What the filing page shows: "Sugerencia: Transporte (82 %) · Prioridad: Alta"."""
        parts = []
        for title, proposal in ((_("Suggestion"), self.category),
                                (_("Priority"), self.priority)):
            if proposal is None:
                continue
            shown = proposal.label if proposal.confidence is None else \
                f"{proposal.label} ({proposal.confidence} %)"
            parts.append(f"{title}: {shown}")
        if not parts:
            return ""
        prefix = _("By the company's rules") + " · " if self.source == "rule" else ""
        return prefix + " · ".join(parts)

    def to_json(self) -> dict:
        def one(proposal: Proposal | None, key: str):
            if proposal is None:
                return None
            value = int(proposal.value) if key == "id" else proposal.value
            return {key: value, "label": proposal.label, "confidence": proposal.confidence}

        return {"source": None if self.empty else self.source,
                "category": one(self.category, "id"), "priority": one(self.priority, "value"),
                "text": self.text()}


NOTHING = Suggestion(None)


def _rule(user: User, title: str, description: str, active: dict[str, Category],
          locale: str | None) -> Suggestion | None:
    """The company's classification rules' outcome (None when no rule matches, or the rules
    are not there): rules win over the model."""
    try:
        rules = importlib.import_module("app.classification.rules")
    except ImportError:  # the rules are not installed: the model alone
        return None
    try:
        with db.session.begin_nested():  # a failing rule leaves the transaction usable
            outcome = rules.match(user.tenant_id, title, description, user.home_unit_id, {})
    except Exception:  # a rule's failure must not break writing a request
        log.exception("classification rules failed while suggesting")
        return NOTHING
    if outcome is None:
        return None
    category_id = getattr(outcome, "category_id", None)
    priority = getattr(outcome, "priority", None)
    category = active.get(str(category_id)) if category_id is not None else None
    return Suggestion(
        "rule",
        Proposal(str(category.id), category.label(locale), None) if category else None,
        Proposal(priority, str(label(PRIORITY, priority)), None)
        if priority in PRIORITIES else None)


def model_of(tenant_id: int) -> tuple[learning.Model | None, dict]:
    """The company's stored model (from this process's cache while its version stands) and
    which targets beat their baseline ({"category": True, ...})."""
    found = db.session.execute(select(
        SuggestionModel.id, SuggestionModel.version, SuggestionModel.scores).where(
        SuggestionModel.tenant_id == tenant_id)).first()
    if found is None:
        return None, {}
    useful = {name: bool((score or {}).get("useful"))
              for name, score in (found.scores or {}).items()}
    with _cache_lock:
        cached = _cache.get(tenant_id)
        if cached is not None and cached[0] == found.version:
            _cache.move_to_end(tenant_id)
            return cached[1], useful
    data = db.session.scalar(select(SuggestionModel.model).where(
        SuggestionModel.id == found.id))
    if not data:
        return None, useful
    try:
        model = learning.load(data)
    except (ValueError, KeyError, TypeError):
        log.exception("the stored suggestion model of tenant %s cannot be read", tenant_id)
        return None, useful
    with _cache_lock:
        _cache[tenant_id] = (found.version, model)
        _cache.move_to_end(tenant_id)
        while len(_cache) > CACHED_MODELS:
            _cache.popitem(last=False)
    return model, useful


def _from_model(tenant: Tenant, text: str, active: dict[str, Category],
                locale: str | None) -> Suggestion:
    chosen = settings.of(tenant)
    if not chosen.enabled:
        return NOTHING
    model, useful = model_of(tenant.id)
    if model is None:
        return NOTHING
    least = chosen.min_confidence / 100
    category = priority = None
    if useful.get("category"):
        # The likeliest category people may still file in (a closed one is passed over)
        for value, probability in model.ranked("category", text):
            if value in active:
                if probability >= least:
                    category = Proposal(value, active[value].label(locale),
                                        round(probability * 100))
                break
    if useful.get("priority"):
        ranked = model.ranked("priority", text)
        if ranked and ranked[0][1] >= least and ranked[0][0] in PRIORITIES:
            priority = Proposal(ranked[0][0], str(label(PRIORITY, ranked[0][0])),
                                round(ranked[0][1] * 100))
    return Suggestion("model", category, priority)


def suggest(user: User, title: str, description: str, locale: str | None = None) -> Suggestion:
    """The suggestion for a request ``user`` is writing (lengths checked by the caller)."""
    title, description = (title or "").strip(), (description or "").strip()
    if len(title) + len(description) < 3:
        return NOTHING
    tenant = db.session.get(Tenant, user.tenant_id)
    active = {str(c.id): c for c in db.session.scalars(select(Category).where(
        Category.tenant_id == user.tenant_id, Category.active.is_(True)))}
    ruled = _rule(user, title, description, active, locale)
    if ruled is not None:
        return ruled
    return _from_model(tenant, features.document(title, description), active, locale)


def forget_cache() -> None:
    with _cache_lock:
        _cache.clear()
