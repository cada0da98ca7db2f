"""One row per company: its learned model (written only by the training job, from the
company's own requests) and the figures the admin page shows."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime


class SuggestionModel(TenantScoped, db.Model):
    __tablename__ = "suggestion_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "pending" (no model yet), "trained", "failed" (the last training raised; the previous
    # model, if any, stays in use)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # A tenant admin's "train now" waiting for the runner
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A runner training it until then (another runner leaves it alone)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Settled requests the company had when it was trained (the next training waits for
    # ``retrain_after`` more), and the rows it was trained on (at most SUGGESTIONS_MAX_ROWS)
    history_count: Mapped[int] = mapped_column(Integer, default=0)
    training_rows: Mapped[int] = mapped_column(Integer, default=0)
    features: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    # Per target (category, priority): accuracy on the held-out requests, the majority-class
    # baseline, held-out rows, training rows per class, whether it is proposed
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    # app.suggestions.learning.dump's data; read only to predict
    model: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    # Bumped at each training: what a process's cache of the model compares
    version: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (UniqueConstraint("tenant_id", name="uq_suggestion_models_tenant"),)
