"""Where a webhook URL leads, whether it may be called, and the connection that goes there.

``target`` reads a stored URL exactly as the HTTP client will (refusing any odd spelling of a
host rather than interpreting it: percent-encoding, numeric IPv4 forms, zone ids, userinfo...),
``destination`` resolves the name once and, unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set,
``special_purpose`` refuses loopback, private, link-local and every other special-purpose
address (IPv6 forms that embed an IPv4 address are judged by it). ``opener`` then connects only
to the addresses checked, never through a proxy, and follows no redirect. Used when an endpoint
is registered and each time a delivery is sent (``services.webhooks``).
"""

import http.client
import ipaddress
import re
import socket
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

SCHEMES = ("http", "https")
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


def destination(where: Target) -> tuple[bool, list[str]]:
    """(may ``where`` be called, the addresses to connect to). A name is resolved once, here,
    and the connection goes only to the addresses checked, so a name that answers a public
    address for the check and an internal one a moment later (DNS rebinding) gets nowhere."""
    addresses = [where.host] if where.ip else _resolve(where.host, where.port)
    if current_app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"]:
        return True, addresses
    return not any(special_purpose(address) for address in addresses), addresses



# -- the connection ---------------------------------------------------------------------------

class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx answer is a failed attempt, never a request to somewhere else


def _connect_first(addresses: list[str], port: int, opened: list, *rest) -> socket.socket:
    """A connection to the first of ``addresses`` that answers (the resolver's order), noted in
    ``opened`` so the sender can cut it at its deadline."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            connection = socket.create_connection((address, port), *rest)
        except OSError as exc:
            error = exc
            continue
        opened.append(connection)
        return connection
    raise error


def _pinned(connection_class, addresses: list[str], opened: list):
    """``connection_class`` connecting only to ``addresses``, whatever the URL's host resolves
    to now; the Host header, TLS server name and certificate check still use the URL's host."""

    class Pinned(connection_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = lambda target, *rest: _connect_first(
                addresses, target[1], opened, *rest)

    return Pinned


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, addresses: list[str], opened: list):
        super().__init__()
        self.addresses, self.opened = addresses, opened

    def http_open(self, req):
        return self.do_open(_pinned(http.client.HTTPConnection, self.addresses, self.opened),
                            req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, addresses: list[str], opened: list):
        super().__init__()
        self.addresses, self.opened = addresses, opened

    def https_open(self, req):
        return self.do_open(_pinned(http.client.HTTPSConnection, self.addresses, self.opened),
                            req, context=self._context)


def cut(opened: list) -> None:
    """Close the connections an opener made, from another thread: a receiver that drips its
    answer no longer holds a thread and a socket once the sender gave up on it."""
    for connection in opened:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        connection.close()


def opener(addresses: list[str], opened: list | None = None) -> urllib.request.OpenerDirector:
    """http and https only (no file:, ftp: or data:), connections only to ``addresses`` (the
    checked ones), no proxy (a proxy would resolve the name again, unchecked), redirects not
    followed; the sockets it opens are added to ``opened`` (for ``cut``)."""
    opened = [] if opened is None else opened
    opener = urllib.request.OpenerDirector()
    for handler in (_PinnedHTTPHandler(addresses, opened),
                    _PinnedHTTPSHandler(addresses, opened),
                    urllib.request.HTTPDefaultErrorHandler(), _NoRedirects(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener
