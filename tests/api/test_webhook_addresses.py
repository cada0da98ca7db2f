"""Where a webhook may go. ``target`` reads a URL exactly as the sender does and refuses every
odd spelling of a host; ``special_purpose`` knows every range that is not an ordinary public
address, IPv6 forms that embed an IPv4 address included. Registering and sending both go
through them: a receiver on loopback is never connected to, however its address is written.
A failing receiver's answer reaches the admin as its status and a short, escaped excerpt."""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from markupsafe import escape
from marshmallow import ValidationError
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage, WebhookEndpoint
from app.services import webhook_targets, webhooks
from app.services.webhook_targets import UnusableURL, special_purpose, target
from app.services.webhooks import deliver_due
from tests.factories import file, user
from tests.views.helpers import html

WEBHOOKS = OutboxMessage.channel == "webhook"  # the outbox rows that are webhook deliveries

PRIVATE = "The address is private or internal"


# -- a receiver, DNS and routing that the test controls ---------------------------------------

class Listener:
    """A real HTTP server on 127.0.0.1: counts every TCP connection it accepts, records every
    request, and answers ``answer`` = (status, headers, body)."""

    def __init__(self):
        self.connections = 0
        self.hits: list[dict] = []
        self.answer = (200, [], b"ok")
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def answer_request(self):
                length = int(self.headers.get("Content-Length") or 0)
                listener.hits.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers),
                                      "body": self.rfile.read(length)})
                status, extra, body = listener.answer
                self.send_response(status)
                for name, value in extra:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET = do_CONNECT = answer_request

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request, client_address):
                listener.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/mesa"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listeners():
    made = []

    def make():
        made.append(Listener())
        return made[-1]

    yield make
    for listener in made:
        listener.close()


class Network:
    """Stands in for DNS and routing. ``names`` resolve to the addresses given; other names do
    not resolve (``localhost`` and IP literals resolve as usual). Every connection the sender
    opens is recorded in ``attempts``; one to loopback is made for real, one to an address in
    ``routes`` reaches the local port given, any other is refused (the tests never leave the
    machine)."""

    def __init__(self, monkeypatch):
        self.names: dict[str, list[str]] = {}
        self.routes: dict[str, int] = {}
        self.attempts: list[tuple] = []
        self._getaddrinfo = socket.getaddrinfo
        self._connect = socket.create_connection
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", self.create_connection)

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host in self.names:
            return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM,
                     socket.IPPROTO_TCP, "", (address, port or 0)) for address in self.names[host]]
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return self._getaddrinfo(host, port, *args, **kwargs)

    def create_connection(self, address, *args, **kwargs):
        self.attempts.append(address)
        host, port = address[:2]
        if host in self.routes:
            return self._connect(("127.0.0.1", self.routes[host]), *args, **kwargs)
        if ipaddress.ip_address(host).is_loopback:
            return self._connect(address, *args, **kwargs)
        raise ConnectionRefusedError("refused by the test's network")


@pytest.fixture
def network(monkeypatch):
    return Network(monkeypatch)


