"""A notice to one person about one event, what each person chose to receive, and the
messages' wording a tenant edits."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class Notification(TenantScoped, db.Model):
    """What happened, for whom, with the values its messages are written from (taken when it
    happened). ``inapp``: shown under the bell; its e-mail, SMS and WhatsApp copies are outbox
    messages."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(60))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id", ondelete="SET NULL"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    inapp: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")
    task = relationship("HumanTask")
    messages = relationship("OutboxMessage", back_populates="notification",
                            order_by="OutboxMessage.id", passive_deletes=True)

    __table_args__ = (Index("ix_notifications_user", "user_id", "inapp", "read_at", "id"),)


class NotificationPreference(TenantScoped, db.Model):
    """The channels a person chose for one group of events (none: the tenant's default)."""

    __tablename__ = "notification_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_group: Mapped[str] = mapped_column(String(30))
    channels: Mapped[list] = mapped_column(JSON, default=list)

    __table_args__ = (
        UniqueConstraint("user_id", "event_group", name="uq_notification_preferences"),
    )


class NotificationTemplate(TenantScoped, db.Model):
    """A tenant's wording of one event in one language (what it does not set, the product's
    default says)."""

    __tablename__ = "notification_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(60))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    sms: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("tenant_id", "event", "locale", name="uq_notification_templates"),
    )
