"""The outbox: every side effect that leaves the service (a webhook call, an e-mail, an SMS, a
WhatsApp message) is one row here, written in the transaction of the change that causes it and
sent after commit (``app.outbox.queue``)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

CHANNELS = ("webhook", "email", "sms", "whatsapp")
# pending: waits for its turn (or its next try); delivered: the receiver or provider took it;
# failed: given up (the reason is kept); unsent: never tried (e-mail not configured, the
# recipient deactivated); a tenant admin may send failed and unsent messages again.
STATUSES = ("pending", "delivered", "failed", "unsent")


class OutboxMessage(TenantScoped, db.Model):
    """One message for one receiver on one channel, sent at most once per idempotency key."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(60))
    # webhook: the endpoint it goes to; a message: the notice it carries, and where to
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    address: Mapped[str | None] = mapped_column(String(320))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint = relationship("WebhookEndpoint")
    notification = relationship("Notification", back_populates="messages")

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
