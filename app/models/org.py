"""Units, people and the roles they hold in a tenant."""

from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts import passwords
from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

ROLES = (
    "requester",
    "unit_head",
    "service_director",
    "worker",
    "process_owner",
    "tenant_admin",
)


class Unit(TenantScoped, db.Model):
    """An operating unit (dependencia); a service unit attends the others' requests."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    is_service_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    # An archived unit keeps its history but takes no new people, requests or children
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A service unit's cost of an hour of work, for workers without a rate of their own
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    parent: Mapped["Unit | None"] = relationship(remote_side="Unit.id")

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_units_tenant_name"),)


class User(TenantScoped, UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(5))
    # E.164 (+ and 8 to 15 digits), for SMS and WhatsApp notices
    phone: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # What an hour of this person's work costs (workers); else their service unit's rate
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant = relationship("Tenant")
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def set_password(self, password: str) -> None:
        """Store ``password`` hashed with argon2id (``app.accounts.passwords``). It does not
        judge it: whatever lets a person choose one checks ``passwords.problems`` first."""
        self.password_hash = passwords.hash_password(password)

    def check_password(self, password: str) -> bool:
        """Does it match? Older werkzeug hashes too; never for an invited person's UNUSABLE."""
        return passwords.verify(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def unit_ids(self, role: str) -> set[int]:
        return {m.unit_id for m in self.memberships if m.role == role and m.unit_id}

    def has_role(self, role: str) -> bool:
        return any(m.role == role for m in self.memberships)

    @property
    def home_unit_id(self) -> int | None:
        """The unit the person files requests from: where they are staff, else what they head."""
        for role in ("requester", "unit_head"):
            ids = sorted(self.unit_ids(role))
            if ids:
                return ids[0]
        return None


class Membership(TenantScoped, db.Model):
    """A role a user holds, in a unit where the role is unit-bound."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit | None] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "unit_id", "role", name="uq_memberships_user_unit_role"),
    )


class LoginAttempt(db.Model):
    """Failed logins, counted to slow down password guessing."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