@pytest.fixture
def checked(app, monkeypatch):
    """The app as in production: private and internal addresses are refused."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)


def claim(url: str) -> webhooks._Claim:
    return webhooks._Claim(1, 1, url, "s3cret", "request.filed", "k" * 32,
                           {"event": "request.filed"}, 1)


def reason(problem: str) -> str:
    return webhook_targets._PROBLEMS[problem][0]


def message(problem: str) -> str:
    return str(webhook_targets._PROBLEMS[problem][1])


# -- what a URL means: target() ---------------------------------------------------------------

ACCEPTED = [
    ("http://93.184.215.14/hook", ("http", "93.184.215.14", 80, "/hook")),
    ("https://[2606:4700::1111]/hook", ("https", "2606:4700::1111", 443, "/hook")),
    ("https://[2606:4700:0:0:0:0:0:1111]:8443/a?b=c", ("https", "2606:4700::1111", 8443, "/a?b=c")),
    ("HTTPS://Hooks.Example.COM/Path?Q=1#frag", ("https", "hooks.example.com", 443, "/Path?Q=1")),
    ("http://hooks.example.com", ("http", "hooks.example.com", 80, "/")),
    ("http://hooks.example.com?x=1", ("http", "hooks.example.com", 80, "/?x=1")),
    ("http://hooks.example.com:8080/a%20b%2F", ("http", "hooks.example.com", 8080, "/a%20b%2F")),
    ("https://xn--bcher-kva.example/hook", ("https", "xn--bcher-kva.example", 443, "/hook")),
    ("http://a-b.c-d.example:1/", ("http", "a-b.c-d.example", 1, "/")),
    ("http://localhost:65535/", ("http", "localhost", 65535, "/")),
    ("http://0x7f.example/", ("http", "0x7f.example", 80, "/")),  # only the last label counts
    ("http://[::ffff:127.0.0.1]/", ("http", "::ffff:7f00:1", 80, "/")),  # well formed; internal
    ("http://" + ".".join(["a" * 63] * 3) + ".com/",
     ("http", ".".join(["a" * 63] * 3) + ".com", 80, "/")),
]


@pytest.mark.parametrize(("url", "expected"), ACCEPTED)
def test_a_plain_url_is_read_as_the_http_client_reads_it(url, expected):
    where = target(url)
    assert (where.scheme, where.host, where.port, where.path) == expected
    # what the sender hands to urllib is read back by urllib and http.client as the same
    # host, port and request path, and reads as itself
    assert webhook_targets._as_sent(where.url, where.scheme) == expected[1:]
    assert target(where.url) == where


REFUSED = [
    # percent-encoding: urllib decodes the host before connecting
    ("http://%31%32%37.0.0.1/hook", "host"),
    ("http://127.0.0.1%2e/hook", "host"),
    ("http://%6c%6f%63%61%6c%68%6f%73%74/hook", "host"),
    ("http://exa%6dple.com/hook", "host"),
    ("http://[%3a%3a1]/hook", "host"),
    # IPv6 zones
    ("http://[::1%25lo]/hook", "host"),
    ("http://[fe80::1%25eth0]:8080/hook", "host"),
    ("http://[fe80::1%eth0]/hook", "host"),
    # IPv4 as libc reads it: 127.0.0.1 in all of these
    ("http://127.1/hook", "host"),
    ("http://127.0.1/hook", "host"),
    ("http://0x7f.1/hook", "host"),
    ("http://0x7f.0.0.1/hook", "host"),
    ("http://0x7F000001/hook", "host"),
    ("http://017700000001/hook", "host"),
    ("http://0177.0.0.1/hook", "host"),
    ("http://127.000.000.001/hook", "host"),
    ("http://127.0.0.01/hook", "host"),
    ("http://2130706433/hook", "host"),
    ("http://1.2.3.0x4/hook", "host"),
    ("http://1.2.3.4.5/hook", "host"),
    ("http://256.1.1.1/hook", "host"),
    ("http://0.0.0.0/hook", "host"),
    ("http://0/hook", "host"),
    ("http://[::]/hook", "host"),
    ("http://[0:0:0:0:0:0:0:0]/hook", "host"),
    ("http://[127.0.0.1]/hook", "host"),
    ("http://[::ffff:127.0.0.1/hook", "host"),
    ("http://[::1]]/hook", "host"),
    ("http://[::1]x/hook", "host"),
    ("http://[v1.x]/hook", "host"),
    # names that are not plain
    ("http://hooks.example.com./hook", "host"),
    ("http://localhost./hook", "host"),
    ("http://127.0.0.1./hook", "host"),
    ("http://hooks..example.com/hook", "host"),
    ("http://.hooks.example.com/hook", "host"),
    ("http://-hooks.example.com/hook", "host"),
    ("http://hooks-.example.com/hook", "host"),
    ("http://hooks_1.example.com/hook", "host"),
    ("http://hooks.example.123/hook", "host"),
    ("http://" + "a" * 64 + ".example/hook", "host"),
    ("http://" + ".".join(["a" * 63] * 4) + "/hook", "host"),
    ("http://hooks.example.com;.evil.test/hook", "host"),
    ("http://hooks.example.com&127.0.0.1/hook", "host"),
    # IDNA: the codec maps these to other names (full-width letters, ideographic full stop, ß)
    ("http://ｅｘａｍｐｌｅ.com/hook", "characters"),
    ("http://example\u3002com/hook", "characters"),
    ("http://127\uff0e0\uff0e0\uff0e1/hook", "characters"),
    ("http://faß.de/hook", "characters"),
    ("http://\u0430pple.com/hook", "characters"),  # Cyrillic a
    ("http://example.com/pa\u00f1o", "characters"),
    # whitespace, control characters, backslashes: urlsplit drops tabs and newlines
    ("http://exa mple.com/hook", "characters"),
    ("http://exa\tmple.com/hook", "characters"),
    ("http://exa\nmple.com/hook", "characters"),
    ("http://127.0.0.1\r\nX-Injected: 1/hook", "characters"),
    ("http://example.com\x00.evil.test/hook", "characters"),
    ("http://example.com/\x7f", "characters"),
    (" http://127.0.0.1/hook", "characters"),
    ("http://127.0.0.1/hook ", "characters"),
    ("http://hooks.example.com\\@127.0.0.1/hook", "characters"),
    ("http:\\\\127.0.0.1\\hook", "characters"),
    ("http://example.com:\u0668\u0660/hook", "characters"),  # Arabic-Indic 80: int() takes it
    # user info
    ("http://user@127.0.0.1/hook", "userinfo"),
    ("https://user:pw@hooks.example.com/hook", "userinfo"),
    ("http://hooks.example.com@127.0.0.1/hook", "userinfo"),
    ("http://a@b@hooks.example.com/hook", "userinfo"),
    ("http://:@hooks.example.com/hook", "userinfo"),
    # ports: int() takes "+80" and "8_0"
    ("http://hooks.example.com:/hook", "port"),
    ("http://hooks.example.com:0/hook", "port"),
    ("http://hooks.example.com:65536/hook", "port"),
    ("http://hooks.example.com:99999/hook", "port"),
    ("http://hooks.example.com:000080/hook", "port"),
    ("http://hooks.example.com:+80/hook", "port"),
    ("http://hooks.example.com:8_0/hook", "port"),
    ("http://hooks.example.com:80:80/hook", "port"),
    ("http://[::1]:x/hook", "port"),
    # not http(s), or no authority
    ("ftp://hooks.example.com/hook", "scheme"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("<URL:http://127.0.0.1/hook>", "scheme"),
    ("//hooks.example.com/hook", "scheme"),
    ("hooks.example.com/hook", "scheme"),
    ("http:/hooks.example.com/hook", "form"),
    ("http:hooks.example.com/hook", "form"),
    ("http:///hooks.example.com/hook", "form"),
    ("http://", "form"),
]


@pytest.mark.parametrize(("url", "problem"), REFUSED)
def test_an_odd_url_is_refused_not_interpreted(url, problem):
    with pytest.raises(UnusableURL) as refused:
        target(url)
    assert refused.value.reason == reason(problem)


def test_what_the_refused_spellings_would_have_reached():
    """Why refusing is needed: urllib decodes a percent-encoded host, and libc reads numeric
    spellings as 127.0.0.1 (glibc; another libc may refuse them, which is fine)."""
    assert webhook_targets._as_sent("http://%31%32%37.0.0.1:8080/x", "http") == (
        "127.0.0.1", 8080, "/x")
    for host in ("127.1", "0x7f.1", "017700000001", "2130706433", "0x7f.0.0.1"):
        try:
            answers = {info[4][0] for info in socket.getaddrinfo(host, 80)}
        except socket.gaierror:
            continue
        assert answers == {"127.0.0.1"}, host


# -- special-purpose addresses: one pure function, tested against a table of its own ----------

# Written out again here from IANA's registries, independently of the module's table.
REFUSED_V4 = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")]
# IPv6: only global unicast 2000::/3 can be called, and not these parts of it
REFUSED_V6_IN_2000 = [ipaddress.ip_network(n) for n in (
    "2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20")]
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def expected_refused(ip) -> bool:
    if ip.version == 4:
        return any(ip in n for n in REFUSED_V4)
    if ip.ipv4_mapped or ip in NAT64:
        return expected_refused(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return ip not in GLOBAL_UNICAST or any(ip in n for n in REFUSED_V6_IN_2000)


def edges(network) -> list:
    first, last = network.network_address, network.broadcast_address
    return sorted({first, last, *([first + 1, last - 1] if network.num_addresses > 2 else [])})


def teredo(server: str, client: str) -> ipaddress.IPv6Address:
    """A Teredo address: prefix, server, flags, port, then the client's address inverted."""
    s, c = int(ipaddress.IPv4Address(server)), int(ipaddress.IPv4Address(client))
    return ipaddress.IPv6Address((0x2001_0000 << 96) | (s << 64) | (0x8000 << 48)
                                 | (0x63BF << 32) | (c ^ 0xFFFF_FFFF))


