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

Where a delivery may go is decided the same way when an endpoint is registered and each time it
is sent: ``target`` reads the stored URL exactly as the HTTP client will (refusing any odd
spelling of a host rather than interpreting it), ``_destination`` resolves the name once, and
unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set, ``special_purpose`` refuses loopback, private,
link-local and every other special-purpose address. The connection then goes only to the
addresses checked, never through a proxy. The admin sees a refusing receiver's status and a
short excerpt of its answer, nothing more.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import re
import secrets
import socket
import threading
import time
import unicodedata
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
ERROR_CHARS = 300                  # how much of an error is kept
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


# -- where a URL leads, and whether it may be called -------------------------------------------

DEFAULT_PORTS = {"http": http.client.HTTP_PORT, "https": http.client.HTTPS_PORT}
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")  # one label of a DNS name
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")     # a label libc reads as (part of) an IPv4 address
_IPV6 = re.compile(r"[0-9a-f:.]+")               # no zone ("%eth0"), nothing encoded
_PORT = re.compile(r"[0-9]{1,5}")

# Why a URL is never called: the words kept in the delivery log, and those shown on the form.
_PROBLEMS = {
    "characters": ("The URL has spaces, backslashes, control characters or characters outside "
                   "ASCII.",
                   _l("Use only printable ASCII in the URL, with no spaces or backslashes: "
                      "percent-encode other characters in the path, and write an "
                      "internationalised name in its xn-- form.")),
    "scheme": ("Only http and https URLs are called.", _l("Enter an http:// or https:// URL.")),
    "form": ("The URL is not a plain http or https URL.", _l("Enter an http:// or https:// URL.")),
    "userinfo": ("The URL has a user or password in it.",
                 _l("Leave user and password out of the URL; the receiver checks the signature "
                    "instead.")),
    "host": ("The host is not a plain name or IP address.",
             _l("Write the host as a plain name such as hooks.example.com, or an IP address such "
                "as 93.184.215.14 or [2606:4700::1111], with nothing encoded.")),
    "port": ("The port is not a number from 1 to 65535.", _l("Enter a port from 1 to 65535.")),
}


class UnusableURL(ValueError):
    """A URL that is never called: ``reason`` for the delivery log, ``message`` for the form."""

    def __init__(self, problem: str):
        self.reason, self.message = _PROBLEMS[problem]
        super().__init__(self.reason)


@dataclass(frozen=True)
class Target:
    """What a webhook request is sent to, exactly as the HTTP client uses it."""
    scheme: str   # "http" or "https"
    host: str     # a lower-case DNS name, or an IP address in its usual spelling (no brackets)
    port: int
    path: str     # path and query, as written in the request line

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The host, when it is an IP address rather than a name."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def url(self) -> str:
        """The URL the sender hands to urllib: nothing in it is left for urllib to interpret."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"


class _HTTPSAddressing(http.client.HTTPConnection):
    """Splits host and port as ``HTTPSConnection`` does (the same code, 443 by default), without
    building a TLS context; it is never connected."""
    default_port = http.client.HTTPS_PORT


_ADDRESSING = {"http": http.client.HTTPConnection, "https": _HTTPSAddressing}


def _as_sent(url: str, scheme: str) -> tuple[str, int, str]:
    """(host, port, request path) that urllib.request and http.client make of ``url``: the
    request's host as urllib decodes it, split into host and port by http.client."""
    try:
        request = urllib.request.Request(url)
        connection = _ADDRESSING[scheme](request.host)
    except (ValueError, http.client.HTTPException):
        raise UnusableURL("form") from None
    return connection.host, connection.port, request.selector


def _ipv6_literal(text: str) -> str:
    try:
        ip = ipaddress.IPv6Address(text) if _IPV6.fullmatch(text) else None
    except ValueError:
        ip = None
    if ip is None or ip.is_unspecified:
        raise UnusableURL("host")
    return ip.compressed


def _name_or_ipv4(text: str) -> str:
    """``text`` if it is a dotted-quad IPv4 address or a DNS name that no resolver reads as an
    address (``127.1``, ``0x7f.1``, ``017700000001``, ``2130706433`` all mean 127.0.0.1 to
    libc); otherwise UnusableURL."""
    labels = text.split(".")
    if len(labels) == 4 and all(label.isdigit() for label in labels):
        try:
            ip = ipaddress.IPv4Address(text)  # refuses leading zeros (octal to libc)
        except ValueError:
            raise UnusableURL("host") from None
        if ip.is_unspecified:
            raise UnusableURL("host")
        return text
    if (len(text) > 253 or not all(_LABEL.fullmatch(label) for label in labels)
            or _NUMBER.fullmatch(labels[-1])):
        raise UnusableURL("host")  # also an empty label: a leading, doubled or final dot
    try:
        socket.inet_aton(text)
    except OSError:
        return text
    raise UnusableURL("host")  # whatever else this libc takes for an address


