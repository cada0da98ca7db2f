"""A company using the service desk; all its data hangs from it."""

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

DEFAULT_SETTINGS = {
    # ISO 8601 durations read by the diagram's timers
    "authorization_reminder_after": "PT48H",
    "auto_close_after": "P7D",
    # The prefixes of request and ticket numbers (app.services.numbering)
    "request_number_prefix": "SOL",
    "ticket_number_prefix": "TKT",
    # Budgets, rates and costs are in this currency (ISO 4217)
    "currency": "COP",
    # The default process sends a request approved over budget to a tenant admin
    "over_budget_approval": False,
}


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="es")
    timezone: Mapped[str] = mapped_column(String(60), default="America/Bogota")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # The plan its limits come from (app.tenancy.plans); "active" or "suspended" by an operator
    plan: Mapped[str] = mapped_column(String(20), default="profesional")
    status: Mapped[str] = mapped_column(String(12), default="active")
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The company's logo, shown in the header: PNG or JPEG, checked by content
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def setting(self, key: str):
        return (self.settings or {}).get(key, DEFAULT_SETTINGS.get(key))
