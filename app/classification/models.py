"""Classification rules, workers' skills and the round-robin turn of auto-assignment.

- ``ClassificationRule``: conditions (words of the title or description, the requester's unit,
  answers to the category's fields) and actions (category, priority, service unit), tried in
  ``position`` order; the first that matches wins (``app.classification.rules``).
- ``WorkerSkill``: a worker handles a category. A worker with no skill rows handles every
  category of their service unit (``app.classification.assignment``).
- ``AssignmentTurn``: per service unit, the worker who last won a tie; the next tie goes to the
  next worker after them by id. Its row is locked while a worker is chosen, so two
  assignments at once take turns.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class ClassificationRule(TenantScoped, db.Model):
    __tablename__ = "classification_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # --- conditions (all those given must hold; none given is refused) ---
    # Words or short phrases, matched as whole words without accents or case
    words: Mapped[list] = mapped_column(JSON, default=list)
    words_mode: Mapped[str] = mapped_column(String(3), default="any")  # "any" or "all"
    # The requester's unit (a rule goes with its unit when the unit is deleted)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    include_subunits: Mapped[bool] = mapped_column(Boolean, default=True)
    # Answers to the category's own fields: [{"name": ..., "value": ...}]
    field_conditions: Mapped[list] = mapped_column(JSON, default=list)
    # --- actions (at least one) ---
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"))
    priority: Mapped[str | None] = mapped_column(String(10))
    service_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit = relationship("Unit", foreign_keys=[unit_id])
    category = relationship("Category")
    service_unit = relationship("Unit", foreign_keys=[service_unit_id])

    __table_args__ = (
        Index("ix_classification_rules_order", "tenant_id", "position", "id"),
    )


class WorkerSkill(TenantScoped, db.Model):
    __tablename__ = "worker_skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))

    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "category_id", name="uq_worker_skills_key"),
        Index("ix_worker_skills_category", "tenant_id", "category_id"),
    )


class AssignmentTurn(TenantScoped, db.Model):
    __tablename__ = "assignment_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    last_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "service_unit_id", name="uq_assignment_turns_unit"),
    )
