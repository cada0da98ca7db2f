"""The company's own clock: its time zone and what day it is there."""

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.models import Tenant
from app.models.base import utcnow


def tenant_of(row) -> Tenant:
    """The company a tenant-scoped row belongs to: from the session's identity map when
    already loaded (the signed-in person's company always is), so no query."""
    from app.extensions import db

    return db.session.get(Tenant, row.tenant_id)


def zone(tenant: Tenant | None) -> ZoneInfo:
    """The tenant's time zone (UTC when it has none, or one this machine does not know)."""
    try:
        return ZoneInfo((tenant.timezone if tenant is not None else None) or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def today(tenant: Tenant | None, now: datetime | None = None) -> date:
    """The date it is now (or at ``now``) where the company is."""
    return (now or utcnow()).astimezone(zone(tenant)).date()
