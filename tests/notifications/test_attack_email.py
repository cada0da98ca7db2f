"""Attacking the e-mail channel: what a hostile requester, process owner or tenant admin can put
in the headers and body of an e-mail (app/notifications/delivery.py email_message), wording
that breaks only with real values, and SMTP servers that misbehave (answer 250 then drop, drip
their answers past the outbox's lease). Defences that hold are plain tests; each finding is a
strict xfail."""

import socket
import socketserver
import threading
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, OutboxMessage
from app.notifications.channels.email import SmtpSettings, deadline, send_email
from app.services import background, requests
from tests.factories import file, user
from tests.notifications.test_attack_notify import STRAIGHT, _diagram, deploy
from tests.notifications.test_attack_pages import (
    GOOD_WORDING,
    _authorized_request,
    _save_breaking_wording,
)
from tests.notifications.test_notices_rules import custom_message

REQUESTER, HEAD, ADMIN = "ana@acme.test", "jefe.finanzas@acme.test", "admin@acme.test"
MAIL_FROM = "mesa@servicios.test"
ALL_GROUPS = ("tasks", "requests", "tickets", "comments", "process")


def deliver() -> int:
    return background.deliver_messages(limit=100)


def email_to(req_id: int, address: str) -> OutboxMessage:
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage).join(Notification).where(
        Notification.request_id == req_id, OutboxMessage.address == address,
        OutboxMessage.channel == "email")).one()


def set_subject(browser, subject: str, key: str = "task.waiting") -> None:
    answer = browser(ADMIN).post(f"/admin/notifications/templates/{key}/es", {
        **GOOD_WORDING, "subject": subject, "action": "save"})
    assert answer.status_code == 302


def mail_with_sender(browser, smtp_server, sender: str):
    """The head's e-mail about a new request after the admin set ``sender`` (if accepted)."""
    answer = browser(ADMIN).post("/admin/notifications/defaults", {
        "sender": sender, **{f"channels-{g}": ["inapp", "email"] for g in ALL_GROUPS}})
    assert answer.status_code in (302, 422)
    seen = len(smtp_server.to(HEAD))
    req = file(REQUESTER)
    deliver()
    message = email_to(req.id, HEAD)
    assert message.status == "delivered", message.last_error
    assert len(smtp_server.to(HEAD)) == seen + 1
    return smtp_server.to(HEAD)[-1]


def only_the_expected_headers(mail) -> None:
    assert mail["Bcc"] is None and mail["Reply-To"] is None and mail["Cc"] is None
    assert [a.addr_spec for a in mail["From"].addresses] == [MAIL_FROM]
    assert [a.addr_spec for a in mail["To"].addresses] == [HEAD]
    assert mail.get_content_type() == "multipart/alternative"


# -- headers --------------------------------------------------------------------------------------

def test_a_title_with_line_breaks_stays_on_the_subject_line(demo, browser, smtp_server):
    set_subject(browser, "{{ request_number }}: {{ request_title }}")
    for title in ("Bombillo\r\nBcc: victim@evil.test\r\nReply-To: phish@evil.test",
                  "Bombillo\nBcc: victim@evil.test", "Bombillo\u2028Bcc: victim@evil.test",
                  "Bombillo\x0bBcc: victim@evil.test\x0c", "Bombillo " + "ü" * 150):
        req = file(REQUESTER, title=title)
        deliver()
        mail = smtp_server.to(HEAD)[-1]
        only_the_expected_headers(mail)
        assert str(mail["Subject"]).strip().startswith(f"{req.number}: Bombillo"), repr(title)
    assert all(envelope == (MAIL_FROM, [HEAD]) for envelope in smtp_server.envelopes)


@pytest.mark.parametrize("title", [
    "Bombillo =?utf-8?q?x=0D=0AReply-To:_phish=40evil=2Etest=0D=0ABcc:_victim=40evil=2Etest?=",
    "Bombillo =?utf-8?q?x=0D=0A=0D=0ASu_clave_vence_hoy:_https://evil.test/login?=",
])
def test_an_encoded_word_in_a_title_cannot_add_headers_or_a_body(
        demo, browser, smtp_server, title):
    set_subject(browser, "{{ request_number }}: {{ request_title }}")
    file(REQUESTER, title=title)
    deliver()
    (mail,) = [m for (_, rcpts), m in zip(smtp_server.envelopes, smtp_server.messages,
                                          strict=True) if rcpts == [HEAD]]
    only_the_expected_headers(mail)


