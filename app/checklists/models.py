"""The checklists' own tables.

``checklists``: a company's step-by-step instructions for one step of one process, named by
(process key, checklist key): the ordered items, as text. A user task carrying the property
``checklist`` shows them.
``task_checklist_items``: the items a task started with (copied when it opened, so editing the
instructions later never changes what an open task asks for), and who ticked each, when.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class Checklist(TenantScoped, db.Model):
    __tablename__ = "checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(40))  # the task property ``checklist``
    items: Mapped[list] = mapped_column(JSON, default=list)  # ordered texts
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    updated_by = relationship("User")

    __table_args__ = (
        UniqueConstraint("tenant_id", "process_key", "key", name="uq_checklists_key"),
    )


class TaskChecklistItem(TenantScoped, db.Model):
    __tablename__ = "task_checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"))
    checklist_key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... in the checklist's order
    text: Mapped[str] = mapped_column(String(500))
    ticked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    task = relationship("HumanTask")
    ticked_by = relationship("User")

    __table_args__ = (
        UniqueConstraint("task_id", "position", name="uq_task_checklist_items_position"),
        Index("ix_task_checklist_items_request", "tenant_id", "request_id"),
    )
