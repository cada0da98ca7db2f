"""A company's settings: its name, logo, default language, time zone, the prefixes of its
request and ticket numbers, the timer durations its diagrams read, the currency of its budgets
and costs, and whether a request approved over budget needs a tenant admin's approval too.

``clean`` checks what an admin typed (raises ``marshmallow.ValidationError``, field -> messages)
and ``apply`` writes it with an audit entry; ``check_logo`` reads an uploaded logo's bytes
(PNG or JPEG only, told by their content, never by the file name) and ``set_logo`` /
``remove_logo`` store it. Everything only flushes: the view commits.
"""

import hashlib
import re
import struct
from dataclasses import dataclass
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select

from app import survey
from app.admin import audit
from app.engine import timers
from app.extensions import db
from app.models import Category, Tenant
from app.models.tenant import DEFAULT_SETTINGS
from app.viability import money

LOCALES = ("es", "en")
LOCALE_LABELS = {"es": "Español", "en": "English"}
NAME_MAX = 200
PREFIX_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?$")  # 1..10 characters
PREFIXES = ("request_number_prefix", "ticket_number_prefix")
TIMERS = ("authorization_reminder_after", "auto_close_after")
TIMER_LABELS = {
    "authorization_reminder_after": _l("Remind the unit head of a request waiting for "
                                       "authorization after"),
    "auto_close_after": _l("Close a finished request the requester has not confirmed after"),
}
MIN_TIMER_SECONDS = 60
VIABILITY = ("currency", "over_budget_approval")
SURVEY = (survey.SETTING,)  # how many days a survey link works (app.survey)
# Offered on the page (the API takes any ISO 4217 code Babel knows)
CURRENCIES = ("COP", "USD", "EUR", "MXN", "PEN", "CLP", "ARS", "BRL", "UYU", "BOB", "PYG",
              "VES", "GTQ", "CRC", "DOP", "HNL", "NIO", "PAB", "CAD", "GBP")
FIELDS = ("name", "locale", "timezone", *PREFIXES, *TIMERS, *VIABILITY, *SURVEY)
KEPT = (*PREFIXES, *TIMERS, *VIABILITY, *SURVEY)  # held in ``Tenant.settings``
LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_SIDE = 4096
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers: they carry the height and width (C4, C8 and CC are not frames)
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def current(tenant: Tenant) -> dict:
    """The settings as the page and the API show them."""
    values = {"name": tenant.name, "locale": tenant.locale, "timezone": tenant.timezone}
    for key in KEPT:
        values[key] = tenant.setting(key)
    values["over_budget_approval"] = bool(values["over_budget_approval"])
    values["currency"] = values["currency"] or money.DEFAULT_CURRENCY
    values[survey.SETTING] = survey.link_days(tenant)
    return values


def _timer(text: str) -> list[str]:
    """The problems of a timer duration, checked with the engine's own parser and bounds."""
    value = text.strip().upper()
    if not value:
        return [str(_l("Write a duration, such as PT48H (48 hours) or P7D (7 days)."))]
    try:
        seconds = timers.duration_seconds(value)
        timers.check("duration", value)
    except timers.TimerValueError:
        if len(value) > timers.MAX_TEXT or not timers._DURATION_RE.fullmatch(value):
            return [str(_l("This is not a duration. Write it in ISO 8601, such as PT30M "
                           "(30 minutes), PT48H (48 hours), P7D (7 days) or P1M (a month)."))]
        return [str(_l("At most %(years)s years.", years=f"{timers.limits.max_years:g}"))]
    if seconds < MIN_TIMER_SECONDS:
        return [str(_l("At least one minute (PT1M): a timer of zero would fire at once."))]
    return []


def clean(tenant: Tenant, data: dict) -> dict:
    """The settings in ``data`` (any subset of FIELDS), checked and normalised; raises
    ValidationError with every problem at once."""
    errors: dict[str, list[str]] = {}
    out: dict = {}
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name or len(name) > NAME_MAX:
            errors["name"] = [str(_l("Give the company's name, at most %(n)s characters.",
                                     n=NAME_MAX))]
        elif not name.isprintable():  # a line break, a direction override: as people's names
            errors["name"] = [str(_l("At most %(n)s characters, on one line.", n=NAME_MAX))]
        out["name"] = name
    if "locale" in data:
        if data["locale"] not in LOCALES:
            errors["locale"] = [str(_l("Choose Spanish or English."))]
        out["locale"] = data["locale"]
    if "timezone" in data:
        zone = (data["timezone"] or "").strip()
        if zone not in available_timezones():
            errors["timezone"] = [str(_l("Choose a time zone from the list, such as "
                                         "America/Bogota."))]
        out["timezone"] = zone
    for key in PREFIXES:
        if key in data:
            prefix = (data[key] or "").strip()
            if not PREFIX_RE.match(prefix):
                errors[key] = [str(_l("1 to 10 letters, digits or dashes, starting and ending "
                                      "with a letter or digit (such as SOL or MS-REQ)."))]
            out[key] = prefix
    for key in TIMERS:
        if key in data:
            problems = _timer(data[key] or "")
            if problems:
                errors[key] = problems
            out[key] = (data[key] or "").strip().upper()
    if "currency" in data:
        code = (data["currency"] or "").strip().upper() \
            if isinstance(data["currency"], str) else ""
        if not money.is_currency(code):
            errors["currency"] = [str(_l("Choose a currency, or give its ISO 4217 code of "
                                         "three letters (such as COP, USD or EUR)."))]
        out["currency"] = code
    if "over_budget_approval" in data:
        if not isinstance(data["over_budget_approval"], bool):
            errors["over_budget_approval"] = [str(_l("Yes or no."))]
        out["over_budget_approval"] = data["over_budget_approval"]
    if survey.SETTING in data:
        days = _survey_days(data[survey.SETTING])
        if days is None:
            errors[survey.SETTING] = [str(_l("A whole number of days from 1 to %(n)s.",
                                             n=survey.MAX_DAYS))]
        out[survey.SETTING] = days
    prefixes = [out.get(k, tenant.setting(k)) for k in PREFIXES]
    if not errors.keys() & set(PREFIXES) and prefixes[0].upper() == prefixes[1].upper():
        errors["ticket_number_prefix"] = [str(_l("Requests and tickets need different "
                                                 "prefixes, so a number says which it is."))]
    if "locale" in out and not errors.get("locale") and out["locale"] != tenant.locale:
        clash = _category_name_clash(tenant, out["locale"])
        if clash:
            errors["locale"] = [clash]
    if errors:
        raise ValidationError(errors)
    return out


