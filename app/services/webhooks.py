"""Outbound webhooks: signing, delivery with retries, and the endpoints tenant admins manage.

Delivery rows are written by ``app.services.events.emit`` in the same transaction as the change
they describe, so nothing is ever sent for a change that rolled back. ``deliver_due`` sends them
afterwards (from the embedded background runner, ``flask webhooks deliver``, or a Celery task per
endpoint when ``CELERY_BROKER_URL`` is set), one at a time:

1. claim a due delivery in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
   ``BEGIN IMMEDIATE`` on SQLite): count the attempt and lease the row for
   ``WEBHOOK_LEASE_SECONDS`` (longer than a send may take, ``DEADLINE_SECONDS``) by
   moving its ``next_attempt_at``; commit;
2. POST it with no transaction open, so a slow receiver never holds a lock a writer waits for;
3. record the outcome in another short transaction: delivered (2xx), retried later with
   exponential backoff, or failed after ``MAX_ATTEMPTS``.

A runner that dies between 1 and 3 leaves the lease to expire and the delivery is sent again
with the same idempotency key: delivery is at least once, and receivers dedupe on
``X-Mesa-Delivery``.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.handlers.base import FormSchema, length
from app.models import WEBHOOK_EVENTS, User, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.sqlite import writing

log = logging.getLogger(__name__)

USER_AGENT = "MesaDeServicios-Webhooks/1"
SCHEMES = ("http", "https")
TIMEOUT_SECONDS = 10               # per socket operation
DEADLINE_SECONDS = 20              # for the whole send, however slowly a receiver answers
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30          # wait after the first failed attempt
BACKOFF_FACTOR = 4                 # 30 s, 2 min, 8 min, 32 min, 2 h 8 min, then the cap
BACKOFF_CAP_SECONDS = 6 * 3600
ERROR_CHARS = 500                  # how much of an error (or a refusal's body) is kept
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

def backoff(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts."""
    return min(BACKOFF_BASE_SECONDS * BACKOFF_FACTOR ** (attempts - 1), BACKOFF_CAP_SECONDS)


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    event: str
    key: str
    payload: dict
    attempt: int  # the number of this attempt, 1 for the first


@dataclass(frozen=True)
class _Outcome:
    status: int | None = None   # the receiver's HTTP status, None when there was no answer
    error: str | None = None
    final: bool = False         # never worth retrying (a URL that may not be called)

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _due_query(now, skip_endpoints, endpoint_id=None):
    query = (
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.event,
               WebhookDelivery.idempotency_key, WebhookDelivery.payload,
               WebhookDelivery.attempts, WebhookEndpoint.url, WebhookEndpoint.secret)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
               WebhookEndpoint.active.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=WebhookDelivery)  # SQLite: BEGIN IMMEDIATE
    )
    if skip_endpoints:
        query = query.where(WebhookDelivery.endpoint_id.not_in(skip_endpoints))
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return query


def endpoints_with_due_deliveries(limit: int = 100) -> list[int]:
    """Enabled endpoints that have a delivery due now (what the Celery dispatcher fans out)."""
    return list(db.session.scalars(
        select(WebhookDelivery.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow(),
               WebhookEndpoint.active.is_(True))
        .group_by(WebhookDelivery.endpoint_id)
        .order_by(func.min(WebhookDelivery.next_attempt_at))
        .limit(limit)))


def _lease_seconds() -> float:
    """How long a claimed delivery is left alone: never shorter than a send may take."""
    return max(current_app.config["WEBHOOK_LEASE_SECONDS"], DEADLINE_SECONDS + 5)


def _claim_next(skip_endpoints: set[int], endpoint_id: int | None = None) -> _Claim | None:
    """Take the next due delivery in a short transaction of its own, or None."""
    with writing():
        try:
            while True:
                now = utcnow()
                row = db.session.execute(_due_query(now, skip_endpoints, endpoint_id)).first()
                if row is None:
                    db.session.commit()
                    return None
                if row.attempts >= MAX_ATTEMPTS:  # a runner died during the last attempt
                    db.session.execute(
                        update(WebhookDelivery).where(WebhookDelivery.id == row.id)
                        .values(status="failed",
                                last_error="The runner stopped during the last attempt.")
                        .execution_options(synchronize_session=False))
                    continue
                db.session.execute(
                    update(WebhookDelivery).where(WebhookDelivery.id == row.id)
                    .values(attempts=row.attempts + 1, last_attempt_at=now,
                            next_attempt_at=now + timedelta(seconds=_lease_seconds()))
                    .execution_options(synchronize_session=False))
                db.session.commit()
                return _Claim(row.id, row.endpoint_id, row.url, row.secret, row.event,
                              row.idempotency_key, row.payload, row.attempts + 1)
        except BaseException:
            db.session.rollback()
            raise


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx answer is a failed attempt, never a request to somewhere else


