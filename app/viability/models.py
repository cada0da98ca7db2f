"""Budgets: money a service unit may commit in a period, optionally for one category or one
requesting unit. What is committed and spent against one is never stored on it: it is summed
from the requests and tickets it covers (``app.viability.budgets``), so it always adds up."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

PERIODS = ("month", "quarter", "year")


class Budget(TenantScoped, db.Model):
    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # Both empty: the whole service unit; either set: that part of it (a "split")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    requesting_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the period's last day, included
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    service_unit = relationship("Unit", foreign_keys=[service_unit_id])
    category = relationship("Category")
    requesting_unit = relationship("Unit", foreign_keys=[requesting_unit_id])

    __table_args__ = (
        Index("ix_budgets_scope", "tenant_id", "service_unit_id", "starts_on"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
    )