def sixtofour(ipv4: str) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0x2002 << 112) | (int(ipaddress.IPv4Address(ipv4)) << 80) | 1)


def embeddings(ipv4: str) -> dict[str, ipaddress.IPv6Address]:
    n = int(ipaddress.IPv4Address(ipv4))
    return {
        "mapped": ipaddress.IPv6Address((0xFFFF << 32) | n),
        "nat64": ipaddress.IPv6Address((0x64_FF9B << 96) | n),
    }


def always_refused_embeddings(ipv4: str) -> dict[str, ipaddress.IPv6Address]:
    n = int(ipaddress.IPv4Address(ipv4))
    return {
        "compatible": ipaddress.IPv6Address(n),
        "translated": ipaddress.IPv6Address((0xFFFF << 48) | n),
        "local-use nat64": ipaddress.IPv6Address((0x64_FF9B_0001 << 80) | n),
        "6to4": sixtofour(ipv4),
        "teredo server": teredo(ipv4, "93.184.215.14"),
        "teredo client": teredo("93.184.215.14", ipv4),
    }


@pytest.mark.parametrize("row", [row for version in (4, 6)
                                 for row in webhook_targets.SPECIAL_PURPOSE[version]],
                         ids=lambda row: str(row[0]))
def test_every_row_of_the_table_is_refused_to_its_edges(row):
    network, _name = row
    for ip in edges(network):
        assert special_purpose(ip), ip
    outside = [network.network_address - 1] if int(network.network_address) else []
    if int(network.broadcast_address) < 2 ** network.max_prefixlen - 1:
        outside.append(network.broadcast_address + 1)
    for ip in outside:  # just outside: refused only if another range holds it
        assert bool(special_purpose(ip)) == expected_refused(ip), ip


