"""The Twilio and WhatsApp Cloud API adapters against local stand-ins of both providers: the
exact requests, the references, and which failures are final, retried or unreachable."""

import base64
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from urllib.parse import parse_qs

import pytest

from app.notifications.channels import http
from app.notifications.channels.sms import TwilioSettings, send_sms
from app.notifications.channels.whatsapp import send_template
from tests.notifications import fake_providers

twilio_server = fake_providers.twilio_server
whatsapp_server = fake_providers.whatsapp_server

QUICK = 0.3  # seconds: the socket timeout of the tests that wait for one
NO_ANSWER = "it may have been delivered, so it is not sent again"
BAD_NUMBERS = ["5551234567", "+0123456789", "+1234567", "+1234567890123456",
               "+1 555 123 4567", "+1٥٥٥١٢٣٤٥٦٧", "+15551234567\n", "", "whatsapp:+15551234567"]


def closed_port_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


@contextmanager
def raw_server(answer):
    """A loopback server that reads each request whole, then lets ``answer(conn, stop)``
    write what it likes (or nothing) on the socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def handle(conn):
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), b"0"))
            while len(body) < length:
                body += conn.recv(4096)
            answer(conn, stop)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def drip(data: bytes):
    """An answer written a byte every 50 ms, until the server stops."""
    def answer(conn, stop):
        for byte in data:
            if stop.is_set():
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.05)
    return answer


def twilio_at(base_url: str, **changes) -> TwilioSettings:
    """Settings for a server that is not the stand-in."""
    values = {"base_url": base_url, "account_sid": "AC" + "1" * 32, "auth_token": "f" * 32,
              "from_number": "+15005550006", "timeout": QUICK, **changes}
    return TwilioSettings(**values)


def basic(server) -> str:
    return base64.b64encode(f"{server.account_sid}:{server.auth_token}".encode()).decode()


def form_of(request) -> dict:
    return {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}


# -- Twilio ------------------------------------------------------------------------------------

def test_an_sms_reaches_twilio_as_documented(twilio_server):
    outcome = send_sms(twilio_server.settings(), "+5215512345678", "Solicitud REQ-7: atendida ✓")

    assert outcome.delivered and outcome.status == 201 and outcome.error is None
    [accepted] = twilio_server.accepted
    assert outcome.reference == accepted["sid"] and accepted["sid"].startswith("SM")
    [request] = twilio_server.received
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{twilio_server.account_sid}/Messages.json"
    assert request.headers["Authorization"] == f"Basic {basic(twilio_server)}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form_of(request) == {"To": "+5215512345678", "From": "+15005550006",
                                "Body": "Solicitud REQ-7: atendida ✓"}


def test_a_messaging_service_is_sent_instead_of_the_number(twilio_server):
    settings = twilio_server.settings(messaging_service_sid=twilio_server.messaging_service_sid)

    outcome = send_sms(settings, "+5215512345678", "Hola")

    assert outcome.delivered and outcome.reference == twilio_server.accepted[0]["sid"]
    assert form_of(twilio_server.received[0]) == {
        "To": "+5215512345678", "Body": "Hola",
        "MessagingServiceSid": twilio_server.messaging_service_sid}


@pytest.mark.parametrize("to, code", [("+15005550001", 21211), ("+15005550009", 21614),
                                      ("+15005550004", 21610)])
def test_a_number_twilio_refuses_is_final(twilio_server, to, code):
    outcome = send_sms(twilio_server.settings(), to, "Hola")

    assert not outcome.delivered and outcome.final and outcome.reachable
    assert outcome.status == 400 and not outcome.unsent
    assert outcome.error.startswith(f"Twilio {code}: ")
    assert twilio_server.accepted == []


def test_the_wording_of_a_twilio_refusal_is_kept(twilio_server):
    outcome = send_sms(twilio_server.settings(), "+15005550001", "Hola")

    assert outcome.error == ("Twilio 21211: The 'To' number +15005550001 is not a valid "
                             "phone number.")


def test_refused_credentials_are_final_and_not_quoted(twilio_server):
    wrong = "0123456789abcdef0123456789abcdef"
    outcome = send_sms(twilio_server.settings(auth_token=wrong), "+5215512345678", "Hola")

    assert outcome.final and outcome.status == 401
    assert outcome.error == "Twilio 20003: Authenticate"
    assert twilio_server.accepted == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_twilio_overloaded_or_down_is_tried_again(twilio_server, status):
    twilio_server.fail_next(status)

    first = send_sms(twilio_server.settings(), "+5215512345678", "Hola")
    second = send_sms(twilio_server.settings(), "+5215512345678", "Hola")

    assert not first.delivered and not first.final and first.reachable
    assert first.status == status and first.error.startswith("Twilio 20")
    assert second.delivered and len(twilio_server.accepted) == 1


def test_twilio_taking_the_message_and_not_answering_is_final(twilio_server):
    twilio_server.hang_next()

    started = time.monotonic()
    outcome = send_sms(twilio_server.settings(timeout=QUICK), "+5215512345678", "Hola")

    assert time.monotonic() - started < QUICK * http.DEADLINE_FACTOR + 1
    assert not outcome.delivered and outcome.final and outcome.status is None
    assert outcome.error == ("No answer from Twilio after the message was sent; it may have "
                             "been delivered, so it is not sent again.")
    assert len(twilio_server.accepted) == 1 and len(twilio_server.received) == 1


def test_a_closed_port_is_unreachable_and_tried_again():
    settings = twilio_at(closed_port_url())

    outcome = send_sms(settings, "+5215512345678", "Hola")

    assert not outcome.delivered and not outcome.final and not outcome.reachable
    assert outcome.status is None and outcome.error.startswith("Twilio could not be reached: ")


@pytest.mark.parametrize("to", BAD_NUMBERS)
def test_a_number_not_in_e164_is_never_sent_to_twilio(twilio_server, to):
    outcome = send_sms(twilio_server.settings(), to, "Hola")

    assert outcome.final and outcome.unsent and not outcome.delivered
    assert "international format" in outcome.error
    assert twilio_server.received == []


@pytest.mark.parametrize("changes", [{"from_number": ""}, {"auth_token": ""},
                                     {"account_sid": ""}, {"auth_token": "two words"},
                                     {"base_url": "ftp://api.twilio.com"},
                                     {"base_url": "http://api.twilio.com"}])
def test_twilio_not_configured_is_not_tried(twilio_server, changes):
    outcome = send_sms(twilio_server.settings(**changes), "+5215512345678", "Hola")

    assert outcome.final and outcome.unsent and "Twilio" in outcome.error
    assert twilio_server.received == []


def test_an_empty_sms_is_not_sent(twilio_server):
    outcome = send_sms(twilio_server.settings(), "+5215512345678", "  \n ")

    assert outcome.unsent and outcome.error == "The message is empty."
    assert twilio_server.received == []


def test_a_long_sms_is_cut_to_twilios_limit(twilio_server):
    outcome = send_sms(twilio_server.settings(), "+5215512345678", "a" * 1599 + "bcd")

    body = twilio_server.accepted[0]["Body"]
    assert outcome.delivered and len(body) == 1600 and body == "a" * 1599 + "…"


def test_an_sms_at_the_limit_is_sent_whole_and_emoji_count_twice(twilio_server):
    send_sms(twilio_server.settings(), "+5215512345678", "b" * 1600)
    send_sms(twilio_server.settings(), "+5215512345678", "😀" * 900)

    whole, emoji = (a["Body"] for a in twilio_server.accepted)
    assert whole == "b" * 1600
    assert emoji == "😀" * 799 + "…"  # 1,598 UTF-16 units and the "…"


def test_a_redirect_is_not_followed(twilio_server):
    twilio_server.fail_next(302)

    outcome = send_sms(twilio_server.settings(), "+5215512345678", "Hola")

    assert outcome.final and outcome.status == 302 and "redirects are not followed" in outcome.error
    assert len(twilio_server.received) == 1


def test_twilio_credentials_never_reach_the_error(twilio_server):
    settings = twilio_server.settings()
    twilio_server.fail_next(400, code=21000, message=f"echo {settings.auth_token} and "
                                                     f"Basic {basic(twilio_server)}")

    outcome = send_sms(settings, "+5215512345678", "Hola")

    assert outcome.final and outcome.error.startswith("Twilio 21000: echo [hidden]")
    assert settings.auth_token not in outcome.error and basic(twilio_server) not in outcome.error


# -- WhatsApp ----------------------------------------------------------------------------------

def test_a_template_reaches_the_cloud_api_as_documented(whatsapp_server):
    outcome = send_template(whatsapp_server.settings(), "+5215512345678", "request_update",
                            "es", ["REQ-7", "En curso"])

    assert outcome.delivered and outcome.status == 200
    [accepted] = whatsapp_server.accepted
    assert outcome.reference == accepted["id"] and accepted["id"].startswith("wamid.")
    assert accepted["text"] == "Solicitud REQ-7: En curso"
    [request] = whatsapp_server.received
    assert request.method == "POST"
    assert request.path == f"/v21.0/{whatsapp_server.phone_number_id}/messages"
    assert request.headers["Authorization"] == f"Bearer {whatsapp_server.access_token}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "+5215512345678", "type": "template",
        "template": {"name": "request_update", "language": {"code": "es"},
                     "components": [{"type": "body", "parameters": [
                         {"type": "text", "text": "REQ-7"},
                         {"type": "text", "text": "En curso"}]}]}}


def test_a_template_without_parameters_has_no_components(whatsapp_server):
    outcome = send_template(whatsapp_server.settings(), "+15551234567", "hello_world", "en_US",
                            [])

    assert outcome.delivered
    assert json.loads(whatsapp_server.received[0].body)["template"] == {
        "name": "hello_world", "language": {"code": "en_US"}}


def test_a_refused_token_is_final_and_not_quoted(whatsapp_server):
    wrong = "EAAT" + "x" * 40
    outcome = send_template(whatsapp_server.settings(access_token=wrong), "+15551234567",
                            "hello_world", "en_US", [])

    assert outcome.final and outcome.status == 401 and not outcome.unsent
    assert outcome.error == ("WhatsApp 190: Invalid OAuth access token - Cannot parse access "
                             "token")
    assert wrong not in outcome.error


def test_an_unknown_template_is_final(whatsapp_server):
    outcome = send_template(whatsapp_server.settings(), "+15551234567", "nope", "es", [])

    assert outcome.final and outcome.status == 404
    assert outcome.error == ("WhatsApp 132001: Template name does not exist in the translation "
                             "(template name (nope) does not exist in es)")


def test_parameters_that_do_not_fit_the_template_are_final(whatsapp_server):
    outcome = send_template(whatsapp_server.settings(), "+15551234567", "request_update", "es",
                            ["REQ-7"])

    assert outcome.final and outcome.error.startswith("WhatsApp 132000: ")
    assert whatsapp_server.accepted == []


def test_an_undeliverable_number_is_final(whatsapp_server):
    whatsapp_server.undeliverable.add("+15551234567")

    outcome = send_template(whatsapp_server.settings(), "+15551234567", "hello_world", "en_US",
                            [])

    assert outcome.final and outcome.error == "WhatsApp 131026: Message undeliverable"


@pytest.mark.parametrize("status, code", [(429, 130429), (400, 131056), (400, 4),
                                          (400, 80007), (500, 131000), (503, 2), (500, 1)])
def test_whatsapp_rate_limits_and_outages_are_tried_again(whatsapp_server, status, code):
    whatsapp_server.fail_next(status, code=code, message=f"(#{code}) Slow down")

    first = send_template(whatsapp_server.settings(), "+15551234567", "hello_world", "en_US", [])
    second = send_template(whatsapp_server.settings(), "+15551234567", "hello_world", "en_US",
                           [])

    assert not first.delivered and not first.final and first.reachable
    assert first.status == status and first.error == f"WhatsApp {code}: Slow down"
    assert second.delivered and len(whatsapp_server.accepted) == 1


@pytest.mark.parametrize("status, code", [(400, 100), (400, 131026), (400, 132018),
                                          (403, 10), (400, 368)])
def test_other_whatsapp_refusals_are_final(whatsapp_server, status, code):
    whatsapp_server.fail_next(status, code=code, message="No")

    outcome = send_template(whatsapp_server.settings(), "+15551234567", "hello_world", "en_US",
                            [])

    assert outcome.final and outcome.status == status and outcome.error == f"WhatsApp {code}: No"


def test_parameters_are_made_acceptable_to_whatsapp(whatsapp_server):
    outcome = send_template(whatsapp_server.settings(), "+15551234567", "request_update", "es",
                            ["Line one\nline two\r\n\ttab", "spaces     \u202eevil\x00 "])

    assert outcome.delivered
    assert whatsapp_server.accepted[0]["parameters"] == ["Line one line two tab",
                                                         "spaces evil"]


def test_the_stand_in_refuses_what_whatsapp_refuses(whatsapp_server):
    """So the test above could fail: a raw new line is refused as by the Cloud API."""
    message = {"messaging_product": "whatsapp", "to": "+15551234567", "type": "template",
               "template": {"name": "request_update", "language": {"code": "es"},
                            "components": [{"type": "body", "parameters": [
                                {"type": "text", "text": "a\nb"},
                                {"type": "text", "text": "c"}]}]}}

    status, answer = post_raw(whatsapp_server, json.dumps(message).encode())

    assert status == 400 and answer["error"]["code"] == 132018


def test_a_malformed_body_gets_code_100(whatsapp_server):
    status, answer = post_raw(whatsapp_server, b"{not json")

    assert status == 400 and answer["error"]["code"] == 100
    assert answer["error"]["type"] == "OAuthException" and answer["error"]["fbtrace_id"]


def post_raw(server, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.base_url}/{server.phone_number_id}/messages", data=body, method="POST",
        headers={"Authorization": f"Bearer {server.access_token}",
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_empty_and_long_parameters_are_filled_and_cut(whatsapp_server):
    whatsapp_server.templates["two"] = {"es": "{{1}} / {{2}}"}

    outcome = send_template(whatsapp_server.settings(), "+15551234567", "two", "es",
                            ["", "x" * 2000])

    empty, long = whatsapp_server.accepted[0]["parameters"]
    assert outcome.delivered and empty == "-"
    assert len(long) == 512 and long == "x" * 511 + "…"


def test_whatsapp_taking_the_message_and_not_answering_is_final(whatsapp_server):
    whatsapp_server.hang_next()

    outcome = send_template(whatsapp_server.settings(timeout=QUICK), "+15551234567",
                            "hello_world", "en_US", [])

    assert outcome.final and not outcome.delivered and outcome.status is None
    assert outcome.error == ("No answer from WhatsApp after the message was sent; it may have "
                             "been delivered, so it is not sent again.")
    assert len(whatsapp_server.accepted) == 1 and len(whatsapp_server.received) == 1


def test_whatsapp_on_a_closed_port_is_unreachable(whatsapp_server):
    settings = whatsapp_server.settings(base_url=closed_port_url() + "/v21.0", timeout=QUICK)

    outcome = send_template(settings, "+15551234567", "hello_world", "en_US", [])

    assert not outcome.final and not outcome.reachable and not outcome.delivered
    assert outcome.error.startswith("WhatsApp could not be reached: ")


@pytest.mark.parametrize("to", BAD_NUMBERS)
def test_a_number_not_in_e164_is_never_sent_to_whatsapp(whatsapp_server, to):
    outcome = send_template(whatsapp_server.settings(), to, "hello_world", "en_US", [])

    assert outcome.final and outcome.unsent and whatsapp_server.received == []


@pytest.mark.parametrize("template, language", [("Hello World", "en_US"), ("", "es"),
                                                ("hello_world", ""), ("hello_world", "en-us"),
                                                ("hello_world", "english")])
def test_a_malformed_template_or_language_is_not_sent(whatsapp_server, template, language):
    outcome = send_template(whatsapp_server.settings(), "+15551234567", template, language, [])

    assert outcome.final and outcome.unsent and whatsapp_server.received == []


def test_whatsapp_token_never_reaches_the_error(whatsapp_server):
    settings = whatsapp_server.settings()
    whatsapp_server.fail_next(400, code=100, message=f"bad {settings.access_token}")

    outcome = send_template(settings, "+15551234567", "hello_world", "en_US", [])

    assert outcome.error == "WhatsApp 100: bad [hidden]"


# -- the exchange itself -----------------------------------------------------------------------

def test_a_dripping_answer_is_abandoned_at_the_deadline():
    with raw_server(drip(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n")) as url:
        started = time.monotonic()
        outcome = send_sms(twilio_at(url, timeout=0.2), "+5215512345678", "Hola")
        took = time.monotonic() - started

    assert 0.35 < took < 1.5  # the deadline (0.4 s), though each byte came within the timeout
    assert outcome.final and not outcome.delivered and NO_ANSWER in outcome.error


def test_a_status_that_came_is_the_answer_even_if_its_body_never_does():
    head = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n"

    def answer(conn, stop):
        conn.sendall(head)
        drip(b'{"sid": "SM' + b"0" * 60)(conn, stop)

    with raw_server(answer) as url:
        outcome = send_sms(twilio_at(url, timeout=0.2), "+5215512345678", "Hola")

    assert outcome.delivered and outcome.status == 201 and outcome.reference is None


def test_a_connection_closed_after_the_request_is_final():
    with raw_server(lambda conn, stop: None) as url:
        outcome = send_sms(twilio_at(url), "+5215512345678", "Hola")

    assert outcome.final and not outcome.delivered and NO_ANSWER in outcome.error


def test_an_answer_that_is_not_twilios_json_is_shown_as_a_short_excerpt():
    page = b"<html><body>" + b"Bad gateway " * 100 + b"</body></html>"
    head = (b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: "
            + str(len(page)).encode() + b"\r\n\r\n")

    with raw_server(lambda conn, stop: conn.sendall(head + page)) as url:
        outcome = send_sms(twilio_at(url), "+5215512345678", "Hola")

    assert not outcome.final and outcome.status == 502
    assert outcome.error.startswith("Twilio HTTP 502: <html><body>Bad gateway")
    assert len(outcome.error) <= 300 and "\n" not in outcome.error


@pytest.mark.parametrize("base_url", ["http://api.twilio.com", "https://user:pw@api.twilio.com",
                                      "https://api.twilio.com?x=1", "file:///etc/passwd",
                                      "https://", "https://api.twilio.com:port"])
def test_unusable_base_urls_are_refused(base_url):
    with pytest.raises(http.UnusableURL):
        http.endpoint(base_url, "x")


def test_base_urls_take_quoted_segments():
    assert http.endpoint("https://graph.facebook.com/v21.0/", "12/../34", "messages") == \
        "https://graph.facebook.com/v21.0/12%2F..%2F34/messages"
    assert http.endpoint("http://localhost:8080", "a b") == "http://localhost:8080/a%20b"


def test_a_secret_deep_in_a_refusal_is_hidden_before_the_excerpt_is_cut():
    settings = twilio_at("")
    page = b" " * 790 + settings.auth_token.encode() + b" end"
    head = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(page)).encode() + b"\r\n\r\n")

    with raw_server(lambda conn, stop: conn.sendall(head + page)) as url:
        outcome = send_sms(twilio_at(url), "+5215512345678", "Hola")

    assert outcome.final and outcome.error == "Twilio HTTP 400: [hidden] end"
