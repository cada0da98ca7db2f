"""The indicators' own tables.

``element_passes``: every pass of a request's workflow at an element of its process version,
as the heatmap counts them. A row is written by the engine step that opens the pass (the task
became ready or started waiting) and rewritten by the step that closes it, in that step's
transaction (``app.indicators.heatmap_passes``), so the table is right by construction. Passes
of automatic elements (gateways, service tasks, events) open and close in the same step.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime

PASS_STATES = ("waiting", "completed", "cancelled", "merged", "moved")


class ElementPass(TenantScoped, db.Model):
    """One engine task at one element: entered when it became ready (or started waiting),
    left when it completed, was cut short (``cancelled``), merged into another branch at a
    join (``merged``) or its request moved to another version (``moved``)."""

    __tablename__ = "element_passes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"))
    # The version the request was on during the pass
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    task_uuid: Mapped[str] = mapped_column(String(36))  # the engine's task (human_tasks too)
    element_id: Mapped[str] = mapped_column(String(255))
    came_from: Mapped[str | None] = mapped_column(String(255))  # the element before it
    state: Mapped[str] = mapped_column(String(12))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("request_id", "task_uuid", name="uq_element_passes_task"),
        # passes that ended in a period, and those open now (left_at NULL), per version
        Index("ix_element_passes_left", "definition_id", "left_at"),
        # flows taken in a period (a flow is taken when the pass after it opens)
        Index("ix_element_passes_entered", "definition_id", "entered_at"),
    )