def _pinned(connection_class, address: str):
    """``connection_class`` connecting to ``address`` whatever the URL's host resolves to now;
    the Host header, TLS server name and certificate check still use the URL's host."""

    class Pinned(connection_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = lambda target, *rest: socket.create_connection(
                (address, target[1]), *rest)

    return Pinned


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(_pinned(http.client.HTTPConnection, self.address), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def https_open(self, req):
        return self.do_open(_pinned(http.client.HTTPSConnection, self.address), req,
                            context=self._context)


def _opener(address: str | None = None) -> urllib.request.OpenerDirector:
    """http and https only (no file:, ftp: or data:), redirects not followed; with
    ``address``, connections go to that (checked) address, not to a second DNS answer."""
    opener = urllib.request.OpenerDirector()
    transport = ((_PinnedHTTPHandler(address), _PinnedHTTPSHandler(address)) if address
                 else (urllib.request.HTTPHandler(), urllib.request.HTTPSHandler()))
    for handler in (urllib.request.ProxyHandler(), *transport,
                    urllib.request.HTTPDefaultErrorHandler(), _NoRedirects(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def _read_some(response) -> str:
    try:
        return response.read(ERROR_CHARS).decode("utf-8", "replace")
    except Exception:  # the body of a refusal is only a hint
        return ""


def _resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (empty if it does not)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [info[4][0].split("%", 1)[0] for info in infos]


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast  # also 100.64/10, 198.18/15...


def private_address(host: str | None) -> bool:
    """Whether ``host`` is or resolves to a loopback, private, link-local or reserved address.

    Such addresses are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set, so a tenant cannot
    make the server call its own internal services.
    """
    if not host:
        return True
    return any(_is_private(address) for address in _resolve(host))


def _proxied(url: str) -> bool:
    """Whether the environment sends this URL through a proxy (which then resolves the host)."""
    parts = urlsplit(url)
    return (parts.scheme in urllib.request.getproxies()
            and not urllib.request.proxy_bypass(parts.hostname or ""))


def _destination(url: str) -> tuple[bool, str | None]:
    """(may the URL be called, the checked address to connect to). The host is resolved once:
    the connection goes to an address that passed the check, so a name that answers a public
    address for the check and an internal one a moment later (DNS rebinding) gets nowhere."""
    if current_app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"]:
        return True, None
    host = urlsplit(url).hostname
    if not host:
        return False, None
    addresses = _resolve(host)
    if any(_is_private(address) for address in addresses):
        return False, None
    if not addresses or _proxied(url):
        return True, None  # unresolvable: the send fails and is retried; a proxy connects
    return True, addresses[0]


def _post(claim: _Claim) -> _Outcome:
    """Send with a hard deadline: a receiver that drips its answer is abandoned, not waited on."""
    if urlsplit(claim.url).scheme.lower() not in SCHEMES:
        return _Outcome(error="Only http and https URLs are called.", final=True)
    allowed, address = _destination(claim.url)
    if not allowed:
        return _Outcome(error="The address is private or internal; it is not called "
                              "(see WEBHOOK_ALLOW_PRIVATE_NETWORKS).", final=True)
    result: list[_Outcome] = []
    sender = threading.Thread(target=lambda: result.append(_send(claim, address)), daemon=True,
                              name=f"webhook-{claim.key[:8]}")
    sender.start()
    sender.join(DEADLINE_SECONDS)
    if not result:
        return _Outcome(error=f"No complete answer within {DEADLINE_SECONDS} s.")
    return result[0]


def _send(claim: _Claim, address: str | None = None) -> _Outcome:
    """The HTTP exchange itself (to ``address`` when given); runs in its own thread, outside
    any app context."""
    body = encode(claim.payload)
    timestamp = int(time.time())
    request = urllib.request.Request(
        claim.url, data=body.encode(), method="POST",
        headers=headers(claim.event, claim.key, claim.secret, body, timestamp))
    try:
        with _opener(address).open(request, timeout=TIMEOUT_SECONDS) as response:
            _read_some(response)
            return _Outcome(status=response.status)
    except urllib.error.HTTPError as exc:
        return _Outcome(status=exc.code, error=f"HTTP {exc.code}: {_read_some(exc)}".strip())
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
        reason = getattr(exc, "reason", None) or exc
        return _Outcome(error=f"{type(exc).__name__}: {reason}")
    except Exception as exc:  # whatever it is, it must not stop the other deliveries
        log.exception("webhook %s: unexpected error while sending", claim.key)
        return _Outcome(error=f"{type(exc).__name__}: {exc}")


def _record(claim: _Claim, outcome: _Outcome) -> None:
    """Write what happened, unless the delivery changed hands meanwhile (lease expired)."""
    now = utcnow()
    values = {"response_status": outcome.status}
    if outcome.error:
        values["last_error"] = outcome.error[:ERROR_CHARS]
    if outcome.delivered:
        values.update(status="delivered", delivered_at=now)
    elif outcome.final or claim.attempt >= MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=now + timedelta(seconds=backoff(claim.attempt)))
    with writing():
        try:
            db.session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == claim.delivery_id,
                       WebhookDelivery.status == "pending",
                       WebhookDelivery.attempts == claim.attempt)
                .values(**values)
                .execution_options(synchronize_session=False))
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def deliver_due(limit: int = 50, endpoint_id: int | None = None) -> int:
    """Send up to ``limit`` due deliveries (of ``endpoint_id`` only, if given), each claimed,
    sent and recorded on its own.

    Returns how many were sent (whatever the answer). Commits its own transactions: call it
    with none of yours open. An endpoint that did not answer (network error, timeout) is not
    tried again in the same pass, so one dead receiver costs one timeout per pass.
    """
    db.session.rollback()
    sent = 0
    unreachable: set[int] = set()
    while sent < limit:
        claim = _claim_next(unreachable, endpoint_id)
        if claim is None:
            break
        outcome = _post(claim)
        _record(claim, outcome)
        sent += 1
        if not outcome.delivered:
            log.warning("webhook %s (%s) to endpoint %s: attempt %s failed: %s", claim.key,
                        claim.event, claim.endpoint_id, claim.attempt, outcome.error)
        if outcome.status is None:
            unreachable.add(claim.endpoint_id)
    return sent


# -- what tenant admins manage ---------------------------------------------------------------

def _http_url(value: str) -> None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme.lower() not in SCHEMES or not parts.hostname
            or any(c.isspace() for c in value)):
        raise ValidationError(str(_l("Enter an http:// or https:// URL.")))
    if parts.username or parts.password:
        raise ValidationError(str(_l("Leave user and password out of the URL; the receiver "
                                     "checks the signature instead.")))
    if not _destination(value)[0]:
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
    return endpoint


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """A disabled endpoint gets no new deliveries; those already queued wait until enabled."""
    endpoint.active = active
    db.session.flush()


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.tenant_id == endpoint.tenant_id,
        WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def can_retry(delivery: WebhookDelivery) -> bool:
    return delivery.status == "failed"


