"""Per-tenant, per-year numbers: SOL-2026-000042, TKT-2026-000042."""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import NumberSequence


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
            return f"{kind}-{year}-{last:06d}"
        try:
            with db.session.begin_nested():
                db.session.add(NumberSequence(tenant_id=tenant_id, kind=kind, year=year, last=1))
            return f"{kind}-{year}-{1:06d}"
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
