"""Local stand-ins for Twilio Programmable Messaging and the WhatsApp Cloud API, for the tests
whose SMS and WhatsApp messages are sent for real over HTTP.

Each is a ThreadingHTTPServer on 127.0.0.1 that checks a request the way its provider
documents it (path, credentials, content type, required fields, the template's structure) and
answers like it: the created message, or the provider's error body. ``received`` keeps every
request that arrived, ``accepted`` each message taken (what a test reads). Either can be told
to misbehave for the next requests: ``fail_next(status)`` answers an error (500, 503, 429, or a
3xx pointing elsewhere) without taking the message; ``hang_next()`` takes and records it, then
never answers (until ``close``).

The fixtures ``twilio_server`` and ``whatsapp_server`` start one per test. To use them from a
test module or a conftest.py, bind them to a name there (an import is flagged by ruff where a
test takes the fixture as an argument)::

    from tests.notifications import fake_providers

    twilio_server = fake_providers.twilio_server
"""

import base64
import json
import re
import secrets
import threading
import urllib.parse
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.notifications.channels.sms import TwilioSettings
from app.notifications.channels.whatsapp import WhatsAppSettings

HANG_SECONDS = 60  # the longest a hanging request is held, if nobody closes the server


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict      # as sent (names as the client spelled them)
    body: bytes


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict | None = None
    headers: tuple = ()


