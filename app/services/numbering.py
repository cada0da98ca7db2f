"""Per-tenant, per-year numbers: SOL-2026-000042, TKT-2026-000042.

The counter is kept per ``kind`` (SOL for requests, TKT for tickets); the prefix written is the
tenant's setting for that kind (``request_number_prefix``, ``ticket_number_prefix``), so
changing it changes the next numbers only, and the count goes on.
"""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import NumberSequence, Tenant

PREFIX_SETTINGS = {"SOL": "request_number_prefix", "TKT": "ticket_number_prefix"}


def prefix(tenant_id: int, kind: str) -> str:
    setting = PREFIX_SETTINGS.get(kind)
    tenant = db.session.get(Tenant, tenant_id) if setting else None
    return (tenant.setting(setting) if tenant is not None else None) or kind


def next_number(tenant_id: int, kind: str, year: int) -> str:
    """Hand out the next number; safe under concurrent transactions (row lock on the counter)."""
    for _ in range(3):
        last = db.session.execute(
            update(NumberSequence)
            .where(
                NumberSequence.tenant_id == tenant_id,
                NumberSequence.kind == kind,
                NumberSequence.year == year,
            )
            .values(last=NumberSequence.last + 1)
            .returning(NumberSequence.last)
        ).scalar()
        if last is not None:
            return f"{prefix(tenant_id, kind)}-{year}-{last:06d}"
        try:
            with db.session.begin_nested():
                db.session.add(NumberSequence(tenant_id=tenant_id, kind=kind, year=year, last=1))
            return f"{prefix(tenant_id, kind)}-{year}-{1:06d}"
        except IntegrityError:
            continue  # another transaction created the counter first; increment it
    raise RuntimeError("could not allocate a number")


def current_last(tenant_id: int, kind: str, year: int) -> int:
    return db.session.scalar(
        select(NumberSequence.last).where(
            NumberSequence.tenant_id == tenant_id,
            NumberSequence.kind == kind,
            NumberSequence.year == year,
        )
    ) or 0
