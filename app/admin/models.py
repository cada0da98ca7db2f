"""The audit of a tenant's administration: who changed what, when, from what to what."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class AuditEntry(TenantScoped, db.Model):
    """One administrative change. Append-only: never updated or deleted by the app (on
    PostgreSQL a trigger refuses it to the app's role). ``actor_id`` is empty for a platform
    operator's command, named in ``actor_label``."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(60))          # e.g. "user.invited"
    target_type: Mapped[str] = mapped_column(String(40))     # e.g. "user", "unit"
    target_id: Mapped[int | None] = mapped_column()
    target_label: Mapped[str] = mapped_column(String(254), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")

    __table_args__ = (Index("ix_audit_entries_tenant_id_id", "tenant_id", "id"),)
