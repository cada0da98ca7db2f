"""Process definitions (diagrams), their running instances, and the human tasks they wait on."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class ProcessDefinition(TenantScoped, db.Model):
    """One immutable version of a tenant's diagram for a process key."""

    __tablename__ = "process_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    bpmn_process_id: Mapped[str] = mapped_column(String(120))
    # Deferred: steps only need the checksum (the compiled diagram is cached by it).
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64))
    # The kind of work its diagram names (app.kinds), read at deploy: its requests take it
    kind: Mapped[str] = mapped_column(String(20), default="request", server_default="request")
    is_active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User")

    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "process_key", "version", name="uq_process_definitions_version"
        ),
    )


class ProcessInstance(TenantScoped, db.Model):
    """The engine state of one request's workflow; ``version`` guards every step."""

    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="running")
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    definition = relationship("ProcessDefinition")
    request = relationship("ServiceRequest", back_populates="instance")


class HumanTask(TenantScoped, db.Model):
    """A user task the engine waits on: the rows inboxes are made of."""

    __tablename__ = "human_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36))
    spec_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    handlers: Mapped[str] = mapped_column(String(120))
    lane: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # The team of a ``Team`` lane's task (app.teams): its members are its candidates
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    request = relationship("ServiceRequest")
    unit = relationship("Unit")
    assigned_user = relationship("User", foreign_keys=[assigned_user_id])
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])
    completed_by = relationship("User", foreign_keys=[completed_by_id])

    __table_args__ = (
        UniqueConstraint("instance_id", "task_uuid", name="uq_human_tasks_task"),
        Index("ix_human_tasks_inbox_role", "tenant_id", "status", "role", "unit_id"),
        Index("ix_human_tasks_inbox_user", "tenant_id", "status", "assigned_user_id"),
        Index("ix_human_tasks_team", "team_id", "status"),
    )

    @property
    def handler_list(self) -> list[str]:
        return [h for h in self.handlers.split(",") if h]


class ProcessDraft(TenantScoped, db.Model):
    """Work in progress on a tenant's diagram: one per process, saved from the modeler or the
    API, never run. Deploying turns it into a version and removes it."""

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(80))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    updated_by = relationship("User")

    __table_args__ = (
        UniqueConstraint("tenant_id", "process_key", name="uq_process_drafts_process"),
    )


class ProcessIncident(TenantScoped, db.Model):
    """A step of a request's workflow that failed at run time (a condition that raised, a timer
    out of bounds, an operation's refusal). What came before it was saved; the workflow waits
    at the failing element until the process owner retries it, usually after deploying a fix
    and moving the request to that version. Like Camunda's incidents."""

    __tablename__ = "process_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    element_id: Mapped[str] = mapped_column(String(255))
    element_name: Mapped[str] = mapped_column(String(255))
    error: Mapped[str] = mapped_column(Text)
    # What the failing step followed: filing, step (a person's), timer, retry, migration
    occurred_during: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open or resolved
    # How it ended: retried (the step went through), gone (the request left the failing
    # element another way), cancelled (the request was withdrawn)
    resolution: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    request = relationship("ServiceRequest")
    instance = relationship("ProcessInstance")
    definition = relationship("ProcessDefinition")
    actor = relationship("User", foreign_keys=[actor_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])

    __table_args__ = (Index("ix_process_incidents_open", "tenant_id", "status"),)