def retry(delivery: WebhookDelivery) -> bool:
    """Queue a failed delivery again, now, with a fresh retry schedule; False if not failed."""
    if not can_retry(delivery):
        return False
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    db.session.flush()
    return True


def log_of(endpoint: WebhookEndpoint, before: int | None = None) -> tuple[list, bool]:
    """The endpoint's deliveries, newest first, a page at a time; and whether older ones exist."""
    query = (select(WebhookDelivery)
             .where(WebhookDelivery.tenant_id == endpoint.tenant_id,
                    WebhookDelivery.endpoint_id == endpoint.id)
             .order_by(WebhookDelivery.id.desc())
             .limit(LOG_PAGE + 1))
    if before:
        query = query.where(WebhookDelivery.id < before)
    rows = list(db.session.scalars(query))
    return rows[:LOG_PAGE], len(rows) > LOG_PAGE


def endpoints_of(tenant_id: int) -> list[tuple[WebhookEndpoint, dict]]:
    """The tenant's endpoints, each with its number of deliveries per status."""
    counts: dict[int, dict] = {}
    for endpoint_id, status, n in db.session.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
            .where(WebhookDelivery.tenant_id == tenant_id)
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)):
        counts.setdefault(endpoint_id, {})[status] = n
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id)
        .order_by(WebhookEndpoint.id))
    return [(e, counts.get(e.id, {})) for e in endpoints]