# Holds, but by luck: the product's task.waiting subject has non-ASCII quotes («{{ step }}»), so
# EmailMessage encodes the whole subject and the CR/LF stay inside an encoded-word. A tenant's
# ASCII subject showing {{ step }} is open to the bug above.
def test_an_encoded_word_in_a_step_name_cannot_add_headers(demo, smtp_server):
    custom_message("acme", "custom.aviso", "Aviso")
    deploy(_diagram(STRAIGHT, loop=False).replace(
        'name="Revisar"', 'name="Revisar =?utf-8?q?x=0D=0ABcc:_victim=40evil=2Etest?= ya"'))
    file(REQUESTER)
    deliver()
    (mail,) = [m for (_, rcpts), m in zip(smtp_server.envelopes, smtp_server.messages,
                                          strict=True) if rcpts == [HEAD]]
    only_the_expected_headers(mail)


@pytest.mark.parametrize("sender", [
    "=?utf-8?q?ceo=40bank=2Eexample?=",
    "Soporte =?utf-8?q?=3Cceo=40bank=2Eexample=3E?=",
    "=?utf-8?q?a=2C_ceo=40bank=2Eexample_=3C?=",
])
def test_the_sender_name_cannot_change_the_from_address(demo, browser, smtp_server, sender):
    mail = mail_with_sender(browser, smtp_server, sender)
    only_the_expected_headers(mail)


# Found on c2a713b (formataddr's text was refolded by EmailMessage into a From of several
# addresses or the wrong one: 'Compañía S.A.; Soporte' -> From: "Compañía S.A."); fixed in
# 83ee77d (headerregistry.Address).
@pytest.mark.parametrize("sender", ["Compañía S.A.; Soporte", "Dirección (TI), Soporte",
                                    "Compañía: Soporte; TI"])
def test_a_plain_sender_name_keeps_a_valid_from(demo, browser, smtp_server, sender):
    only_the_expected_headers(mail_with_sender(browser, smtp_server, sender))


def test_a_sender_name_with_unicode_breaks_or_specials_is_encoded_not_injected(
        demo, browser, smtp_server):
    for sender in ("Acme\x85Bcc: x@evil.test", "Acme\u2028Bcc: x@evil.test", "Acme\tSoporte",
                   "Compañía: Soporte", "Mesa (TI), Soporte", "Servicios Generales (Compañía)",
                   ""):
        only_the_expected_headers(mail_with_sender(browser, smtp_server, sender))


# Found on c2a713b (a name with VT or FF was saved, then every e-mail of the tenant failed in
# email_message with ValueError, retried 8 times, never sent); fixed in 83ee77d (Address).
@pytest.mark.parametrize("odd", ["\x0b", "\x0c"])
def test_a_sender_name_never_stops_the_tenants_e_mail(demo, browser, smtp_server, odd):
    mail_with_sender(browser, smtp_server, f"Acme{odd}Soporte")


# -- bodies ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("tenant_html", ["", "<p>{{ request_title }}</p><p>{{ comment }}</p>"
                                             "<a href=\"{{ link }}\">{{ comment|e|upper }}</a>"])
def test_what_people_write_is_text_in_the_html_of_an_e_mail(
        demo, browser, smtp_server, tenant_html):
    answer = browser(ADMIN).post("/admin/notifications/templates/request.comment/es", {
        "subject": "Comentario en {{ request_number }}",
        "text": "{{ request_title }}: {{ comment }}", "html": tenant_html, "sms": "",
        "action": "save"})
    assert answer.status_code == 302
    req = file(REQUESTER, title="<img src=x onerror=alert(1)> https://evil.test/\"onmouseover=x")
    requests.add_comment(user(HEAD), req, {"comment": "<script>alert(1)</script>&amp;"})
    db.session.commit()
    deliver()
    (mail,) = smtp_server.to(REQUESTER)
    page = mail.get_body(("html",)).get_content()
    assert "<img src=x" not in page and "<script>" not in page
    assert '"onmouseover' not in page
    assert "&lt;script&gt;" in page


# -- wording that breaks only with real values ----------------------------------------------------

