"""E-mail over SMTP: one message per connection, with the answer classified for the outbox."""

import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from app.notifications.reasons import MAYBE_DELIVERED
from app.outbox.outcome import Outcome

TLS_MODES = ("none", "starttls", "ssl")
DEADLINE_FACTOR = 4  # the whole exchange may take this many times SMTP_TIMEOUT, no longer


def deadline(settings: "SmtpSettings") -> float:
    return settings.timeout * DEADLINE_FACTOR


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    username: str = ""
    password: str = ""
    tls: str = "none"          # one of TLS_MODES
    timeout: float = 15.0


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _reply(code: int, message) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"SMTP {code}: {_one_line(message)}"


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.tls == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.tls == "starttls":
        client.starttls(context=ssl.create_default_context())
    return client


def send_email(settings: SmtpSettings, message: EmailMessage) -> Outcome:
    """Hand ``message`` to the SMTP server.

    Refused before the message was handed over (connection, login, sender, recipient): a
    5xx answer is final, a 4xx is tried again later, no answer at all is tried again too. Once
    the message text was sent, a missing answer is final: the server may have taken it, and
    sending it again could deliver it twice.
    """
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome.failed(f"Cannot connect to the SMTP server: {_reason(exc)}",
                              reachable=False)
    # A server that answers slowly, a line at a time, each within the socket's timeout,
    # could hold the runner for ever (and outlive the message's lease: a second runner would
    # send it again). At the deadline the connection is cut; the read in progress fails.
    watchdog = threading.Timer(deadline(settings), _cut, args=(client,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return _hand_over(client, settings, message)
    except smtplib.SMTPAuthenticationError as exc:
        return Outcome.failed(_reply(exc.smtp_code, exc.smtp_error), status=exc.smtp_code,
                              final=True)
    except smtplib.SMTPResponseException as exc:
        return _refused(exc.smtp_code, exc.smtp_error)
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome.failed(f"The SMTP server stopped answering: {_reason(exc)}",
                              reachable=False)
    finally:
        watchdog.cancel()
        _close(client)


def _hand_over(client: smtplib.SMTP, settings: SmtpSettings, message: EmailMessage) -> Outcome:
    client.ehlo_or_helo_if_needed()
    if settings.username:
        client.login(settings.username, settings.password)
    code, answer = client.mail(message["From"].addresses[0].addr_spec)
    if code != 250:
        return _refused(code, answer)
    code, answer = client.rcpt(message["To"].addresses[0].addr_spec)
    if code not in (250, 251):
        return _refused(code, answer)
    try:
        # CRLF line ends, as SMTP wants them (smtplib sends bytes as they are)
        code, answer = client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
    except smtplib.SMTPDataError as exc:
        return _refused(exc.smtp_code, exc.smtp_error)
    except (OSError, smtplib.SMTPException):
        return Outcome.failed(MAYBE_DELIVERED, final=True)
    if code != 250:  # smtplib hands back the answer to the message's end unchecked
        return _refused(code, answer)
    return Outcome.sent(code, str(message["Message-ID"]))


def _cut(client: smtplib.SMTP) -> None:
    sock = client.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _close(client: smtplib.SMTP) -> None:
    """QUIT, politely; what the server says to it changes nothing (the message is handed over
    or not by then)."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _refused(code: int, answer) -> Outcome:
    """A refusal: 5xx is for good, anything else may pass later."""
    return Outcome.failed(_reply(code, answer), status=code, final=500 <= code < 600)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, OSError) and exc.strerror:
        return _one_line(exc.strerror, 100)
    return type(exc).__name__
