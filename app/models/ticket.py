"""The work order created when a request is approved and assigned."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

TICKET_STATUSES = ("pending", "in_progress", "on_hold", "finished", "closed", "cancelled")
OPEN_TICKET_STATUSES = ("pending", "in_progress", "on_hold")

ticket_helpers = Table(
    "ticket_helpers",
    db.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    # A worker's visible requests include the tickets they help with: looked up by user.
    Index("ix_ticket_helpers_user", "user_id"),
)


class Ticket(TenantScoped, db.Model):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    service_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours_spent: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    materials_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # At finish: the hourly rate that applied (the worker's, else the service unit's) and
    # hours x rate + materials (app.viability.costs)
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    actual_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    resolution: Mapped[str | None] = mapped_column(Text)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request = relationship("ServiceRequest", back_populates="ticket")
    worker = relationship("User", foreign_keys=[worker_id])
    helpers = relationship("User", secondary=ticket_helpers)

    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_tickets_tenant_number"),
        Index("ix_tickets_worker", "tenant_id", "worker_id", "status"),
        Index("ix_tickets_service_unit", "tenant_id", "service_unit_id", "status"),
        # Exports read a period's tickets in batches, in assignment order
        Index("ix_tickets_created", "tenant_id", "created_at"),
    )