def _survey_days(value) -> int | None:
    """Days a survey link works, from the page's text or the API's number (1..MAX_DAYS)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 3):
            return None
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= survey.MAX_DAYS else None


def _category_name_clash(tenant: Tenant, locale: str) -> str | None:
    """Category names are unique in the tenant's language: refuse a language in which two of
    them would read the same."""
    seen: dict[str, str] = {}
    for category in _categories(tenant.id):
        label = category.label(locale)
        key = label.casefold()
        if key in seen:
            return str(_l("Two categories would be called '%(name)s' in that language: give "
                          "them different names first.", name=label))
        seen[key] = label
    return None


def _categories(tenant_id: int) -> list[Category]:
    return list(db.session.scalars(select(Category).where(Category.tenant_id == tenant_id)))


def apply(actor, tenant: Tenant, values: dict) -> bool:
    """Write checked ``values``; an audit entry with what changed. False when nothing did."""
    before = current(tenant)
    changed = {k: v for k, v in values.items() if before.get(k) != v}
    if not changed:
        return False
    for key in ("name", "locale", "timezone"):
        if key in changed:
            setattr(tenant, key, changed[key])
    kept = {k: changed[k] for k in KEPT if k in changed}
    if kept:
        tenant.settings = {**(tenant.settings or {}), **kept}
    if "locale" in changed:
        for category in _categories(tenant.id):  # ``name`` is the tenant's language's
            category.name = category.label(changed["locale"])
    audit.record(tenant.id, actor, "settings.changed", "tenant", tenant.id,
                 target_label=tenant.name, before={k: before[k] for k in changed},
                 after=changed)
    return True


@dataclass
class Logo:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def version(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:16]


def _logo_error(message) -> ValidationError:
    return ValidationError({"logo": [str(message)]})


def check_logo(data: bytes) -> Logo:
    """The logo in ``data`` when it is a PNG or a JPEG of a sensible size, told by its bytes
    (a minimal read of the header for its width and height); raises ValidationError."""
    if not data:
        raise _logo_error(_l("Choose an image file."))
    if len(data) > LOGO_MAX_BYTES:
        raise _logo_error(_l("The logo may be at most %(kb)s KB; this file is %(size)s KB.",
                             kb=LOGO_MAX_BYTES // 1024, size=(len(data) + 1023) // 1024))
    if data.startswith(PNG_MAGIC):
        size, kind = _png_size(data), "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        size, kind = _jpeg_size(data), "image/jpeg"
    else:
        raise _logo_error(_l("The logo must be a PNG or JPEG image (this file is neither, "
                             "whatever its name says)."))
    if size is None:
        raise _logo_error(_l("The image is damaged: its size cannot be read."))
    width, height = size
    if not (0 < width <= LOGO_MAX_SIDE and 0 < height <= LOGO_MAX_SIDE):
        raise _logo_error(_l("The image must be between 1 and %(n)s pixels wide and high.",
                             n=LOGO_MAX_SIDE))
    return Logo(data, kind, width, height)


def _png_size(data: bytes) -> tuple[int, int] | None:
    """PNG: the first chunk is IHDR (13 bytes: width, height, ...)."""
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """JPEG: walk the marker segments up to the first start-of-frame (a bounded walk: each
    step moves forward by the segment's length)."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before
            return None
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if length < 2:
            return None
        if marker in _SOF:
            if at + 9 > len(data) or length < 7:
                return None
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    return None


def set_logo(actor, tenant: Tenant, logo: Logo) -> None:
    before = {"logo": tenant.setting("logo_version")}
    tenant.logo, tenant.logo_type = logo.data, logo.content_type
    tenant.settings = {**(tenant.settings or {}), "logo_version": logo.version}
    audit.record(tenant.id, actor, "settings.logo_changed", "tenant", tenant.id,
                 target_label=tenant.name, before=before,
                 after={"logo": logo.version, "type": logo.content_type, "bytes": len(logo.data),
                        "width": logo.width, "height": logo.height})


def remove_logo(actor, tenant: Tenant) -> bool:
    version = tenant.setting("logo_version")
    if not version:
        return False
    tenant.logo, tenant.logo_type = None, None
    tenant.settings = {k: v for k, v in (tenant.settings or {}).items() if k != "logo_version"}
    audit.record(tenant.id, actor, "settings.logo_removed", "tenant", tenant.id,
                 target_label=tenant.name, before={"logo": version}, after={"logo": None})
    return True


def defaults() -> dict:
    return {**{k: DEFAULT_SETTINGS.get(k) for k in KEPT}, survey.SETTING: survey.DEFAULT_DAYS}
