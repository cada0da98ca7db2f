"""A team of people of one company, and who is in it."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class Team(TenantScoped, db.Model):
    """A group a diagram names by ``key`` (the task property ``team`` of a ``Team`` lane)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40))  # [a-z][a-z0-9_]{1,39}
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict] = mapped_column(JSON, default=dict)  # per language: {"es": ..., "en": ...}
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="TeamMember.user_id")

    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_teams_tenant_key"),)

    def name_in(self, language: str | None) -> str:
        return (self.names or {}).get(language or "") or self.name


class TeamMember(TenantScoped, db.Model):
    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team = relationship("Team", back_populates="members")
    user = relationship("User")

    __table_args__ = (
        UniqueConstraint("team_id", "user_id", name="uq_team_members_member"),
        # a person's teams (inbox, visibility)
        Index("ix_team_members_user", "tenant_id", "user_id"),
    )
