"""A file attached to a request: on filing, later from the request page or the API, with a
comment (``history_event_id`` = the comment, ``internal`` copied from it) or with a task's
completion (the step's history entry).

The row is written only once its file is stored, and the file is removed only once the row's
deletion is committed (``app.attachments.lifecycle``): a row never points at a missing file,
and a file left by a failed transaction is removed after its rollback.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class Attachment(TenantScoped, db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"))
    # The comment, task completion or filing it came with, or its own "attached" entry
    history_event_id: Mapped[int | None] = mapped_column(ForeignKey("history_events.id"))
    # Of an internal comment: seen only by those policy.can_see_internal lets
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # As sent (checked: no path separators, no control characters), NFC
    filename: Mapped[str] = mapped_column(String(255))
    # Told from the content (app.attachments.sniffing), never from the name
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Where the storage keeps it: "<tenant>/<request>/<random>" (unique)
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploader = relationship("User")
    history_event = relationship("HistoryEvent")

    __table_args__ = (
        CheckConstraint("size >= 0", name="size_not_negative"),
        Index("ix_attachments_request", "tenant_id", "request_id", "id"),
    )

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
