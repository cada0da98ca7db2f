"""Lifecycle events for webhooks: one delivery row per subscribed endpoint, written in the same
transaction as the change and sent after commit by the background worker."""

import uuid

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage, ServiceRequest, Tenant, WebhookEndpoint
from app.models.base import utcnow
from app.schemas import request_payload

STANDARD_KEYS = frozenset({"id", "event", "occurred_at", "tenant", "actor", "request"})


def emit(req: ServiceRequest, event: str, actor=None, extra: dict | None = None) -> int:
    """Queue ``event`` about ``req`` for the tenant's endpoints; returns how many were queued.
    ``extra``: more keys of the payload, beside (never instead of) the standard ones, such as
    ``sla`` for an SLA's warning or breach."""
    endpoints = [
        e for e in db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == req.tenant_id,
                                          WebhookEndpoint.active.is_(True)))
        if event in (e.events or [])
    ]
    if not endpoints:
        return 0
    db.session.flush()
    tenant = db.session.get(Tenant, req.tenant_id)
    occurred_at = utcnow().isoformat()
    data = request_payload(req)
    for endpoint in endpoints:
        key = uuid.uuid4().hex
        db.session.add(OutboxMessage(
            channel="webhook",
            tenant_id=req.tenant_id,
            endpoint_id=endpoint.id,
            event=event,
            idempotency_key=key,
            payload={
                "id": key,
                "event": event,
                "occurred_at": occurred_at,
                "tenant": tenant.slug,
                "actor": {"id": actor.id, "email": actor.email} if actor else None,
                "request": data,
                **{k: v for k, v in (extra or {}).items() if k not in STANDARD_KEYS},
            },
        ))
    return len(endpoints)
