"""A service request filed by an employee."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.kinds import DEFAULT_KIND, KINDS  # noqa: F401 (the kinds of work: app.kinds)
from app.models.base import TenantScoped, UTCDateTime, utcnow

REQUEST_STATUSES = (
    "pending_authorization",
    "pending_evaluation",
    "returned",
    "pending_assignment",
    "in_service",
    "completed",
    "rejected",
    "cancelled",
)
OPEN_REQUEST_STATUSES = REQUEST_STATUSES[:5]


class ServiceRequest(TenantScoped, db.Model):
    __tablename__ = "service_requests"
    # True (on the object, not stored) while ``services.requests.file_request`` runs its first
    # steps, before the SLA clocks open: a step changing the priority then leaves them to it
    filing = False

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    # The kind of work (app.kinds.KINDS), copied from its process version when filed
    kind: Mapped[str] = mapped_column(String(20), default=DEFAULT_KIND,
                                      server_default=DEFAULT_KIND)
    location: Mapped[str] = mapped_column(String(200), default="")
    # The answers to its category's fields when filed (app.request_fields): name -> value
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    service_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(String(30), default="pending_authorization")
    estimated_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    estimated_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    staff_available: Mapped[bool | None] = mapped_column()
    # The company's date the director approved it: the budget period its cost falls in
    # (app.viability.budgets); empty until approved and again when a re-evaluation does not
    # approve. A ticket finished without an approval takes its finishing date.
    committed_on: Mapped[date | None] = mapped_column(Date)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The most pressing open SLA clock (app.sla), cached for sorting and filtering lists:
    # its state, when it is due (empty while paused) and when it reaches its warning
    sla_state: Mapped[str | None] = mapped_column(String(12))
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The kinds of target an admin applied to open requests since ("decision resolution"):
    # the background runner gives its clocks of those kinds the terms of the targets that
    # match it now, a few hundred requests at a time
    sla_rematch: Mapped[str | None] = mapped_column(String(40))
    # Milestones and stage lead times in business minutes (app.indicators.stages), folded from
    # the history by each step: what the indicators read
    authorized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(20))
    returns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    authorization_minutes: Mapped[int | None] = mapped_column(Integer)
    evaluation_minutes: Mapped[int | None] = mapped_column(Integer)
    assignment_minutes: Mapped[int | None] = mapped_column(Integer)
    start_minutes: Mapped[int | None] = mapped_column(Integer)
    work_minutes: Mapped[int | None] = mapped_column(Integer)
    confirmation_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    # The recurring schedule that filed it (app.recurring); empty for a request filed by hand
    recurring_schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_schedules.id"))

    category = relationship("Category")
    requester = relationship("User", foreign_keys=[requester_id])
    unit = relationship("Unit", foreign_keys=[unit_id])
    service_unit = relationship("Unit", foreign_keys=[service_unit_id])
    ticket = relationship("Ticket", back_populates="request", uselist=False)
    instance = relationship("ProcessInstance", back_populates="request", uselist=False)
    sla_clocks = relationship("SlaClock", back_populates="request", order_by="SlaClock.id",
                              cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_service_requests_tenant_number"),
        Index("ix_service_requests_requester", "tenant_id", "requester_id", "created_at"),
        Index("ix_service_requests_unit", "tenant_id", "unit_id", "status"),
        Index("ix_service_requests_service_unit", "tenant_id", "service_unit_id", "status"),
        Index("ix_service_requests_committed", "tenant_id", "service_unit_id", "committed_on"),
        Index("ix_service_requests_sla_due", "tenant_id", "sla_due_at"),
        Index("ix_service_requests_kind", "tenant_id", "kind", "created_at"),
        # Indicators select the requests alive during a period
        Index("ix_service_requests_created", "tenant_id", "created_at"),
        Index("ix_service_requests_sla_rematch", "id",
              postgresql_where=text("sla_rematch IS NOT NULL"),
              sqlite_where=text("sla_rematch IS NOT NULL")),
    )


class NumberSequence(TenantScoped, db.Model):
    """The last number handed out per tenant, kind (SOL, TKT) and year."""

    __tablename__ = "number_sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "year", name="uq_number_sequences_key"),
    )
