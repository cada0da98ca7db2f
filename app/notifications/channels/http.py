"""One POST to a messaging provider (Twilio, the WhatsApp Cloud API), and what became of it.

The outbox depends on telling two failures apart:

- ``NotSent``: nothing reached the provider whole (no address, connection refused, a connect
  or TLS failure, the connection lost while the request was being written). Trying again
  cannot send the message twice.
- ``NoAnswer``: the request went out but no answer came back (read timeout, connection reset,
  the deadline). The provider may have taken the message; trying again could send it twice.

Each exchange runs in a thread of its own under a hard deadline (``DEADLINE_FACTOR`` times the
socket timeout), so a provider that drips its answer is abandoned, not waited on. Redirects are
never followed; no proxy is used; credentials go over https only (plain http is allowed to
loopback, for the test doubles).
"""

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import unicodedata
import urllib.parse
from dataclasses import dataclass

from app.outbox.outcome import Outcome

log = logging.getLogger(__name__)

USER_AGENT = "MesaDeServicios-Notifications/1"
DEADLINE_FACTOR = 2                # the whole exchange: twice the per-operation timeout
CUT_SECONDS = 2                    # for the sender thread to end once its connection is cut
ANSWER_BYTES = 64 * 1024           # how much of an answer is read
ERROR_CHARS = 300                  # how much of an error is kept
EXCERPT_CHARS = 200                # how much of a refusal's body is kept, as a hint
REASON_CHARS = 100                 # how much of a network error's wording is kept
HIDDEN = "[hidden]"
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_LOOPBACK_NAMES = ("localhost",)


class UnusableURL(ValueError):
    """A provider's base URL that is not called (another scheme, credentials in it...)."""


class NotSent(Exception):
    """The request did not reach the provider whole: safe to send again."""


