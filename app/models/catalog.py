"""The service catalog: what can be asked for, and which service unit attends it."""

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped

PRIORITIES = ("low", "normal", "high", "urgent")


class Category(TenantScoped, db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The name per language ({"es": ..., "en": ...}); ``name`` is the tenant's language's
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    service_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    default_priority: Mapped[str] = mapped_column(String(10), default="normal")
    process_key: Mapped[str] = mapped_column(String(80), default="service_request")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The extra fields a request of this category is filed with (app.request_fields): a JSON
    # list of field specs, as diagram forms define them
    request_fields: Mapped[list] = mapped_column(JSON, default=list)

    service_unit = relationship("Unit")

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_categories_tenant_name"),)

    def label(self, locale: str | None) -> str:
        """The name in ``locale`` when the tenant gave one, else its name."""
        return (self.names or {}).get(locale or "") or self.name
