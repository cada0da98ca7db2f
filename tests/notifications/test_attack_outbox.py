"""Attacking the outbox and the HTTP providers as an unlucky operator: several runners on the
same messages, and Twilio / WhatsApp endpoints that drip, flood or garble their answers. Each
send must end within its deadline with bounded memory, and each message must go out at most
once per key. Defences that hold are plain tests; each finding is a strict xfail."""

import socket
import socketserver
import threading
import time
import tracemalloc

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage
from app.notifications.channels import http
from app.notifications.channels.sms import TwilioSettings, send_sms
from app.notifications.channels.whatsapp import WhatsAppSettings, send_template
from app.services import background
from tests.factories import file

REQUESTER, HEAD = "ana@acme.test", "jefe.finanzas@acme.test"
PHONE = "+573001234567"
TIMEOUT = 0.2
DEADLINE = TIMEOUT * http.DEADLINE_FACTOR + http.CUT_SECONDS + 0.5


# -- several runners --------------------------------------------------------------------------

def test_several_runners_at_once_send_each_message_exactly_once(app, demo, smtp_server):
    db.session.rollback()
    seeded = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    for number in range(8):
        file(REQUESTER, title=f"Pedido {number}")
    db.session.rollback()
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "email", OutboxMessage.id > seeded)).all()
    assert len(rows) >= 8 and all(r.status == "pending" for r in rows), [
        (r.status, r.last_error) for r in rows]
    errors = []
    start = threading.Barrier(6)

    def runner():
        try:
            with app.app_context():
                start.wait()
                while background.deliver_messages(limit=3):
                    pass
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    db.session.rollback()
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "email", OutboxMessage.id > seeded)).all()
    assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
    ids = [str(m["Message-ID"]) for m in smtp_server.messages]
    assert len(ids) == len(rows) == len(set(ids))


# -- providers that misbehave -----------------------------------------------------------------

class Provider(socketserver.ThreadingTCPServer):
    """An HTTP endpoint that reads a request and answers it badly, as ``mode`` says."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str):
        super().__init__(("127.0.0.1", 0), _ProviderHandler)
        self.mode = mode
        self.requests = 0
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _ProviderHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        length = 0
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        self.rfile.read(length)
        self.server.requests += 1
        try:
            getattr(self, self.server.mode)()
        except OSError:
            pass  # the client gave up: what it should do

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def silent(self) -> None:
        time.sleep(5)

    def drip_status(self) -> None:
        for byte in b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n{}":
            self._write(bytes([byte]))
            time.sleep(0.05)

    def drip_body(self) -> None:
        self._write(b"HTTP/1.1 201 Created\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100):
            self._write(b" ")
            time.sleep(0.05)

    def huge_body(self) -> None:
        self._write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 500000000\r\n\r\n{\"sid\": \"SM1\", \"x\": \"")
        chunk = b"x" * 65536
        for _ in range(2000):
            self._write(chunk)

    def endless_headers(self) -> None:
        self._write(b"HTTP/1.1 201 Created\r\n")
        for number in range(100000):
            self._write(b"X-Pad-%d: %s\r\n" % (number, b"y" * 60))

    def endless_status_line(self) -> None:
        self._write(b"HTTP/1.1 201 ")
        chunk = b"C" * 65536
        for _ in range(200):
            self._write(chunk)

    def nested_created(self) -> None:
        body = b"[" * 60000
        self._write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def nested_refused(self) -> None:
        body = b'{"code": 21211, "message": ' + b"[" * 60000
        self._write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.connection.close()


@pytest.fixture
def provider():
    servers = []

    def start(mode: str) -> Provider:
        server = Provider(mode)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _sms(base_url: str):
    return send_sms(TwilioSettings(base_url=base_url, account_sid="AC" + "1" * 32,
                                   auth_token="t" * 32, from_number="+15005550006",
                                   timeout=TIMEOUT), PHONE, "Hola")


def _whatsapp(base_url: str):
    return send_template(WhatsAppSettings(base_url=base_url, phone_number_id="123",
                                          access_token="w" * 40, timeout=TIMEOUT),
                         PHONE, "hello_world", "en_US", ["a"])


def _timed(send, base_url: str):
    tracemalloc.start()
    started = time.monotonic()
    try:
        outcome = send(base_url)
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return outcome, seconds, peak


@pytest.mark.parametrize("send", [_sms, _whatsapp], ids=["twilio", "whatsapp"])
@pytest.mark.parametrize(("mode", "final"), [
    ("silent", True), ("drip_status", True), ("endless_headers", True),
    ("endless_status_line", True), ("reset", True),
])
def test_a_provider_that_never_answers_whole_is_left_within_the_deadline_and_not_retried(
        provider, send, mode, final):
    server = provider(mode)
    outcome, seconds, peak = _timed(send, server.base_url)
    assert not outcome.delivered and outcome.final is final
    assert "may have been delivered" in outcome.error or "not valid HTTP" in outcome.error \
        or "closed" in outcome.error, outcome.error
    assert seconds < DEADLINE and peak < 8, (seconds, peak)
    assert server.requests == 1


@pytest.mark.parametrize("send", [_sms, _whatsapp], ids=["twilio", "whatsapp"])
@pytest.mark.parametrize("mode", ["huge_body", "drip_body"])
def test_a_provider_that_takes_the_message_and_floods_or_drips_its_body_is_read_in_bounds(
        provider, send, mode):
    outcome, seconds, peak = _timed(send, provider(mode).base_url)
    assert outcome.delivered
    assert seconds < DEADLINE and peak < 8, (seconds, peak)


def test_a_refused_connection_is_tried_again_later():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = _sms(f"http://127.0.0.1:{port}")
    assert not outcome.delivered and not outcome.final and not outcome.reachable


@pytest.mark.parametrize(("mode", "delivered"), [("nested_created", True),
                                                 ("nested_refused", False)])
def test_a_garbled_json_answer_still_gives_an_outcome(provider, mode, delivered):
    outcome = _sms(provider(mode).base_url)
    assert outcome.delivered is delivered and (delivered or outcome.final)