class NoAnswer(Exception):
    """The request went out and no answer came back: the provider may have taken it."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""

    def json(self) -> dict | None:
        """The body as a JSON object, or None."""
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # garbled, or nested deep
            return None
        return value if isinstance(value, dict) else None

    def excerpt(self, hide: tuple[str, ...] = ()) -> str:
        """The start of the body, as a short hint (secrets hidden before it is cut)."""
        return one_line(self.body.decode("utf-8", "replace"), EXCERPT_CHARS, hide)


# -- text --------------------------------------------------------------------------------------

def one_line(text: str, limit: int = ERROR_CHARS, hide: tuple[str, ...] = ()) -> str:
    """``text`` without any of ``hide`` (secrets), control or format characters, its
    whitespace collapsed, cut to ``limit`` characters."""
    for secret in hide:
        if secret and len(secret) >= 4:
            text = text.replace(secret, HIDDEN)
    text = " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c
                            for c in text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def without_bidi(text: str) -> str:
    """``text`` without bidirectional embeddings, overrides and isolates (they can make a
    message read other than it is written)."""
    return text.translate(_BIDI)


def header_safe(value: str) -> bool:
    """Whether a credential can go in a header as it is: printable ASCII, no spaces. (A bad
    one is refused before any request is built: http.client's complaint would quote it.)"""
    return bool(value) and value.isascii() and value.isprintable() and " " not in value


# -- the address -------------------------------------------------------------------------------

def endpoint(base_url: str, *segments: str) -> str:
    """``base_url`` followed by ``segments`` (each quoted whole); raises UnusableURL."""
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnusableURL("The provider's base URL must be an https:// address.")
    if parts.username is not None or parts.password is not None or parts.query \
            or parts.fragment:
        raise UnusableURL("The provider's base URL must not carry credentials, a query or "
                          "a fragment.")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise UnusableURL("The provider's base URL must be an https:// address.")
    try:
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        raise UnusableURL("The provider's base URL has an invalid port.") from None
    path = parts.path.rstrip("/") + "".join(
        "/" + urllib.parse.quote(s, safe="") for s in segments)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the exchange ------------------------------------------------------------------------------

class _Exchange:
    """What the sender thread got to: ``stage`` is "connecting", then "sending" (bytes may be
    on the wire), then "waiting"; ``status`` once a status line came back. Once the caller
    gave up (``abandon``), a connection made late sends nothing."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stage = "connecting"
        self.abandoned = False
        self.status: int | None = None
        self.result: Answer | Exception | None = None

    def start_sending(self) -> bool:
        with self.lock:
            if self.abandoned:
                return False
            self.stage = "sending"
            return True

    def abandon(self) -> tuple[str, int | None]:
        with self.lock:
            self.abandoned = True
            return self.stage, self.status


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``url`` and return the answer, whatever its status (3xx included:
    never followed). Raises NotSent or NoAnswer."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
    exchange = _Exchange()
    sender = threading.Thread(target=_run, args=(exchange, connection, path, body, headers),
                              daemon=True, name="notification-post")
    sender.start()
    sender.join(timeout * DEADLINE_FACTOR)
    if exchange.result is None:
        stage, status = exchange.abandon()
        _cut(connection)  # the sender's read fails at once: no thread or socket left behind
        sender.join(CUT_SECONDS)
        if status is not None:
            return Answer(status)
        if stage == "connecting":
            raise NotSent(f"no connection within {timeout * DEADLINE_FACTOR:g} s.")
        raise NoAnswer(f"no complete answer within {timeout * DEADLINE_FACTOR:g} s.")
    if isinstance(exchange.result, Exception):
        raise exchange.result
    return exchange.result


def _run(exchange: _Exchange, connection, path: str, body: bytes, headers: dict) -> None:
    try:
        exchange.result = _exchange(exchange, connection, path, body, headers)
    except (NotSent, NoAnswer) as exc:
        exchange.result = exc
    except Exception as exc:  # a bug: said without its message (it could quote a header)
        log.error("notification post: unexpected %s while %s", type(exc).__name__,
                  exchange.stage)
        kind = NotSent if exchange.stage == "connecting" else NoAnswer
        exchange.result = kind(f"{type(exc).__name__}; see the server's log.")
    finally:
        connection.close()


def _exchange(exchange: _Exchange, connection, path: str, body: bytes,
              headers: dict) -> Answer:
    try:
        connection.connect()
    except (OSError, http.client.HTTPException) as exc:
        raise NotSent(reason(exc)) from None
    if not exchange.start_sending():
        raise NotSent("abandoned at the deadline.")
    try:
        connection.request("POST", path, body=body, headers=headers)
    except (OSError, http.client.HTTPException) as exc:  # the body did not go out whole
        raise NotSent(reason(exc)) from None
    exchange.stage = "waiting"
    try:
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        raise NoAnswer(reason(exc)) from None
    exchange.status = response.status
    try:
        return Answer(response.status, response.read(ANSWER_BYTES))
    except (OSError, http.client.HTTPException):
        return Answer(response.status)  # the status is the answer; its body is lost


def _cut(connection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def reason(exc: BaseException) -> str:
    """A short account of a network error in the system's words, never what the other side
    sent (http.client's complaints quote the bytes it got)."""
    if isinstance(exc, TimeoutError):
        return "timed out."
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the connection was closed without an answer."
    if isinstance(exc, http.client.HTTPException):
        return "the answer is not valid HTTP."
    if isinstance(exc, ssl.SSLError):
        return one_line(f"TLS: {exc.reason or type(exc).__name__}", REASON_CHARS)
    if isinstance(exc, OSError):
        return one_line(f"{exc.strerror or type(exc).__name__}.", REASON_CHARS)
    return f"{type(exc).__name__}."


# -- outcomes every provider shares ------------------------------------------------------------

def unreachable(provider: str, exc: NotSent) -> Outcome:
    """Nothing reached the provider: tried again later, and not again in this pass."""
    return Outcome.failed(f"{provider} could not be reached: {exc}", final=False,
                          reachable=False)


def no_answer(provider: str) -> Outcome:
    """The message went out and nothing came back: final, so it is never sent twice."""
    return Outcome.failed(f"No answer from {provider} after the message was sent; it may have "
                          "been delivered, so it is not sent again.", final=True,
                          reachable=False)


def redirected(provider: str, status: int) -> Outcome:
    return Outcome.failed(f"{provider} answered HTTP {status}: redirects are not followed; "
                          "check the base URL.", status=status, final=True)