def test_every_ipv4_slash_16_agrees_with_the_registry_and_with_ipaddress():
    for block in range(2 ** 16):
        for ip in (ipaddress.IPv4Address(block << 16), ipaddress.IPv4Address(block << 16 | 0xFFFF)):
            verdict = special_purpose(ip)
            assert bool(verdict) == expected_refused(ip), ip
            if not ip.is_global or ip.is_multicast or ip.is_reserved:  # ipaddress agrees
                assert expected_refused(ip), ip


def test_every_ipv6_slash_16_agrees_with_the_registry_and_with_ipaddress():
    for block in range(2 ** 16):
        for ip in (ipaddress.IPv6Address(block << 112),
                   ipaddress.IPv6Address(block << 112 | (2 ** 112 - 1))):
            verdict = special_purpose(ip)
            assert bool(verdict) == expected_refused(ip), ip
            if not ip.is_global or ip.is_multicast or ip.is_reserved:  # ipaddress agrees
                assert expected_refused(ip), ip


def ipv4_samples() -> list[str]:
    samples = {str(ip) for n in REFUSED_V4 for ip in edges(n)}
    samples |= {str(n.network_address - 1) for n in REFUSED_V4 if int(n.network_address)}
    samples |= {str(n.broadcast_address + 1) for n in REFUSED_V4
                if int(n.broadcast_address) < 2 ** 32 - 1}
    samples |= {f"{a}.{b}.0.1" for a in range(256) for b in (0, 128)}
    samples |= {"93.184.215.14", "8.8.8.8", "1.1.1.1", "169.254.169.254", "100.100.100.200"}
    return sorted(samples, key=lambda s: int(ipaddress.IPv4Address(s)))


def test_ipv6_forms_embedding_ipv4_are_judged_by_it_or_refused():
    for ipv4 in ipv4_samples():
        bare = bool(special_purpose(ipv4))
        assert bare == expected_refused(ipaddress.IPv4Address(ipv4)), ipv4
        for form, ip in embeddings(ipv4).items():
            assert bool(special_purpose(ip)) == bare, (form, ipv4, ip)
        for form, ip in always_refused_embeddings(ipv4).items():
            assert special_purpose(ip), (form, ipv4, ip)


