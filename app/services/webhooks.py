"""Outbound webhooks: signing, delivery with retries, and the endpoints tenant admins manage.

Deliveries are outbox rows (``app.outbox``, channel "webhook") written by ``emit`` in the same
transaction as the change they describe, so nothing is ever sent for a change that rolled back.
The outbox claims, leases, retries and records them as it does every message; what is
webhook-specific is here: who gets an event, the signed POST with a hard deadline, and the
endpoints tenant admins manage. Delivery is at least once: a runner that dies mid-send leaves
the lease to expire and the delivery is sent again with the same key, and receivers dedupe on
``X-Mesa-Delivery``.

Where a delivery may go is decided the same way when an endpoint is registered and each time it
is sent (``services.webhook_targets``). The admin sees a refusing receiver's status and a short
excerpt of its answer, nothing more.
"""

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate
from sqlalchemy import delete, func, select

from app.admin import audit
from app.extensions import db
from app.handlers.base import FormSchema, length
from app.models import WEBHOOK_EVENTS, OutboxMessage, User, WebhookEndpoint
from app.outbox import queue
from app.outbox.outcome import Outcome
from app.services.webhook_targets import (
    Target,
    UnusableURL,
    cut,
    destination,
    opener,
    target,
)

log = logging.getLogger(__name__)

USER_AGENT = "MesaDeServicios-Webhooks/1"
TIMEOUT_SECONDS = 10               # per socket operation
DEADLINE_SECONDS = 20              # for the whole send, however slowly a receiver answers
CUT_SECONDS = 2                    # for the sender to end once its connection is cut
MAX_ATTEMPTS = queue.MAX_ATTEMPTS
EXCERPT_CHARS = 200                # how much of a refusal's body is kept, as a hint
REASON_CHARS = 100                 # how much of a network error's wording is kept
LOG_PAGE = 50


# -- signing ---------------------------------------------------------------------------------

def encode(payload: dict) -> str:
    """The exact body that is sent and signed."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def signature(secret: str, timestamp: int, body: str | bytes) -> str:
    """Hex HMAC-SHA256 of ``"{timestamp}.{body}"`` keyed with the endpoint's secret."""
    if isinstance(body, str):
        body = body.encode()
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str | bytes) -> str:
    return f"t={int(timestamp)},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str | None, body: str | bytes, tolerance: int = 300,
           now: float | None = None) -> bool:
    """Whether ``X-Mesa-Signature`` ``header`` signs ``body`` with ``secret``, made within
    ``tolerance`` seconds of ``now``. What a receiver runs on the raw body it got."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)


def headers(event: str, key: str, secret: str, body: str, timestamp: int) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Mesa-Event": event,
        "X-Mesa-Delivery": key,
        "Idempotency-Key": key,
        "X-Mesa-Signature": signature_header(secret, timestamp, body),
    }


# -- delivery ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claim:
    """One delivery as the sender needs it."""

    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    event: str
    key: str
    payload: dict
    attempt: int  # the number of this attempt, 1 for the first


def lease_seconds() -> float:
    """How long a claimed delivery is left alone: never shorter than a send may take."""
    return max(current_app.config["WEBHOOK_LEASE_SECONDS"], DEADLINE_SECONDS + 5)


def _deliver(claim: queue.Claim) -> Outcome:
    """The outbox's sender for webhooks: the endpoint's address and secret as they are now."""
    endpoint = db.session.get(WebhookEndpoint, claim.endpoint_id)
    if endpoint is None:  # deleted since (its deliveries go with it)
        return Outcome.not_sent("The endpoint was deleted.")
    return _post(_Claim(claim.id, endpoint.id, endpoint.url, endpoint.secret, claim.event,
                        claim.key, claim.payload, claim.attempt))


queue.register(queue.Channel("webhook", _deliver, lease_seconds))


def _one_line(text: str, limit: int) -> str:
    """``text`` without control or format characters (a terminal escape, a bidi override),
    its whitespace collapsed, cut to ``limit`` characters."""
    text = " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c
                            for c in text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _excerpt(response) -> str:
    """The start of a refusal's body, as a short hint: never the whole of it."""
    try:
        return _one_line(response.read(4 * EXCERPT_CHARS).decode("utf-8", "replace"),
                         EXCERPT_CHARS)
    except Exception:
        return ""


