"""The conversation's own tables.

``canned_responses``: replies a tenant keeps ready, for the whole company (no service unit) or
for one service unit; their text is a template rendered in the notification sandbox.
``request_followers``: who follows which request (they get its notices while they may see it).
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class CannedResponse(TenantScoped, db.Model):
    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: any service unit of the company may use it (tenant admins write those)
    service_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    service_unit = relationship("Unit")

    __table_args__ = (
        Index("ix_canned_responses_unit", "tenant_id", "service_unit_id", "title"),
    )


class Follower(TenantScoped, db.Model):
    __tablename__ = "request_followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request = relationship("ServiceRequest")

    __table_args__ = (
        UniqueConstraint("request_id", "user_id", name="uq_request_followers"),
        Index("ix_request_followers_user", "tenant_id", "user_id", "id"),
    )