@pytest.mark.parametrize("address", [
    # loopback 127.0.0.1 as IPv4-mapped, in every spelling
    "::ffff:127.0.0.1", "::ffff:7f00:1", "::FFFF:7F00:0001", "0:0:0:0:0:ffff:7f00:1",
    "0000:0000:0000:0000:0000:ffff:127.0.0.1", "::ffff:127.1.2.3",
    # the cloud metadata service, mapped, NAT64 and more
    "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "64:ff9b::169.254.169.254",
    "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b:1::a9fe:a9fe",
    "64:ff9b:1:ffff::1", "::ffff:0:7f00:1", "::ffff:10.0.0.1", "::ffff:0.0.0.0",
    "::ffff:255.255.255.255", "::ffff:100.64.0.1", "::ffff:198.18.0.1", "::ffff:224.0.0.1",
    # IPv4-compatible (deprecated), 6to4, Teredo: refused whatever they embed
    "::127.0.0.1", "::7f00:1", "::a9fe:a9fe", "::5db8:d70e", "::2", "::0.0.0.2",
    "2002:7f00:1::", "2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:a00:1::1", "2002:5db8:d70e::1",
    "2001:0:7f00:1:8000:63bf:80ff:fffe", "2001:0:5db8:d70e:8000:63bf:80ff:fffe",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    # the rest of the IPv6 registry
    "::", "::1", "100::", "100::ffff:ffff:ffff:ffff", "2001:1::1", "2001:2::1", "2001:3::1",
    "2001:4:112::1", "2001:10::1", "2001:20::1", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
    "2001:db8::1", "2001:db8:ffff::1", "3fff::1", "3fff:fff::1", "5f00::1", "fc00::1",
    "fd00:ec2::254", "fdff:ffff::1", "fe80::1", "fe80::1%eth0", "febf:ffff::1", "fec0::1",
    "ff02::1", "ff05::1:3", "ff0e::1", "4000::1", "e000::1", "1::1",
    # IPv4
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255",
    "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1", "172.31.255.255",
    "192.0.0.1", "192.0.0.8", "192.0.0.9", "192.0.0.170", "192.0.2.1", "192.88.99.1",
    "192.168.1.10", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1",
    "239.255.255.250", "240.0.0.1", "255.255.255.254", "255.255.255.255",
])
def test_a_special_purpose_address_is_refused(address):
    assert special_purpose(address)


@pytest.mark.parametrize("address", [
    "93.184.215.14", "8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255",
    "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0",
    "172.15.255.255", "172.32.0.0", "192.0.1.1", "192.0.3.1", "192.31.196.1", "192.52.193.1",
    "192.88.98.1", "192.88.100.1", "192.167.255.255", "192.169.0.0", "192.175.48.1",
    "198.17.255.255", "198.20.0.0", "198.51.99.1", "203.0.112.1", "223.255.255.255",
    "2606:4700::1111", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:200::1",
    "2001:4860:4860::8888", "2003::1", "2620:fe::fe", "3fff:1000::1",
    "::ffff:93.184.215.14", "::ffff:5db8:d70e", "64:ff9b::93.184.215.14", "64:ff9b::808:808",
])
def test_a_public_address_passes(address):
    assert special_purpose(address) is None


def test_the_verdict_names_the_range():
    assert special_purpose("127.0.0.1") == "loopback"
    assert special_purpose("::ffff:127.0.0.1") == "loopback (IPv4-mapped)"
    assert special_purpose("64:ff9b::a9fe:a9fe") == "link-local (NAT64)"
    assert special_purpose("2002:5db8:d70e::1") == "6to4"
    assert special_purpose("2001:0:5db8:d70e:8000:63bf:80ff:fffe") == "Teredo"
    assert special_purpose("100.64.0.1") == "shared (carrier-grade NAT)"
    assert special_purpose("255.255.255.255") == "broadcast"
    assert special_purpose("4000::1") == "reserved"
    with pytest.raises(ValueError):
        special_purpose("127.1")


# -- registering ------------------------------------------------------------------------------

def load(url: str) -> dict:
    return webhooks.EndpointSchema().load({"url": url, "events": ["request.filed"]})


def names_for_registering(network: Network) -> None:
    network.names.update({
        "loopback.test": ["127.0.0.1"],
        "mapped.test": ["::ffff:127.0.0.1"],
        "compatible.test": ["::7f00:1"],
        "nat64.test": ["64:ff9b::a9fe:a9fe"],
        "sixtofour.test": ["2002:7f00:1::1"],
        "metadata.test": ["169.254.169.254"],
        "ula.test": ["fd00:ec2::254"],
        "cgnat.test": ["100.64.0.1"],
        "mixed.test": ["93.184.215.14", "10.0.0.1"],
        "public.test": ["93.184.215.14", "2606:4700::1111"],
        "public-mapped.test": ["::ffff:93.184.215.14"],
    })