def _refusal(exc: urllib.error.HTTPError) -> str:
    if 300 <= exc.code < 400:  # where it points may be an internal address: not shown
        return f"HTTP {exc.code}: redirects are not followed."
    excerpt = _excerpt(exc)
    return f"HTTP {exc.code}: {excerpt}" if excerpt else f"HTTP {exc.code}"


def _reason(exc: BaseException) -> str:
    """A short account of a failed exchange: the system's words for a network error, but
    nothing the receiver sent (http.client's complaints quote the bytes it got)."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, http.client.HTTPException):
        return "the answer is not valid HTTP."
    if isinstance(exc, OSError):
        return _one_line(exc.strerror or str(exc), REASON_CHARS)
    return "the request could not be made."


def _post(claim: _Claim) -> Outcome:
    """Send with a hard deadline: a receiver that drips its answer is abandoned, not waited on."""
    try:
        where = target(claim.url)
    except UnusableURL as exc:
        return Outcome.failed(exc.reason, final=True)
    allowed, addresses = destination(where)
    if not allowed:
        return Outcome.failed("The address is private or internal; it is not called "
                              "(see WEBHOOK_ALLOW_PRIVATE_NETWORKS).", final=True)
    if not addresses:
        return Outcome.failed("The host name does not resolve.", reachable=False)
    result: list[Outcome] = []
    opened: list = []
    sender = threading.Thread(
        target=lambda: result.append(_send(claim, where, addresses, opened)),
        daemon=True, name=f"webhook-{claim.key[:8]}")
    sender.start()
    sender.join(DEADLINE_SECONDS)
    if not result:
        cut(opened)  # the sender's read fails at once: no thread or socket left behind
        sender.join(CUT_SECONDS)
        return Outcome.failed(f"No complete answer within {DEADLINE_SECONDS} s.",
                              reachable=False)
    return result[0]


def _send(claim: _Claim, where: Target, addresses: list[str], opened: list) -> Outcome:
    """The HTTP exchange itself, to ``where`` at one of ``addresses``; runs in its own thread,
    outside any app context."""
    body = encode(claim.payload)
    timestamp = int(time.time())
    request = urllib.request.Request(
        where.url, data=body.encode(), method="POST",
        headers=headers(claim.event, claim.key, claim.secret, body, timestamp))
    try:
        with opener(addresses, opened).open(request, timeout=TIMEOUT_SECONDS) as response:
            _excerpt(response)  # read a little of the answer; what a 2xx says is not kept
            if 200 <= response.status < 300:
                return Outcome.sent(response.status)
            return Outcome.failed(f"HTTP {response.status}", status=response.status)
    except urllib.error.HTTPError as exc:
        try:
            return Outcome.failed(_refusal(exc), status=exc.code)
        finally:
            exc.close()
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
        return Outcome.failed(f"{type(exc).__name__}: {_reason(exc)}", reachable=False)
    except Exception as exc:  # whatever it is, it must not stop the other deliveries
        log.exception("webhook %s: unexpected error while sending", claim.key)
        return Outcome.failed(f"{type(exc).__name__}; see the server's log.")


def deliver_due(limit: int = 50, endpoint_id: int | None = None) -> int:
    """Send up to ``limit`` due deliveries (of ``endpoint_id`` only, if given); see
    ``app.outbox.queue.deliver_due``."""
    return queue.deliver_due(("webhook",), limit=limit, endpoint_id=endpoint_id)


# -- what tenant admins manage ---------------------------------------------------------------

def _http_url(value: str) -> None:
    """The URL's form, then (unless private networks are allowed) where its host leads, both
    as the sender sees them: ``target`` and ``_destination`` are the ones ``_post`` calls."""
    try:
        where = target(value)
    except UnusableURL as exc:
        raise ValidationError(str(exc.message)) from None
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] and not destination(where)[0]:
        raise ValidationError(str(_l("This address is internal to the server's network; "
                                     "use a public address.")))


def _known_events(value: list) -> None:
    if any(event not in WEBHOOK_EVENTS for event in value):
        raise ValidationError(str(_l("Choose events from the list.")))


class EndpointSchema(FormSchema):
    url = fields.String(required=True, validate=[length(max=500), _http_url],
                        metadata={"label": _l("URL")})
    description = fields.String(validate=length(max=200), load_default="",
                                metadata={"label": _l("Description")})
    events = fields.List(
        fields.String(), required=True,
        validate=[validate.Length(min=1, error=_l("Choose at least one event.")), _known_events],
        error_messages={"required": _l("Choose at least one event.")},
        metadata={"label": _l("Events")})


def create_endpoint(user: User, form: dict) -> WebhookEndpoint:
    """Register a URL for the user's tenant with a new secret; raises ValidationError."""
    data = EndpointSchema().load(form)
    chosen = set(data["events"])
    endpoint = WebhookEndpoint(
        tenant_id=user.tenant_id, url=data["url"], description=data["description"],
        events=[e for e in WEBHOOK_EVENTS if e in chosen], secret=secrets.token_urlsafe(32),
        active=True, created_by_id=user.id)
    db.session.add(endpoint)
    db.session.flush()
    audit.record(user.tenant_id, user, "webhook.created", "webhook_endpoint", endpoint.id,
                 target_label=endpoint.url, after=audit.snapshot(endpoint, AUDITED))
    return endpoint


