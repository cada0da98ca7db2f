"""A recurring request's schedule (a request template + an RFC 5545 rule in a time zone) and
the occurrences the background runner handled, one row per (schedule, occurrence): the row
is inserted in the transaction that files the request, so an occurrence is filed once
whatever the number of runners (``app.recurring.runner``)."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

CATCH_UP = ("all", "latest")  # after downtime: file every missed occurrence, or the latest
OCCURRENCE_STATUSES = ("filed", "failed")


class RecurringSchedule(TenantScoped, db.Model):
    __tablename__ = "recurring_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The request it files: as the filing form takes it
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    priority: Mapped[str | None] = mapped_column(String(10))  # None: the category's default
    location: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # the category's own fields
    # On whose behalf it is filed, and who is told when an occurrence fails
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The rule (app.recurring.rules): RRULE parts without DTSTART or UNTIL; the pattern is
    # anchored at midnight of ``starts_on`` in ``time_zone`` and ends with ``ends_on``
    rule: Mapped[str] = mapped_column(String(300))
    time_zone: Mapped[str] = mapped_column(String(60))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    catch_up: Mapped[str] = mapped_column(String(10), default="all")
    # Most occurrences in one month (checked against the plan's monthly requests)
    per_month: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The next occurrence to file (UTC, what the runner looks for) and the same moment as the
    # wall-clock time of the rule (its anchor: the rule is followed on from there); both
    # empty once the rule has no more
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_local: Mapped[datetime | None] = mapped_column(DateTime)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last failure, shown on the pages until an occurrence is filed again
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category = relationship("Category")
    requester = relationship("User", foreign_keys=[requester_id])
    owner = relationship("User", foreign_keys=[owner_id])

    __table_args__ = (
        Index("ix_recurring_schedules_due", "next_at"),
        Index("ix_recurring_schedules_tenant", "tenant_id", "deleted_at", "id"),
    )


class RecurringOccurrence(TenantScoped, db.Model):
    __tablename__ = "recurring_occurrences"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_schedules.id", ondelete="CASCADE"))
    occurrence_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the moment it was due
    status: Mapped[str] = mapped_column(String(10))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    # Occurrences before it not filed ("latest" catch-up after a downtime)
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request = relationship("ServiceRequest")

    __table_args__ = (
        UniqueConstraint("schedule_id", "occurrence_at", name="uq_recurring_occurrences_once"),
        Index("ix_recurring_occurrences_schedule", "tenant_id", "schedule_id", "occurrence_at"),
    )