# Found on ecd989a (the outbox retried the e-mail 8 times, 'AssertionError; see the server's
# log', and gave up); fixed in c2a713b (compose._render falls back on any error).
def test_wording_that_breaks_with_real_values_gives_way_to_the_products(
        demo, browser, smtp_server):
    _save_breaking_wording(browser(ADMIN), "text")
    req = _authorized_request()
    deliver()
    message = db.session.scalars(select(OutboxMessage).join(Notification).where(
        Notification.request_id == req.id, OutboxMessage.event == "request.authorized",
        OutboxMessage.channel == "email")).one()
    assert message.status == "delivered", message.last_error
    (mail,) = smtp_server.to(REQUESTER)
    assert "autorizó su solicitud" in mail.get_body(("plain",)).get_content()


# -- SMTP servers that misbehave ------------------------------------------------------------------

class MisbehavingSmtp(socketserver.ThreadingTCPServer):
    """A small SMTP server that keeps every message it takes and can, for the first
    connection only, drip a multi-line answer (a line every ``interval`` seconds, for
    ``seconds``) to EHLO or to the end of the message, or close the connection right after
    its 250 to the message."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str, seconds: float = 0.0, interval: float = 0.1):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.mode, self.seconds, self.interval = mode, seconds, interval
        self.messages: list[bytes] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.taken = threading.Event()
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def _drip(self, final: str) -> None:
        ends = time.monotonic() + self.server.seconds
        while time.monotonic() < ends:
            self._send("250-still thinking")
            time.sleep(self.server.interval)
        self._send(final)

    def handle(self) -> None:
        server = self.server
        with server.lock:
            server.connections += 1
            first = server.connections == 1
        self._send("220 misbehaving ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self._drip("250 hello") if first and server.mode == "ehlo" \
                    else self._send("250 hello")
            elif verb == b"DATA":
                self._send("354 go ahead")
                lines = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(chunk)
                with server.lock:
                    server.messages.append(b"".join(lines))
                server.taken.set()
                if first and server.mode == "data":
                    self._drip("250 queued")
                elif server.mode == "drop":
                    self._send("250 queued")
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                else:
                    self._send("250 queued")
            elif verb == b"QUIT":
                self._send("221 bye")
                return
            else:
                self._send("250 ok")


@pytest.fixture
def misbehaving(app, monkeypatch):
    servers = []

    def start(mode: str, **kwargs) -> MisbehavingSmtp:
        server = MisbehavingSmtp(mode, **kwargs)
        servers.append(server)
        for key, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", server.port),
                           ("SMTP_TLS", "none"), ("MAIL_FROM", MAIL_FROM),
                           ("PUBLIC_BASE_URL", "http://mesa.test")):
            monkeypatch.setitem(app.config, key, value)
        return server

    yield start
    for server in servers:
        server.stop()


def test_a_server_that_answers_250_then_drops_gets_the_message_once(demo, misbehaving):
    server = misbehaving("drop")
    req = file(REQUESTER)
    deliver()
    message = email_to(req.id, HEAD)
    assert (message.status, message.attempts) == ("delivered", 1)
    assert deliver() == 0
    assert server.taken.is_set()
    assert sum(HEAD.encode() in m for m in server.messages) == 1


def test_a_dripping_smtp_server_is_given_up_on_within_a_deadline(misbehaving):
    server = misbehaving("ehlo", seconds=1.5, interval=0.05)
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = MAIL_FROM, HEAD, "x"
    message.set_content("x")
    settings = SmtpSettings(host="127.0.0.1", port=server.port, timeout=0.2)
    started = time.monotonic()
    outcome = send_email(settings, message)
    assert time.monotonic() - started < deadline(settings) + 1  # not the server's 1.5 s drip
    assert not outcome.delivered


def test_a_send_that_outlasts_its_lease_is_not_sent_twice(app, demo, misbehaving, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_LEASE_SECONDS", 0.3)
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 1.0)
    server = misbehaving("data", seconds=1.2, interval=0.1)
    req = file(REQUESTER)
    errors = []

    def runner():
        try:
            with app.app_context():
                deliver()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    first = threading.Thread(target=runner)
    first.start()
    assert server.taken.wait(5)
    time.sleep(0.5)       # the first runner still waits for the server's answer; lease over
    second = threading.Thread(target=runner)
    second.start()
    first.join(10)
    second.join(10)
    assert not errors
    assert email_to(req.id, HEAD).status == "delivered"
    assert len([m for m in server.messages if HEAD.encode() in m]) == 1