# What an audit entry shows of an endpoint (never its secret)
AUDITED = ("url", "description", "events", "active")


def _audit(endpoint: WebhookEndpoint, actor: User | None, action: str, **changes) -> None:
    audit.record(endpoint.tenant_id, actor, action, "webhook_endpoint", endpoint.id,
                 target_label=endpoint.url, actor_label=None if actor is not None else "system",
                 **changes)


def set_active(endpoint: WebhookEndpoint, active: bool, actor: User | None = None) -> None:
    """A disabled endpoint gets no new deliveries; those already queued wait until enabled.
    A change is audited (``actor`` did it; None: the system)."""
    before = endpoint.active
    endpoint.active = active
    if before != active:
        _audit(endpoint, actor, "webhook.enabled" if active else "webhook.disabled",
               before={"active": before}, after={"active": active})
    db.session.flush()


def delete_endpoint(endpoint: WebhookEndpoint, actor: User | None = None) -> None:
    _audit(endpoint, actor, "webhook.deleted", before=audit.snapshot(endpoint, AUDITED))
    db.session.execute(delete(OutboxMessage).where(
        OutboxMessage.tenant_id == endpoint.tenant_id,
        OutboxMessage.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def can_retry(delivery: OutboxMessage) -> bool:
    return delivery.status in ("failed", "unsent")


def retry(delivery: OutboxMessage, actor: User | None = None) -> bool:
    """Queue a failed delivery again, now, with a fresh retry schedule; False if not failed.
    A retry is audited on the endpoint."""
    before = delivery.status
    if not queue.resend(delivery):
        return False
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is not None and endpoint.tenant_id == delivery.tenant_id:
        _audit(endpoint, actor, "webhook.delivery_retried", before={"status": before},
               after={"delivery_id": delivery.id, "status": delivery.status})
    return True


def log_of(endpoint: WebhookEndpoint, before: int | None = None) -> tuple[list, bool]:
    """The endpoint's deliveries, newest first, a page at a time; and whether older ones exist."""
    query = (select(OutboxMessage)
             .where(OutboxMessage.tenant_id == endpoint.tenant_id,
                    OutboxMessage.endpoint_id == endpoint.id)
             .order_by(OutboxMessage.id.desc())
             .limit(LOG_PAGE + 1))
    if before:
        query = query.where(OutboxMessage.id < before)
    rows = list(db.session.scalars(query))
    return rows[:LOG_PAGE], len(rows) > LOG_PAGE


def endpoints_of(tenant_id: int) -> list[tuple[WebhookEndpoint, dict]]:
    """The tenant's endpoints, each with its number of deliveries per status."""
    counts: dict[int, dict] = {}
    for endpoint_id, status, n in db.session.execute(
            select(OutboxMessage.endpoint_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.tenant_id == tenant_id)
            .group_by(OutboxMessage.endpoint_id, OutboxMessage.status)):
        counts.setdefault(endpoint_id, {})[status] = n
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id)
        .order_by(WebhookEndpoint.id))
    return [(e, counts.get(e.id, {})) for e in endpoints]