INTERNAL_URLS = [
    "http://127.0.0.1/hook", "http://127.0.0.1:8080/hook", "https://10.0.0.8/hook",
    "http://100.64.0.1/hook", "http://169.254.169.254/latest/meta-data",
    "http://192.0.0.170/hook", "http://198.18.0.1/hook", "http://240.0.0.1/hook",
    "http://255.255.255.255/hook", "http://224.0.0.251/hook",
    "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:7f00:1]/hook",
    "http://[0:0:0:0:0:ffff:7f00:1]/hook", "http://[0000:0000:0000:0000:0000:FFFF:7F00:0001]/",
    "http://[::FFFF:169.254.169.254]/hook", "http://[::127.0.0.1]/hook", "http://[::7f00:1]/hook",
    "http://[::ffff:0:7f00:1]/hook", "http://[64:ff9b::127.0.0.1]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook", "http://[64:ff9b:1::7f00:1]/hook",
    "http://[2002:7f00:1::]/hook", "http://[2002:a9fe:a9fe::1]/hook",
    "http://[2001:0:7f00:1:8000:63bf:80ff:fffe]/hook", "http://[fc00::1]/hook",
    "http://[fd00:ec2::254]/latest/meta-data", "http://[fe80::1]/hook", "http://[fec0::1]/hook",
    "http://[ff02::1]/hook", "http://[2001:db8::1]/hook", "http://[100::1]/hook",
    "http://localhost/hook", "http://loopback.test/hook", "http://mapped.test/hook",
    "http://compatible.test/hook", "http://nat64.test/hook", "http://sixtofour.test/hook",
    "https://metadata.test/hook", "https://ula.test/hook", "http://cgnat.test/hook",
    "http://mixed.test/hook",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_registering_an_internal_address_is_refused(checked, network, url):
    names_for_registering(network)
    with pytest.raises(ValidationError) as refused:
        load(url)
    assert refused.value.messages == {"url": [str(webhooks._l(
        "This address is internal to the server's network; use a public address."))]}
    assert network.attempts == []


@pytest.mark.parametrize(("url", "problem"), [(u, p) for u, p in REFUSED if u == u.strip()])
@pytest.mark.parametrize("allow_private", [False, True])
def test_registering_an_odd_url_is_refused_with_a_clear_message(app, monkeypatch, url, problem,
                                                                 allow_private):
    """The form rules hold whether or not private networks are allowed."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", allow_private)
    with pytest.raises(ValidationError) as refused:
        load(url)
    assert message(problem) in refused.value.messages["url"]


@pytest.mark.parametrize("url", [
    "http://93.184.215.14/hook", "https://[2606:4700::1111]/hook", "https://public.test/hook",
    "https://public.test:8443/hook?x=1", "https://public-mapped.test/hook",
    "https://[::ffff:93.184.215.14]/hook", "https://[64:ff9b::5db8:d70e]/hook",
    "https://nowhere.test/hook",  # does not resolve yet: accepted, tried when sending
])
def test_registering_a_public_address_is_accepted(checked, network, url):
    names_for_registering(network)
    assert load(url)["url"] == url
    assert network.attempts == []  # registering resolves, never connects


def test_the_form_trims_spaces_around_the_url(checked, network):
    """What is stored (and later sent) has none: the form trims before the URL is checked."""
    network.names["public.test"] = ["93.184.215.14"]
    assert load("  https://public.test/hook\t")["url"] == "https://public.test/hook"


def test_the_admin_form_shows_why_an_encoded_host_is_refused(checked, demo, browser):
    admin = browser("admin@acme.test")
    response = admin.post("/admin/webhooks/new", {"url": "http://%31%32%37.0.0.1:8080/hook",
                                                  "events": ["request.filed"]})
    assert response.status_code == 422
    page = html(response)
    assert 'class="field-error"' in page and str(escape(message("host"))) in page
    assert db.session.query(WebhookEndpoint).count() == 0


def test_private_address_checks_every_answer(network):
    names_for_registering(network)
    assert webhook_targets.private_address("mixed.test")
    assert webhook_targets.private_address("mapped.test")
    assert webhook_targets.private_address("nowhere.test") is False  # nothing to refuse yet
    assert not webhook_targets.private_address("public.test")
    assert webhook_targets.private_address("")


# -- sending ----------------------------------------------------------------------------------

SENDING = [  # (URL template for a receiver at 127.0.0.1:{port}, what the delivery log says)
    ("http://127.0.0.1:{port}/hooks/mesa", PRIVATE),
    ("https://127.0.0.1:{port}/hooks/mesa", PRIVATE),
    ("http://localhost:{port}/hooks/mesa", PRIVATE),
    ("http://loopback.test:{port}/hooks/mesa", PRIVATE),
    ("http://mapped.test:{port}/hooks/mesa", PRIVATE),
    ("http://mixed.test:{port}/hooks/mesa", PRIVATE),
    ("http://[::ffff:127.0.0.1]:{port}/hooks/mesa", PRIVATE),
    ("http://[::ffff:7f00:1]:{port}/hooks/mesa", PRIVATE),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/hooks/mesa", PRIVATE),
    ("http://[::127.0.0.1]:{port}/hooks/mesa", PRIVATE),
    ("http://[64:ff9b::127.0.0.1]:{port}/hooks/mesa", PRIVATE),
    ("http://[2002:7f00:1::]:{port}/hooks/mesa", PRIVATE),
    ("http://[::1]:{port}/hooks/mesa", PRIVATE),
    ("http://%31%32%37.0.0.1:{port}/hooks/mesa", reason("host")),
    ("http://%6c%6f%63%61%6c%68%6f%73%74:{port}/hooks/mesa", reason("host")),
    ("http://127.1:{port}/hooks/mesa", reason("host")),
    ("http://0x7f.1:{port}/hooks/mesa", reason("host")),
    ("http://0x7f.0.0.1:{port}/hooks/mesa", reason("host")),
    ("http://2130706433:{port}/hooks/mesa", reason("host")),
    ("http://017700000001:{port}/hooks/mesa", reason("host")),
    ("http://127.000.000.001:{port}/hooks/mesa", reason("host")),
    ("http://0.0.0.0:{port}/hooks/mesa", reason("host")),
    ("http://0:{port}/hooks/mesa", reason("host")),
    ("http://127.0.0.1.:{port}/hooks/mesa", reason("host")),
    ("http://localhost.:{port}/hooks/mesa", reason("host")),
    ("http://[::ffff:127.0.0.1%25lo]:{port}/hooks/mesa", reason("host")),
    ("http://127.0.0.1\t:{port}/hooks/mesa", reason("characters")),
    ("http://public.test\\@127.0.0.1:{port}/hooks/mesa", reason("characters")),
    ("http://user@127.0.0.1:{port}/hooks/mesa", reason("userinfo")),
    ("http://public.test:{port}@127.0.0.1:{port}/hooks/mesa", reason("userinfo")),
]


@pytest.mark.parametrize(("template", "error"), SENDING)
def test_a_receiver_on_loopback_is_never_connected_to(checked, network, listeners, template,
                                                      error):
    names_for_registering(network)
    receiver = listeners()
    outcome = webhooks._post(claim(template.format(port=receiver.port)))
    assert outcome.final and outcome.status is None and outcome.error.startswith(error)
    assert network.attempts == []
    assert receiver.connections == 0 and receiver.hits == []


@pytest.mark.parametrize("template", [t for t, error in SENDING if error != PRIVATE])
def test_an_odd_url_is_not_called_even_when_private_networks_are_allowed(network, listeners,
                                                                         template):
    names_for_registering(network)
    receiver = listeners()
    outcome = webhooks._post(claim(template.format(port=receiver.port)))
    assert outcome.final and outcome.status is None
    assert network.attempts == [] and receiver.connections == 0


def test_the_same_receiver_is_reached_when_private_networks_are_allowed(network, listeners):
    """The control for the tests above: the listener is there and answers."""
    receiver = listeners()
    outcome = webhooks._post(claim(receiver.url))
    assert outcome.delivered and receiver.connections == 1
    assert network.attempts == [("127.0.0.1", receiver.port)]


def test_a_delivery_to_loopback_fails_for_good_end_to_end(app, monkeypatch, demo, network,
                                                          listeners, browser):
    receiver = listeners()
    endpoint = webhooks.create_endpoint(user("admin@acme.test"),
                                        {"url": receiver.url, "events": ["request.filed"]})
    endpoint.url = f"http://[::ffff:127.0.0.1]:{receiver.port}/hooks/mesa"  # past the form
    db.session.commit()
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
    file()
    assert deliver_due() == 1
    db.session.rollback()
    [delivery] = db.session.scalars(select(OutboxMessage).where(WEBHOOKS)).all()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, None)
    assert delivery.last_error.startswith(PRIVATE)
    assert receiver.connections == 0 and network.attempts == []
    page = html(browser("admin@acme.test").get(f"/admin/webhooks/{endpoint.id}"))
    assert PRIVATE in page


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_public_name_is_called_at_the_address_checked_and_no_other(checked, network,
                                                                     listeners, scheme):
    """The name resolves to two public addresses; the first does not answer, the second
    (routed by the test to a local listener) does. Nothing else is connected to."""
    receiver = listeners()
    network.names["public.test"] = ["2606:4700::1111", "93.184.215.14"]
    network.routes["93.184.215.14"] = receiver.port
    outcome = webhooks._post(claim(f"{scheme}://public.test:{receiver.port}/hooks/mesa"))
    assert network.attempts == [("2606:4700::1111", receiver.port),
                                ("93.184.215.14", receiver.port)]
    if scheme == "http":
        assert outcome.delivered
        [hit] = receiver.hits
        assert hit["headers"]["Host"] == f"public.test:{receiver.port}"
        assert hit["path"] == "/hooks/mesa"
    else:  # the listener speaks no TLS: the handshake fails, and is retried later
        assert not outcome.delivered and not outcome.final


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_proxy_from_the_environment_is_not_used(app, monkeypatch, network, listeners,
                                                  allow_private):
    """A proxy would resolve the name again, unchecked: deliveries connect directly."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", allow_private)
    proxy, receiver = listeners(), listeners()
    for variable in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                     "ALL_PROXY"):
        monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.port}")
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    network.names["public.test"] = ["93.184.215.14"]
    network.routes["93.184.215.14"] = receiver.port
    outcome = webhooks._post(claim(f"http://public.test:{receiver.port}/hooks/mesa"))
    assert outcome.delivered and len(receiver.hits) == 1
    assert network.attempts == [("93.184.215.14", receiver.port)]
    assert proxy.connections == 0


