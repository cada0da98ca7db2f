"""SMS through Twilio Programmable Messaging: one Message resource created per message.

``POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP Basic auth
(AccountSid:AuthToken) and a form-encoded body (``To``, ``Body``, and ``MessagingServiceSid`` or
``From``). Twilio answers 201 with the new Message (its ``sid``, SM..., is the reference), or an
error such as ``{"code": 21211, "message": "...", "more_info": "...", "status": 400}``.

A refusal (4xx) is final, but for 429 (too many requests); 5xx and network failures are tried
again. See ``http`` for what happens when no answer comes back.
"""

import base64
import re
import urllib.parse
from dataclasses import dataclass

from app.notifications.channels import http
from app.outbox.outcome import Outcome

PROVIDER = "Twilio"
DEFAULT_BASE_URL = "https://api.twilio.com"
BODY_LIMIT = 1600          # Twilio refuses longer bodies (error 21617)
E164 = re.compile(r"\+[1-9][0-9]{7,14}")


@dataclass(frozen=True)
class TwilioSettings:
    base_url: str          # DEFAULT_BASE_URL; a setting so tests point it at a local server
    account_sid: str
    auth_token: str
    from_number: str = ""              # E.164 (or an alphanumeric sender ID), or
    messaging_service_sid: str = ""    # MG...: one of the two is required; this one wins
    timeout: float = 10.0              # per socket operation; the whole send gets twice that


def send_sms(settings: TwilioSettings, to: str, body: str) -> Outcome:
    """Hand one SMS to Twilio."""
    refusal = _refusal(settings, to, body)
    if refusal:
        return Outcome.not_sent(refusal)
    try:
        url = http.endpoint(settings.base_url, "2010-04-01", "Accounts", settings.account_sid,
                            "Messages.json")
    except http.UnusableURL as exc:
        return Outcome.not_sent(f"{PROVIDER}: {exc}")
    try:
        answer = http.post(url, _form(settings, to, body), _headers(settings),
                           settings.timeout)
    except http.NotSent as exc:
        return http.unreachable(PROVIDER, exc)
    except http.NoAnswer:
        return http.no_answer(PROVIDER)
    return _outcome(answer, _secrets(settings))


def _refusal(settings: TwilioSettings, to: str, body: str) -> str | None:
    """Why the message is not sent at all, or None."""
    if not settings.account_sid or not settings.auth_token:
        return f"{PROVIDER} is not configured: the Account SID and Auth Token are needed."
    if ":" in settings.account_sid or not http.header_safe(settings.account_sid) \
            or not http.header_safe(settings.auth_token):
        return f"{PROVIDER} is not configured: the Account SID or Auth Token is not well formed."
    if not (settings.messaging_service_sid or settings.from_number):
        return (f"{PROVIDER} is not configured: a sender number or a Messaging Service SID is "
                "needed.")
    if not E164.fullmatch(to or ""):
        return "The phone number is not in international format (+ and 8 to 15 digits)."
    if not (body or "").strip():
        return "The message is empty."
    return None


def cut(body: str, limit: int = BODY_LIMIT) -> str:
    """``body`` within ``limit`` characters, counted as UTF-16 units as SMS encodes them
    (so an emoji counts twice); a cut one ends with "…"."""
    if _units(body) <= limit:
        return body
    kept, used = [], 1  # room for the "…"
    for char in body:
        used += _units(char)
        if used > limit:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _form(settings: TwilioSettings, to: str, body: str) -> bytes:
    fields = {"To": to, "Body": cut(http.without_bidi(body))}
    if settings.messaging_service_sid:
        fields["MessagingServiceSid"] = settings.messaging_service_sid
    else:
        fields["From"] = settings.from_number
    return urllib.parse.urlencode(fields).encode("ascii")


def _basic(settings: TwilioSettings) -> str:
    pair = f"{settings.account_sid}:{settings.auth_token}".encode()
    return base64.b64encode(pair).decode("ascii")


def _headers(settings: TwilioSettings) -> dict[str, str]:
    return {"Authorization": f"Basic {_basic(settings)}",
            "Content-Type": "application/x-www-form-urlencoded"}


def _secrets(settings: TwilioSettings) -> tuple[str, ...]:
    return settings.auth_token, _basic(settings)


def _outcome(answer: http.Answer, hide: tuple[str, ...]) -> Outcome:
    if 200 <= answer.status < 300:
        sid = (answer.json() or {}).get("sid")
        return Outcome.sent(answer.status, sid if isinstance(sid, str) and sid else None)
    if 300 <= answer.status < 400:
        return http.redirected(PROVIDER, answer.status)
    retry = answer.status == 429 or answer.status >= 500
    return Outcome.failed(_error(answer, hide), status=answer.status, final=not retry)


def _error(answer: http.Answer, hide: tuple[str, ...]) -> str:
    """"Twilio <code>: <message>" from Twilio's error body, or the status and an excerpt."""
    error = answer.json() or {}
    code, message = error.get("code"), error.get("message")
    if isinstance(code, int) and isinstance(message, str):
        return http.one_line(f"{PROVIDER} {code}: {message}", hide=hide)
    excerpt = answer.excerpt(hide)
    return http.one_line(f"{PROVIDER} HTTP {answer.status}" + (f": {excerpt}" if excerpt else ""))
