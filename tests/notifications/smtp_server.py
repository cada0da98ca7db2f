"""A real SMTP server on loopback (aiosmtpd), started by a test: it takes messages as any
server would, keeps them in ``messages`` (parsed), and can be told to refuse the next ones
(``refuse_next(code)``) or to take one and then not answer (``hang_next()``)."""

import asyncio
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller


class SmtpServer:
    def __init__(self):
        self.messages = []          # email.message.EmailMessage, in the order taken
        self.envelopes = []         # (mail from, [rcpt to])
        self.refusals: list[tuple[str | None, str]] = []   # (for whom, or anyone; reply)
        self.hangs: list[str | None] = []
        self.hang_seconds = 5.0
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def refuse_next(self, reply: str = "451 4.3.0 Try again later", times: int = 1,
                    to: str | None = None) -> None:
        """Answer the next ``times`` messages' DATA (to ``to`` only, if given) with ``reply``
        instead of taking them."""
        with self._lock:
            self.refusals.extend([(to, reply)] * times)

    def hang_next(self, to: str | None = None) -> None:
        """Take the next message (to ``to`` only, if given), then answer nothing for
        ``hang_seconds``."""
        with self._lock:
            self.hangs.append(to)

    @staticmethod
    def _take(plans: list, rcpts: list[str], whom=lambda plan: plan):
        """Remove and return the first plan meant for one of ``rcpts`` (or anyone)."""
        for index, plan in enumerate(plans):
            if whom(plan) is None or whom(plan) in rcpts:
                return [plans.pop(index)]
        return []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        rcpts = list(envelope.rcpt_tos)
        with self._lock:
            refusal = self._take(self.refusals, rcpts, whom=lambda plan: plan[0])
            hang = not refusal and bool(self._take(self.hangs, rcpts))
        if refusal:
            return refusal[0][1]
        with self._lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message_from_bytes(envelope.original_content,
                                                    policy=policy.default))
        if hang:
            await asyncio.sleep(self.hang_seconds)
        return "250 2.0.0 OK queued"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_server(app, monkeypatch):
    """A started server, and the app's SMTP settings pointing at it for the test."""
    server = SmtpServer()
    server.controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    monkeypatch.setitem(app.config, "SMTP_TLS", "none")
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 2.0)
    monkeypatch.setitem(app.config, "MAIL_FROM", "mesa@servicios.test")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://mesa.test")
    yield server
    server.controller.stop()