def test_a_name_that_does_not_resolve_is_retried(checked, network):
    outcome = webhooks._post(claim("https://nowhere.test/hook"))
    assert outcome.error == "The host name does not resolve."
    assert not outcome.final and network.attempts == []


# -- what the admin sees of a failing receiver ------------------------------------------------

def failing(receiver) -> WebhookEndpoint:
    """An endpoint at ``receiver`` with one delivery sent."""
    endpoint = webhooks.create_endpoint(user("admin@acme.test"),
                                        {"url": receiver.url, "events": ["request.filed"]})
    db.session.commit()
    file()
    assert deliver_due() == 1
    db.session.rollback()
    return endpoint


def the_delivery() -> OutboxMessage:
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage).where(WEBHOOKS)).one()


def test_a_long_refusal_shows_only_a_short_escaped_excerpt(demo, listeners, browser):
    receiver = listeners()
    body = ("<html><script>alert(1)</script>\x1b[31m\x00\u202egnp.exe\u200b "
            + "A" * 150 + " BEYOND-THE-EXCERPT " + "B" * 10_000 + "</html>")
    receiver.answer = (500, [("Content-Type", "text/html")], body.encode())
    endpoint = failing(receiver)
    delivery = the_delivery()
    assert (delivery.status, delivery.response_status) == ("pending", 500)
    excerpt = delivery.last_error.removeprefix("HTTP 500: ")
    assert excerpt.startswith("<html><script>alert(1)</script>")
    assert len(excerpt) <= webhooks.EXCERPT_CHARS and excerpt.endswith("…")
    assert "BEYOND" not in excerpt and "B" * 20 not in excerpt
    assert not any(c in excerpt for c in "\x1b\x00\u202e\u200b")
    page = html(browser("admin@acme.test").get(f"/admin/webhooks/{endpoint.id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page and "BEYOND" not in page


def test_a_redirect_shows_its_status_but_not_where_it_points(demo, listeners, browser):
    receiver = listeners()
    receiver.answer = (302, [("Location", "http://10.1.2.3/internal-secret")],
                       b"Redirecting to http://10.1.2.3/internal-secret")
    endpoint = failing(receiver)
    delivery = the_delivery()
    assert delivery.response_status == 302
    assert delivery.last_error == "HTTP 302: redirects are not followed."
    assert [h["path"] for h in receiver.hits] == ["/hooks/mesa"]
    page = html(browser("admin@acme.test").get(f"/admin/webhooks/{endpoint.id}"))
    assert "HTTP 302" in page and "internal-secret" not in page and "10.1.2.3" not in page


def test_an_answer_that_is_not_http_shows_none_of_its_bytes():
    """A service that is not a web server greets with a banner; http.client would quote it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def greet():
        conn, _ = server.accept()
        conn.sendall(b"SSH-2.0-OpenSSH_9.6 internal-banner-v1\r\n")
        conn.recv(65536)
        conn.close()

    threading.Thread(target=greet, daemon=True).start()
    try:
        outcome = webhooks._post(claim(f"http://127.0.0.1:{server.getsockname()[1]}/hook"))
    finally:
        server.close()
    assert outcome.status is None and not outcome.final
    assert outcome.error == "BadStatusLine: the answer is not valid HTTP."


def test_a_network_error_is_told_in_a_few_words(network):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = webhooks._post(claim(f"http://127.0.0.1:{port}/hook"))
    assert outcome.error == "URLError: Connection refused"


def test_the_error_kept_is_short_and_one_line():
    assert webhooks._one_line("a\r\nb\tc\x1b[0m\u2028d", 100) == "a b c [0m d"
    assert webhooks._one_line("x" * 300, 200) == "x" * 199 + "…"
