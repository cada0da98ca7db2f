"""What the admin page and the API show of a company's learned suggestion, and the admin's
actions (settings, "train now"), each in the caller's transaction."""

from datetime import datetime

from sqlalchemy import select

from app.admin import audit
from app.extensions import db
from app.labels import PRIORITY, label
from app.models import Category, Tenant, User
from app.suggestions import settings, training


class NotEnoughHistory(ValueError):
    """Train now with fewer settled requests than the company's minimum."""

    def __init__(self, settled: int, needed: int):
        super().__init__(f"{settled} of {needed}")
        self.settled, self.needed = settled, needed


def _classes(tenant_id: int, target: str, counts: dict, locale: str | None) -> list[dict]:
    if target == "category":
        ids = [int(v) for v in counts if str(v).isdigit()]
        names = {str(c.id): c.label(locale) for c in db.session.scalars(
            select(Category).where(Category.tenant_id == tenant_id, Category.id.in_(ids)))}
    else:
        names = {value: str(label(PRIORITY, value)) for value in counts}
    return [{"value": value, "label": names.get(value, value), "rows": rows}
            for value, rows in counts.items()]


def describe(tenant: Tenant, locale: str | None = None) -> dict:
    chosen = settings.of(tenant)
    settled = training.settled_count(tenant.id)
    row = training.state(tenant.id)
    trained = row is not None and row.trained_at is not None
    targets = {}
    for name, score in ((row.scores or {}) if row is not None else {}).items():
        targets[name] = {**{k: v for k, v in score.items() if k != "classes"},
                         "classes": _classes(tenant.id, name, score.get("classes") or {},
                                             locale)}
    return {
        "settings": chosen.to_json(),
        "settled_requests": settled,
        "enough_history": settled >= chosen.min_history,
        "status": row.status if row is not None else "pending",
        "train_requested_at": row.requested_at if row is not None else None,
        "trained_at": row.trained_at if trained else None,
        "training_rows": row.training_rows if trained else 0,
        "features": row.features if trained else 0,
        "duration_ms": row.duration_ms if trained else None,
        "history_count": row.history_count if trained else 0,
        "next_training_at": (row.history_count + chosen.retrain_after) if trained
        else chosen.min_history,
        "error": row.error if row is not None else None,
        "targets": targets,
    }


def save_settings(user: User, tenant: Tenant, values: dict) -> bool:
    before = settings.of(tenant).to_json()
    changed = settings.apply(tenant, values)
    if changed:
        audit.record(tenant.id, user, "settings.changed", "settings", tenant.id,
                     target_label="suggestions", before=before,
                     after=settings.of(tenant).to_json())
    return changed


def ask_training(user: User, tenant: Tenant, now: datetime | None = None) -> None:
    """Queue a training for the next runner pass (NotEnoughHistory when too little)."""
    chosen = settings.of(tenant)
    settled = training.settled_count(tenant.id)
    if settled < chosen.min_history:
        raise NotEnoughHistory(settled, chosen.min_history)
    row = training.request_training(tenant.id, now)
    audit.record(tenant.id, user, "suggestions.train_requested", "settings", row.id,
                 target_label="suggestions")