def _host_and_port(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        literal, bracket, rest = netloc[1:].partition("]")
        if not bracket:
            raise UnusableURL("host")
        host = _ipv6_literal(literal)
    else:
        literal, colon, port = netloc.partition(":")
        host, rest = _name_or_ipv4(literal), colon + port
    if not rest:
        return host, default_port
    if rest[0] != ":":
        raise UnusableURL("host")
    if not _PORT.fullmatch(rest[1:]) or not 0 < int(rest[1:]) <= 65535:
        raise UnusableURL("port")
    return host, int(rest[1:])


def target(url: str) -> Target:
    """Scheme, host, port and request path of ``url``, as the sender uses them; raises
    UnusableURL for a URL that is never called.

    Strict on purpose, so that the host checked is byte for byte the host connected to: urllib
    decodes a percent-encoded host, urlsplit drops tabs and newlines, libc reads ``0x7f.1`` as
    127.0.0.1, the IDNA codec maps full-width letters to ASCII. Instead of following each of
    them, only a plain lower-case DNS name or an IP address in its usual spelling is accepted,
    and a URL with anything else in its host (user info, a zone, a final dot...) is refused.
    The sender sends ``Target.url``, and urllib and http.client are asked what they make of it.
    """
    if not all(" " < c < "\x7f" for c in url) or "\\" in url:
        raise UnusableURL("characters")
    try:
        parts = urlsplit(url)
    except ValueError:  # brackets that do not hold an IPv6 address
        raise UnusableURL("host") from None
    if parts.scheme not in SCHEMES:
        raise UnusableURL("scheme")
    netloc = parts.netloc.lower()
    if not netloc:
        raise UnusableURL("form")
    if "@" in netloc:
        raise UnusableURL("userinfo")
    host, port = _host_and_port(netloc, DEFAULT_PORTS[parts.scheme])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    where = Target(parts.scheme, host, port, path)
    if _as_sent(where.url, where.scheme) != (host, port, path):
        raise UnusableURL("form")
    return where


def _networks(*rows: tuple[str, str]) -> tuple:
    return tuple((ipaddress.ip_network(network), name) for network, name in rows)


# Addresses a webhook never goes to (IANA's special-purpose registries and more); the first
# row that holds an address names it. IPv6 outside 2000::/3 is refused as well.
SPECIAL_PURPOSE = {
    4: _networks(
        ("0.0.0.0/8", "this network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    ),
    6: _networks(
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo"),
        ("2001:2::/48", "benchmarking"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignments"),
        ("2002::/16", "6to4"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing (SRv6)"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    ),
}
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
# IPv6 addresses that stand for an IPv4 one, held in their last 32 bits: judged by that one.
EMBEDDING_IPV4 = _networks(("::ffff:0:0/96", "IPv4-mapped"), ("64:ff9b::/96", "NAT64"))


def special_purpose(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``address`` (text or ``ipaddress`` object) is not an ordinary public address, or None.

    An IPv4-mapped or NAT64 (``64:ff9b::/96``) address is judged by the IPv4 address in it,
    which is where the connection goes. Other IPv6 forms that embed an IPv4 address
    (IPv4-compatible, 6to4, Teredo, local-use NAT64) are refused whatever they embed: they are
    deprecated or local, and no receiver needs them. ``ipaddress``'s own view comes last, in
    case a later Python knows a range this table does not.
    """
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.scope_id:
            return "scoped (zone)"
        for network, form in EMBEDDING_IPV4:
            if ip in network:
                inner = special_purpose(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
                return inner and f"{inner} ({form})"
    for network, name in SPECIAL_PURPOSE[ip.version]:
        if ip in network:
            return name
    if ip.version == 6 and ip not in GLOBAL_UNICAST:
        return "reserved"
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_link_local:
        return "not global"
    return None


def _resolve(host: str, port: int | None = None) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (empty if it does not)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def private_address(host: str | None) -> bool:
    """Whether ``host`` is or resolves to a special-purpose address (loopback, private,
    link-local, reserved...: see ``special_purpose``).

    Such addresses are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set, so a tenant cannot
    make the server call its own internal services.
    """
    if not host:
        return True
    return any(special_purpose(address) for address in _resolve(host))


def _destination(where: Target) -> tuple[bool, list[str]]:
    """(may ``where`` be called, the addresses to connect to). A name is resolved once, here,
    and the connection goes only to the addresses checked, so a name that answers a public
    address for the check and an internal one a moment later (DNS rebinding) gets nowhere."""
    addresses = [where.host] if where.ip else _resolve(where.host, where.port)
    if current_app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"]:
        return True, addresses
    return not any(special_purpose(address) for address in addresses), addresses


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


def _connect_first(addresses: list[str], port: int, *rest) -> socket.socket:
    """A connection to the first of ``addresses`` that answers (the resolver's order)."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), *rest)
        except OSError as exc:
            error = exc
    raise error


def _pinned(connection_class, addresses: list[str]):
    """``connection_class`` connecting only to ``addresses``, whatever the URL's host resolves
    to now; the Host header, TLS server name and certificate check still use the URL's host."""

    class Pinned(connection_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = lambda target, *rest: _connect_first(
                addresses, target[1], *rest)

    return Pinned


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, addresses: list[str]):
        super().__init__()
        self.addresses = addresses

    def http_open(self, req):
        return self.do_open(_pinned(http.client.HTTPConnection, self.addresses), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, addresses: list[str]):
        super().__init__()
        self.addresses = addresses

    def https_open(self, req):
        return self.do_open(_pinned(http.client.HTTPSConnection, self.addresses), req,
                            context=self._context)


def _opener(addresses: list[str]) -> urllib.request.OpenerDirector:
    """http and https only (no file:, ftp: or data:), connections only to ``addresses`` (the
    checked ones), no proxy (a proxy would resolve the name again, unchecked), redirects not
    followed."""
    opener = urllib.request.OpenerDirector()
    for handler in (_PinnedHTTPHandler(addresses), _PinnedHTTPSHandler(addresses),
                    urllib.request.HTTPDefaultErrorHandler(), _NoRedirects(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


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


def _post(claim: _Claim) -> _Outcome:
    """Send with a hard deadline: a receiver that drips its answer is abandoned, not waited on."""
    try:
        where = target(claim.url)
    except UnusableURL as exc:
        return _Outcome(error=exc.reason, final=True)
    allowed, addresses = _destination(where)
    if not allowed:
        return _Outcome(error="The address is private or internal; it is not called "
                              "(see WEBHOOK_ALLOW_PRIVATE_NETWORKS).", final=True)
    if not addresses:
        return _Outcome(error="The host name does not resolve.")
    result: list[_Outcome] = []
    sender = threading.Thread(target=lambda: result.append(_send(claim, where, addresses)),
                              daemon=True, name=f"webhook-{claim.key[:8]}")
    sender.start()
    sender.join(DEADLINE_SECONDS)
    if not result:
        return _Outcome(error=f"No complete answer within {DEADLINE_SECONDS} s.")
    return result[0]


def _send(claim: _Claim, where: Target, addresses: list[str]) -> _Outcome:
    """The HTTP exchange itself, to ``where`` at one of ``addresses``; runs in its own thread,
    outside any app context."""
    body = encode(claim.payload)
    timestamp = int(time.time())
    request = urllib.request.Request(
        where.url, data=body.encode(), method="POST",
        headers=headers(claim.event, claim.key, claim.secret, body, timestamp))
    try:
        with _opener(addresses).open(request, timeout=TIMEOUT_SECONDS) as response:
            _excerpt(response)  # read a little of the answer; what a 2xx says is not kept
            return _Outcome(status=response.status)
    except urllib.error.HTTPError as exc:
        try:
            return _Outcome(status=exc.code, error=_refusal(exc))
        finally:
            exc.close()
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
        return _Outcome(error=f"{type(exc).__name__}: {_reason(exc)}")
    except Exception as exc:  # whatever it is, it must not stop the other deliveries
        log.exception("webhook %s: unexpected error while sending", claim.key)
        return _Outcome(error=f"{type(exc).__name__}; see the server's log.")


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
    """The URL's form, then (unless private networks are allowed) where its host leads, both
    as the sender sees them: ``target`` and ``_destination`` are the ones ``_post`` calls."""
    try:
        where = target(value)
    except UnusableURL as exc:
        raise ValidationError(str(exc.message)) from None
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] and not _destination(where)[0]:
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
