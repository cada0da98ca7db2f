"""WhatsApp through Meta's Cloud API: business-initiated messages are approved *templates*.

``POST {base_url}/{phone_number_id}/messages`` with ``Authorization: Bearer {token}`` and a
JSON body naming the template, its language and the texts of its body's placeholders. Meta
answers 200 with the message's id (``wamid....``, the reference), or an error such as
``{"error": {"message": "...", "type": "OAuthException", "code": 190, "fbtrace_id": "..."}}``.

Meta asks for error handling on ``code``, not on the HTTP status: the rate limits (some come
as 400) and Meta's temporary failures are tried again, every other refusal is final.
"""

import json
import re
import unicodedata
from dataclasses import dataclass

from app.notifications.channels import http
from app.outbox.outcome import Outcome

PROVIDER = "WhatsApp"
DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")      # as Meta allows template names
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")      # "es", "en_US", "fil", "pt_BR"...
PARAMETER_CHARS = 512      # a body is at most 1,024 characters, its own words included
RETRIED_CODES = frozenset({
    1,        # API Unknown: possibly a server error
    2,        # API Service: temporary downtime or overload
    4,        # API Too Many Calls (the app's rate limit)
    80007,    # the WhatsApp Business Account's rate limit
    130429,   # Cloud API throughput reached
    131000,   # Something went wrong
    131016,   # Service unavailable
    131056,   # too many messages to the same recipient (pair rate limit)
    133004,   # server temporarily unavailable
})


@dataclass(frozen=True)
class WhatsAppSettings:
    base_url: str          # DEFAULT_BASE_URL (the Graph API version is part of it)
    phone_number_id: str
    access_token: str
    timeout: float = 10.0  # per socket operation; the whole send gets twice that


def send_template(settings: WhatsAppSettings, to: str, template: str, language: str,
                  parameters: list[str]) -> Outcome:
    """Hand one template message to the Cloud API; ``parameters`` fill the body's
    placeholders in order."""
    refusal = _refusal(settings, to, template, language)
    if refusal:
        return Outcome.not_sent(refusal)
    try:
        url = http.endpoint(settings.base_url, settings.phone_number_id, "messages")
    except http.UnusableURL as exc:
        return Outcome.not_sent(f"{PROVIDER}: {exc}")
    body = json.dumps(message(to, template, language, parameters), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
    headers = {"Authorization": f"Bearer {settings.access_token}",
               "Content-Type": "application/json"}
    try:
        answer = http.post(url, body, headers, settings.timeout)
    except http.NotSent as exc:
        return http.unreachable(PROVIDER, exc)
    except http.NoAnswer:
        return http.no_answer(PROVIDER)
    return _outcome(answer, (settings.access_token,))


def _refusal(settings: WhatsAppSettings, to: str, template: str, language: str) -> str | None:
    """Why the message is not sent at all, or None."""
    if not settings.phone_number_id or not settings.access_token:
        return f"{PROVIDER} is not configured: the phone number ID and access token are needed."
    if not http.header_safe(settings.access_token):
        return f"{PROVIDER} is not configured: the access token is not well formed."
    if not E164.fullmatch(to or ""):
        return "The phone number is not in international format (+ and 8 to 15 digits)."
    if not TEMPLATE_NAME.fullmatch(template or ""):
        return (f"{PROVIDER}: the template name must be lowercase letters, digits and "
                "underscores.")
    if not LANGUAGE.fullmatch(language or ""):
        return f"{PROVIDER}: the template language must be a code such as es or en_US."
    return None


def message(to: str, template: str, language: str, parameters: list[str]) -> dict:
    """The Cloud API's template message. ``to`` keeps its "+": Meta recommends it (without
    it, the business number's own country code is assumed)."""
    content: dict = {"name": template, "language": {"code": language}}
    if parameters:
        content["components"] = [{
            "type": "body",
            "parameters": [{"type": "text", "text": parameter(p)} for p in parameters],
        }]
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "template", "template": content}


def parameter(text) -> str:
    """A placeholder's text as WhatsApp takes it: no new lines, tabs or runs of spaces (it
    refuses those), no control or bidi characters, never empty, at most PARAMETER_CHARS."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(text or ""))
    text = " ".join(http.without_bidi(text).split()) or "-"
    return text if len(text) <= PARAMETER_CHARS else text[:PARAMETER_CHARS - 1] + "…"


def _outcome(answer: http.Answer, hide: tuple[str, ...]) -> Outcome:
    if 200 <= answer.status < 300:
        return Outcome.sent(answer.status, _wamid(answer.json() or {}))
    if 300 <= answer.status < 400:
        return http.redirected(PROVIDER, answer.status)
    error = (answer.json() or {}).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    retry = code in RETRIED_CODES or answer.status == 429 or answer.status >= 500
    return Outcome.failed(_error(answer, error, hide), status=answer.status, final=not retry)


def _wamid(answer: dict) -> str | None:
    messages = answer.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, dict) else None
    return wamid if isinstance(wamid, str) and wamid else None


def _error(answer: http.Answer, error, hide: tuple[str, ...]) -> str:
    """"WhatsApp <code>: <message> (<details>)" from Meta's error, or the status and an
    excerpt of the body."""
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        excerpt = answer.excerpt(hide)
        return http.one_line(f"{PROVIDER} HTTP {answer.status}"
                             + (f": {excerpt}" if excerpt else ""))
    code = error["code"]
    text = str(error.get("message") or "")
    text = text.removeprefix(f"(#{code})").strip() or "error"
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    if isinstance(details, str) and details.strip() and details.strip() != text:
        text += f" ({details.strip()})"
    return http.one_line(f"{PROVIDER} {code}: {text}", hide=hide)
