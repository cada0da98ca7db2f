"""Business calendars, SLA targets, and each request's clocks.

A clock row holds the terms of the target the request was filed under (so a later edit of the
target does not move it unless the admin applies the edit to open requests) and, as a cache for
sorting, filtering and the background runner, what ``app.sla.clock`` last computed from the
request's history. The two ``*_sent_at`` columns are claimed once each: the warning and the
breach notices go out exactly once whatever the number of runners.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class BusinessCalendar(TenantScoped, db.Model):
    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"mon": [["08:00", "12:00"], ["14:00", "18:00"]], ..., "sun": []}
    week: Mapped[dict] = mapped_column(JSON, default=dict)
    # [{"date": "2026-12-25", "yearly": true, "name": "Navidad"}, ...]
    holidays: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_business_calendars_name"),)


class SlaTarget(TenantScoped, db.Model):
    __tablename__ = "sla_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))          # decision, start, resolution
    # Either empty: any category / any priority; the most specific target applies
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    priority: Mapped[str | None] = mapped_column(String(10))
    minutes: Mapped[int] = mapped_column(Integer)           # business minutes
    warn_percent: Mapped[int] = mapped_column(Integer, default=75)
    pause_statuses: Mapped[list] = mapped_column(JSON, default=list)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category = relationship("Category")
    calendar = relationship("BusinessCalendar")

    __table_args__ = (
        CheckConstraint("minutes > 0", name="length_positive"),
        CheckConstraint("warn_percent BETWEEN 1 AND 100", name="warn_percent_range"),
        Index("ix_sla_targets_scope", "tenant_id", "kind", "category_id", "priority"),
    )


class SlaClock(TenantScoped, db.Model):
    __tablename__ = "sla_clocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    # The terms it runs under (the target's at filing, or when an edit was applied to it)
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_targets.id", ondelete="SET NULL"))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    warn_percent: Mapped[int] = mapped_column(Integer)
    pause_statuses: Mapped[list] = mapped_column(JSON, default=list)
    # The cache: app.sla.clock's last result for it
    state: Mapped[str] = mapped_column(String(12), default="not_started")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elapsed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claimed once each by the runner that sends the notice
    warning_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breach_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request = relationship("ServiceRequest", back_populates="sla_clocks")
    calendar = relationship("BusinessCalendar")

    __table_args__ = (
        UniqueConstraint("request_id", "kind", name="uq_sla_clocks_request_kind"),
        # What the runner looks for on every pass: clocks still to warn or to breach, and
        # clocks a calendar change left to recompute (partial: the rest are most of them)
        Index("ix_sla_clocks_warn", "warn_at",
              postgresql_where=text("stopped_at IS NULL AND warning_sent_at IS NULL"),
              sqlite_where=text("stopped_at IS NULL AND warning_sent_at IS NULL")),
        Index("ix_sla_clocks_due", "due_at",
              postgresql_where=text("stopped_at IS NULL AND breach_sent_at IS NULL"),
              sqlite_where=text("stopped_at IS NULL AND breach_sent_at IS NULL")),
        Index("ix_sla_clocks_uncomputed", "request_id",
              postgresql_where=text("computed_at IS NULL"),
              sqlite_where=text("computed_at IS NULL")),
        Index("ix_sla_clocks_tenant_state", "tenant_id", "state"),
    )