class _Fake:
    """What both stand-ins share: the server, what arrived, what was accepted, and the plan
    of misbehaviour for the next requests."""

    prefix = ""  # the path the provider's base URL ends with

    def __init__(self):
        self.received: list[Received] = []
        self.accepted: list[dict] = []
        self._plan: list[tuple] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True,
                         name=f"fake-{type(self).__name__}").start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def fail_next(self, status: int, times: int = 1, code: int | None = None,
                  message: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` and the provider's error body
        (its usual ``code`` and ``message`` for that status unless given), taking nothing."""
        with self._lock:
            self._plan.extend([("fail", status, code, message)] * times)

    def hang_next(self, times: int = 1) -> None:
        """Take and record the next ``times`` messages (if valid), then never answer."""
        with self._lock:
            self._plan.extend([("hang",)] * times)

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- what each provider defines

    def check(self, request: Received) -> _Reply | tuple[_Reply, dict]:
        """The provider's refusal, or its answer and the record of the message it took."""
        raise NotImplementedError

    def failure(self, status: int, code: int | None, message: str | None) -> _Reply:
        raise NotImplementedError

    # -- the exchange

    def _serve(self, request: Received) -> _Reply | None:
        with self._lock:
            self.received.append(request)
            step = self._plan.pop(0) if self._plan else ("answer",)
        if step[0] == "fail":
            return self.failure(*step[1:])
        result = self.check(request)
        reply, record = result if isinstance(result, tuple) else (result, None)
        if record is not None:
            with self._lock:
                self.accepted.append(record)
        if step[0] == "hang":
            self._release.wait(HANG_SECONDS)
            return None  # the connection is closed with no answer
        return reply


def _handler(fake: _Fake):
    class Handler(BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(self.command, self.path, dict(self.headers.items()),
                               self.rfile.read(length))
            reply = fake._serve(request)
            if reply is None:
                return
            body = json.dumps(reply.body).encode() if reply.body is not None else b""
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET = do_PUT = do_DELETE = _any

        def log_message(self, *args):
            pass

    return Handler


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


E164 = re.compile(r"\+[1-9][0-9]{7,14}")


# -- Twilio ------------------------------------------------------------------------------------

class FakeTwilio(_Fake):
    """``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, Basic auth, a form body.

    Twilio's magic test numbers are refused as Twilio's test credentials refuse them
    (``MAGIC_TO``). ``accepted`` holds the form fields of each message taken, with its ``sid``.
    """

    MAGIC_TO = {
        "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
        "+15005550002": (21612, "The 'To' phone number: +15005550002, is not currently "
                                "reachable using the 'From' phone number via SMS."),
        "+15005550003": (21408, "Permission to send an SMS has not been enabled for the "
                                "region indicated by the 'To' number: +15005550003."),
        "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
        "+15005550009": (21614, "'To' number is not a valid mobile number"),
    }

    def __init__(self):
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.from_number = "+15005550006"
        self.messaging_service_sid = "MG" + secrets.token_hex(16)
        super().__init__()

    def settings(self, **changes) -> TwilioSettings:
        """Settings that reach this server, with its credentials and sender."""
        values = {"base_url": self.base_url, "account_sid": self.account_sid,
                  "auth_token": self.auth_token, "from_number": self.from_number,
                  "timeout": 2.0, **changes}
        return TwilioSettings(**values)

    def _error(self, status: int, code: int, message: str) -> _Reply:
        return _Reply(status, {"code": code, "message": message,
                               "more_info": f"https://www.twilio.com/docs/errors/{code}",
                               "status": status})

    def failure(self, status, code, message) -> _Reply:
        if 300 <= status < 400:
            return _Reply(status, headers=(("Location", "http://169.254.169.254/"),))
        usual = {429: (20429, "Too Many Requests"), 500: (20500, "Internal Server Error"),
                 503: (20503, "Service Unavailable")}
        default = usual.get(status, (status, HTTPStatus(status).phrase))
        return self._error(status, code or default[0], message or default[1])

    def check(self, request):
        path = urllib.parse.urlsplit(request.path).path
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", path)
        if not match:
            return self._error(404, 20404, f"The requested resource {path} was not found")
        if request.method != "POST":
            return self._error(405, 20004, "Method not allowed")
        if not self._authenticated(request.headers.get("Authorization", ""), match[1]):
            return self._error(401, 20003, "Authenticate")
        return self._message(self._form(request))

    def _authenticated(self, header: str, path_sid: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        try:
            pair = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        return (scheme == "Basic" and pair == f"{self.account_sid}:{self.auth_token}"
                and path_sid == self.account_sid)

    @staticmethod
    def _form(request: Received) -> dict:
        """The form's fields; Twilio reads nothing from another content type."""
        content_type = request.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
            return {}
        fields = urllib.parse.parse_qs(request.body.decode(), keep_blank_values=True)
        return {name: values[0] for name, values in fields.items()}

    def _message(self, form: dict):
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From", ""), form.get("MessagingServiceSid", "")
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not E164.fullmatch(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.MAGIC_TO:
            return self._error(400, *self.MAGIC_TO[to])
        if not (sender or service):
            return self._error(400, 21603, "A 'From' phone number is required.")
        if service and service != self.messaging_service_sid:
            return self._error(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        if not service and sender != self.from_number:
            return self._error(400, 21606, f"The From phone number {sender} is not a valid, "
                                           "SMS-capable inbound phone number or short code for "
                                           "your account.")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        if _units(body) > 1600:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 "
                                           "character limit.")
        sid = "SM" + secrets.token_hex(16)
        return _Reply(201, self._resource(sid, form)), {"sid": sid, **form}

    def _resource(self, sid: str, form: dict) -> dict:
        service = form.get("MessagingServiceSid")
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01",
            "body": form["Body"], "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": None if service else form["From"], "messaging_service_sid": service,
            "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD",
            "sid": sid, "status": "accepted" if service else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


# -- WhatsApp Cloud API ------------------------------------------------------------------------

class FakeWhatsApp(_Fake):
    """``POST /v21.0/{phone_number_id}/messages``, a Bearer token, a JSON template message.

    ``templates`` maps each approved template's name to its languages and body text, whose
    ``{{1}}``, ``{{2}}``... the parameters fill; ``accepted`` holds each message taken: its
    ``id`` (wamid), ``to``, ``template``, ``language``, ``parameters`` and the ``text`` the
    person would read. A number in ``undeliverable`` is refused with 131026.
    """

    version = "v21.0"
    prefix = f"/{version}"
    TOP_KEYS = {"messaging_product", "recipient_type", "to", "type", "template",
                "biz_opaque_callback_data"}
    TEMPLATE_KEYS = {"name", "language", "components"}

    def __init__(self):
        self.phone_number_id = str(100000000000000 + secrets.randbelow(10 ** 14))
        self.access_token = "EAAT" + secrets.token_urlsafe(32)
        self.templates: dict[str, dict[str, str]] = {
            "hello_world": {"en_US": "Hello World"},
            "request_update": {"es": "Solicitud {{1}}: {{2}}", "en": "Request {{1}}: {{2}}"},
        }
        self.undeliverable: set[str] = set()
        super().__init__()

    def settings(self, **changes) -> WhatsAppSettings:
        """Settings that reach this server, with its phone number ID and token."""
        values = {"base_url": self.base_url, "phone_number_id": self.phone_number_id,
                  "access_token": self.access_token, "timeout": 2.0, **changes}
        return WhatsAppSettings(**values)

    def _error(self, status: int, code: int, message: str, details: str | None = None,
               kind: str = "OAuthException", **extra) -> _Reply:
        error = {"message": message, "type": kind, "code": code, **extra}
        if details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        error["fbtrace_id"] = secrets.token_urlsafe(16)
        return _Reply(status, {"error": error})

    def _invalid(self, details: str) -> _Reply:
        return self._error(400, 100, "(#100) Invalid parameter", details)

    def failure(self, status, code, message) -> _Reply:
        if 300 <= status < 400:
            return _Reply(status, headers=(("Location", "http://169.254.169.254/"),))
        usual = {429: (130429, "(#130429) Rate limit hit"),
                 500: (131000, "(#131000) Something went wrong"),
                 503: (2, "(#2) Service temporarily unavailable")}
        default = usual.get(status, (100, "(#100) Invalid parameter"))
        return self._error(status, code or default[0], message or default[1])

    def check(self, request):
        if request.headers.get("Authorization", "") != f"Bearer {self.access_token}":
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access "
                                         "token")
        path = urllib.parse.urlsplit(request.path).path
        expected = f"/{self.version}/{self.phone_number_id}/messages"
        if request.method != "POST" or path != expected:
            return self._error(
                400, 100, f"Unsupported {request.method.lower()} request. Object with ID "
                f"'{path.strip('/').split('/')[-1]}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation.",
                kind="GraphMethodException", error_subcode=33)
        if request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._invalid("The request body must be JSON (Content-Type: "
                                 "application/json).")
        try:
            message = json.loads(request.body.decode("utf-8"))
        except ValueError:
            return self._invalid("The request body is not valid JSON.")
        if not isinstance(message, dict):
            return self._invalid("The request body must be a JSON object.")
        return self._message(message)

    def _message(self, message: dict):
        unknown = set(message) - self.TOP_KEYS
        if unknown:
            return self._invalid(f"Unexpected key \"{sorted(unknown)[0]}\" on param.")
        if message.get("messaging_product") != "whatsapp":
            return self._error(400, 100, "(#100) The parameter messaging_product is required.")
        if message.get("recipient_type", "individual") != "individual":
            return self._invalid("recipient_type must be individual.")
        to = message.get("to")
        if not isinstance(to, str) or not re.fullmatch(r"\+?[1-9][0-9]{7,14}", to):
            return self._invalid("The parameter to must be a phone number.")
        if message.get("type") != "template":
            return self._invalid("This stand-in takes template messages only.")
        template = message.get("template")
        if not isinstance(template, dict):
            return self._error(400, 131008, "(#131008) Required parameter is missing",
                               "The parameter template is required.")
        return self._template(to, template, message)

    def _template(self, to: str, template: dict, message: dict):
        unknown = set(template) - self.TEMPLATE_KEYS
        if unknown:
            return self._invalid(f"Unexpected key \"{sorted(unknown)[0]}\" on param "
                                 "\"template\".")
        name, language = template.get("name"), template.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(name, str) or not isinstance(code, str) \
                or set(language) - {"code", "policy"}:
            return self._invalid("template must have a name and a language with a code.")
        text = self.templates.get(name, {}).get(code)
        if text is None:
            return self._error(404, 132001, "(#132001) Template name does not exist in the "
                               "translation", f"template name ({name}) does not exist in {code}")
        parameters = self._parameters(template.get("components", []))
        if isinstance(parameters, _Reply):
            return parameters
        expected = len(set(re.findall(r"\{\{(\d+)\}\}", text)))
        if len(parameters) != expected:
            return self._error(400, 132000, "(#132000) Number of parameters does not match the "
                               "expected number of params",
                               f"body: number of localizable_params ({len(parameters)}) does "
                               f"not match the expected number of params ({expected})")
        rendered = re.sub(r"\{\{(\d+)\}\}", lambda m: parameters[int(m[1]) - 1], text)
        if len(rendered) > 1024:
            return self._error(400, 132005, "(#132005) Translated text too long")
        if to in self.undeliverable:
            return self._error(400, 131026, "(#131026) Message undeliverable")
        wamid = "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()
        record = {"id": wamid, "to": to, "template": name, "language": code,
                  "parameters": parameters, "text": rendered, "message": message}
        return _Reply(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }), record

    def _parameters(self, components) -> list[str] | _Reply:
        """The body's parameter texts, or the refusal of a malformed component."""
        if not isinstance(components, list):
            return self._invalid("components must be a list.")
        texts: list[str] = []
        for component in components:
            if not isinstance(component, dict) or component.get("type") != "body" \
                    or set(component) != {"type", "parameters"} \
                    or not isinstance(component["parameters"], list):
                return self._invalid("Each component must be {\"type\": \"body\", "
                                     "\"parameters\": [...]} here.")
            for parameter in component["parameters"]:
                if not isinstance(parameter, dict) or parameter.get("type") != "text" \
                        or set(parameter) != {"type", "text"} \
                        or not isinstance(parameter["text"], str):
                    return self._invalid("Each parameter must be {\"type\": \"text\", "
                                         "\"text\": \"...\"}.")
                text = parameter["text"]
                if not text:
                    return self._error(400, 131008, "(#131008) Required parameter is missing",
                                       "Parameter text is required.")
                if re.search(r"[\n\t]| {5,}", text):
                    return self._error(400, 132018, "(#132018) There was an issue with the "
                                       "parameters in your template.", "Param text cannot have "
                                       "new-line/tab characters or more than 4 consecutive "
                                       "spaces")
                texts.append(text)
        return texts


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def twilio_server():
    server = FakeTwilio()
    yield server
    server.close()


@pytest.fixture
def whatsapp_server():
    server = FakeWhatsApp()
    yield server
    server.close()
