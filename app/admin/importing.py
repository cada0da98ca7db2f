"""Importing a company's units or people from a CSV file: a dry run that reports every row's
problems, then the same file applied all at once, or not at all.

The file (at most MAX_BYTES, and MAX_ROWS rows of its kind) is UTF-8, with or without a
byte-order mark, separated by commas or semicolons (told from its header line). Columns,
named in the header in English or Spanish, in any order:

- units: ``name`` (required), ``parent`` (a unit that exists or one of the file, in any
  order), ``service_unit`` (yes/no);
- people: ``email`` and ``name`` (required), ``language`` (es/en), ``phone`` (E.164),
  ``roles`` (``role@unit`` separated by ``|``; ``tenant_admin`` and ``process_owner`` without
  a unit).

``check`` reads and checks a file without changing anything; ``apply`` checks it again and
creates everything through the same services as the pages (``app.admin.units.create``,
``app.admin.people.invite``), which only flush: the caller commits when the report has no
problems and rolls back otherwise. Work is bounded whatever the input: the size is checked
before reading, parsing streams and stops at the row limit, and each check is a dictionary
lookup (no row is compared with every other).

``sign`` and ``unsign`` carry a checked file back from the dry run's page to its confirmation,
so the confirmation applies exactly the bytes that were checked.
"""

import base64
import csv
import hashlib
import io
import re
import zlib
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, TimestampSigner
from marshmallow import ValidationError, fields
from sqlalchemy import func, select

from app.admin import audit
from app.extensions import db
from app.models import ROLES, Unit, User

KINDS = ("units", "people")
MAX_BYTES = 1_000_000
# Rows per file: every person is invited (an account, a single-use link and an e-mail, about
# 7 ms each on SQLite), so a file of people stays well within one request's time (gunicorn's
# 30 s); units cost less than 1.5 ms each.
MAX_ROWS = {"units": 5_000, "people": 2_000}
MAX_CELL = 1_000
HEADER_PROBLEMS = 20  # at most this many problems said of the header line
EMAIL_CHUNK = 500
TOKEN_MAX_AGE = 3600  # seconds a dry run's confirmation stays valid
NAME_MAX, EMAIL_MAX = 200, 254
UNITLESS_ROLES = ("tenant_admin", "process_owner")
SERVICE_ROLES = ("service_director", "worker")
COLUMNS = {
    "units": {"name": True, "parent": False, "service_unit": False},
    "people": {"email": True, "name": True, "language": False, "phone": False, "roles": False},
}
ALIASES = {
    "nombre": "name", "padre": "parent", "unidad_padre": "parent", "parent_unit": "parent",
    "unidad_de_servicio": "service_unit", "es_unidad_de_servicio": "service_unit",
    "is_service_unit": "service_unit", "correo": "email", "e-mail": "email",
    "correo_electronico": "email", "correo_electrónico": "email", "idioma": "language",
    "locale": "language", "telefono": "phone", "teléfono": "phone", "celular": "phone",
}
YES = {"yes", "y", "si", "sí", "s", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Problem:
    row: int          # the row in the file as a spreadsheet numbers it (the header is 1)
    column: str       # the column's name, or "" for the whole row or file
    message: str


@dataclass
class Report:
    kind: str
    digest: str = ""
    size: int = 0
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    applied: bool = False
    plan: list = field(default_factory=list)  # the checked rows, in the order to create them

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, row: int, column: str, message) -> None:
        self.problems.append(Problem(row, column, str(message)))

    def as_dict(self) -> dict:
        return {"kind": self.kind, "digest": self.digest, "size": self.size, "rows": self.rows,
                "ok": self.ok, "applied": self.applied, "created": self.created,
                "problems": [vars(p) for p in self.problems]}


class _Refused(Exception):
    """The file cannot be read at all (the report says why)."""


# --- reading ---------------------------------------------------------------------------------

def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes, report: Report) -> str:
    if len(data) > MAX_BYTES:
        report.add(0, "", _l("The file is larger than %(kb)s KB: split it into smaller files.",
                             kb=MAX_BYTES // 1000))
        raise _Refused
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        report.add(0, "", _l("The file is in UTF-16. Save it as 'CSV UTF-8' (in Excel: Save "
                             "as, CSV UTF-8 (comma delimited)) and try again."))
        raise _Refused
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        report.add(line, "", _l(
            "The file is not in UTF-8 (from row %(row)s on it looks like Latin-1 or "
            "Windows-1252). Save it as 'CSV UTF-8' (in Excel: Save as, CSV UTF-8 (comma "
            "delimited)) and try again.", row=line))
        raise _Refused from None
    if not text.strip():
        report.add(0, "", _l("The file is empty."))
        raise _Refused
    return text


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _header(kind: str, cells: list[str], report: Report) -> list[str]:
    names = [ALIASES.get(c.strip().lower().replace(" ", "_"), c.strip().lower().replace(" ", "_"))
             for c in cells]
    known = COLUMNS[kind]
    for position, name in enumerate(names):
        if len(report.problems) >= HEADER_PROBLEMS:
            break  # a header of half a million columns: a few are enough to say what is wrong
        original = cells[position].strip()[:60]
        if name not in known:
            report.add(1, original, _l("Unknown column '%(column)s'. The columns are: "
                                       "%(columns)s.", column=original[:60],
                                       columns=", ".join(known)))
        elif names.index(name) != position:
            report.add(1, original, _l("The column '%(column)s' appears twice.",
                                       column=original[:60]))
    missing = [name for name, required in known.items() if required and name not in names]
    if missing:
        report.add(1, "", _l("Missing columns: %(columns)s.", columns=", ".join(missing)))
    unknown_only = all(name not in known or names.index(name) == position
                       for position, name in enumerate(names))
    if report.problems and (missing or not unknown_only
                            or len(report.problems) >= HEADER_PROBLEMS):
        raise _Refused  # the rows cannot be read as the columns they should be
    return names  # an unknown column is a problem, and the rows are still checked


def _rows(kind: str, data: bytes, report: Report):
    """Yield ``(row number, {column: value})`` for each non-blank row, streaming; records
    malformed rows in ``report``; stops (with a problem) past the kind's MAX_ROWS."""
    text = _decode(data, report)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = next(reader, None)
        names = _header(kind, header or [], report)
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            report.rows += 1
            if report.rows > MAX_ROWS[kind]:
                report.add(number, "", _l("The file has more than %(n)s rows: split it into "
                                          "smaller files.", n=format_number(MAX_ROWS[kind])))
                raise _Refused
            if len(cells) != len(names):
                report.add(number, "", _l("This row has %(found)s values; the header has "
                                          "%(expected)s.", found=len(cells),
                                          expected=len(names)))
                continue
            values = {}
            for name, cell in zip(names, cells, strict=True):
                value = cell.strip()
                if len(value) > MAX_CELL or _CONTROL.search(value):
                    report.add(number, name, _l("At most %(n)s characters, without control "
                                                "characters.", n=MAX_CELL))
                    value = ""
                values[name] = value
            yield number, values
    except csv.Error as exc:
        report.add(reader.line_num, "", _l("The file is not valid CSV near row %(row)s "
                                           "(%(error)s): check its quotes.",
                                           row=reader.line_num, error=str(exc)))
        raise _Refused from None


# --- checking --------------------------------------------------------------------------------

def _key(name: str) -> str:
    return " ".join(name.split()).lower()


def _existing_units(tenant_id: int) -> dict[str, Unit]:
    return {_key(unit.name): unit for unit in db.session.scalars(
        select(Unit).where(Unit.tenant_id == tenant_id))}


def _check_units(tenant_id: int, rows, report: Report) -> None:
    existing = _existing_units(tenant_id)
    in_file: dict[str, dict] = {}
    for number, values in rows:
        name = " ".join(values["name"].split())
        key = _key(name)
        row = {"row": number, "name": name, "key": key, "parent": None,
               "service": False, "bad": False}
        if not name:
            report.add(number, "name", _l("Write the unit's name."))
            row["bad"] = True
        elif len(name) > NAME_MAX or not name.isprintable():
            report.add(number, "name", _l("At most %(n)s characters, on one line.", n=NAME_MAX))
            row["bad"] = True
        elif key in existing:
            report.add(number, "name", _l("The unit '%(name)s' already exists.", name=name))
            row["bad"] = True
        elif key in in_file:
            report.add(number, "name", _l("The unit '%(name)s' is also on row %(row)s.",
                                          name=name, row=in_file[key]["row"]))
            row["bad"] = True
        service = values.get("service_unit", "").lower()
        if service in YES:
            row["service"] = True
        elif service not in NO:
            report.add(number, "service_unit", _l("Write yes or no."))
        parent = " ".join(values.get("parent", "").split())
        if parent:
            row["parent"] = _key(parent)
            row["parent_name"] = parent
        if key and key not in in_file:
            in_file[key] = row
    for row in in_file.values():
        parent = row["parent"]
        if parent is None:
            continue
        unit = existing.get(parent)
        if unit is not None:
            if unit.archived_at is not None:
                report.add(row["row"], "parent", _l("The unit '%(name)s' is archived: it "
                                                   "takes nothing new.", name=unit.name))
            row["parent_id"] = unit.id
        elif parent not in in_file:
            report.add(row["row"], "parent", _l(
                "Unknown unit '%(name)s': it is neither in the company nor in the file.",
                name=row["parent_name"]))
    report.plan = _parents_first(in_file, report)


def _parents_first(in_file: dict[str, dict], report: Report) -> list[dict]:
    """The file's units, each after its parent; a cycle is a problem on each of its rows. Each
    unit is visited once (an iterative walk up its parents)."""
    ordered: list[dict] = []
    state: dict[str, str] = {}  # "walking" while on the current path, "done" once placed
    for start in in_file:
        path = []
        key = start
        while key in in_file and state.get(key) is None:
            state[key] = "walking"
            path.append(key)
            key = in_file[key]["parent"]
        if key in in_file and state.get(key) == "walking":
            cycle = path[path.index(key):]
            names = " → ".join(in_file[k]["name"] for k in [*cycle, key])
            for k in cycle:
                report.add(in_file[k]["row"], "parent",
                           _l("The units' parents go round in a circle: %(cycle)s.",
                              cycle=names))
        for k in reversed(path):
            state[k] = "done"
            ordered.append(in_file[k])
    return ordered


def _check_people(tenant_id: int, rows, report: Report) -> None:
    from app.notifications.service import clean_phone

    units = _existing_units(tenant_id)
    seen: dict[str, int] = {}
    plan = []
    email_field = fields.Email()
    for number, values in rows:
        email = values["email"].lower()
        person = {"row": number, "email": email, "name": " ".join(values["name"].split()),
                  "locale": None, "phone": None, "memberships": []}
        if not email:
            report.add(number, "email", _l("Write the e-mail address."))
        elif len(email) > EMAIL_MAX:
            report.add(number, "email", _l("At most %(n)s characters.", n=EMAIL_MAX))
        else:
            try:
                email_field.deserialize(email)
            except ValidationError:
                report.add(number, "email", _l("This is not an e-mail address."))
            else:
                if email in seen:
                    report.add(number, "email", _l("The address %(email)s is also on row "
                                                   "%(row)s.", email=email, row=seen[email]))
                else:
                    seen[email] = number
        if not person["name"]:
            report.add(number, "name", _l("Write the person's name."))
        elif len(person["name"]) > NAME_MAX or not person["name"].isprintable():
            report.add(number, "name", _l("At most %(n)s characters, on one line.",
                                          n=NAME_MAX))
        language = values.get("language", "").lower()
        if language in ("es", "en"):
            person["locale"] = language
        elif language:
            report.add(number, "language", _l("Write es (Spanish) or en (English), or leave "
                                              "it empty for the company's language."))
        try:
            person["phone"] = clean_phone(values.get("phone", ""))
        except ValidationError as exc:
            report.add(number, "phone", " ".join(str(m) for m in _messages(exc)))
        for item in values.get("roles", "").split("|"):
            membership = _role(item.strip(), units, number, report)
            if membership is not None and membership not in person["memberships"]:
                person["memberships"].append(membership)
        plan.append(person)
    _taken_emails(seen, report)
    report.plan = plan


def _messages(exc: ValidationError) -> list:
    messages = exc.messages
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in value]
    return list(messages)


def _role(item: str, units: dict[str, Unit], number: int, report: Report):
    if not item:
        return None
    role, at, unit_name = (part.strip() for part in item.partition("@"))
    if role not in ROLES:
        report.add(number, "roles", _l("Unknown role '%(role)s'. The roles are: %(roles)s.",
                                       role=role[:40], roles=", ".join(ROLES)))
        return None
    if role in UNITLESS_ROLES:
        if unit_name:
            report.add(number, "roles", _l("%(role)s is for the whole company: write it "
                                           "without @unit.", role=role))
            return None
        return (role, None)
    if not unit_name:
        report.add(number, "roles", _l("%(role)s is held in a unit: write %(role)s@unit.",
                                       role=role))
        return None
    unit = units.get(_key(unit_name))
    if unit is None:
        report.add(number, "roles", _l("Unknown unit '%(name)s' (import the units first).",
                                       name=unit_name[:NAME_MAX]))
        return None
    if unit.archived_at is not None:
        report.add(number, "roles", _l("The unit '%(name)s' is archived: it takes nothing "
                                       "new.", name=unit.name))
        return None
    if role in SERVICE_ROLES and not unit.is_service_unit:
        report.add(number, "roles", _l("%(role)s is held in a service unit; '%(name)s' is "
                                       "not one.", role=role, name=unit.name))
        return None
    return (role, unit.id)


def _taken_emails(seen: dict[str, int], report: Report) -> None:
    """Addresses of the file that already have an account (any company's: logins are by
    e-mail alone), looked up in chunks."""
    from app.tenancy.isolation import platform

    emails = sorted(seen)
    for start in range(0, len(emails), EMAIL_CHUNK):
        chunk = emails[start:start + EMAIL_CHUNK]
        with platform():  # every company's addresses, on purpose (the admin's scope sees
            # only their own): answered as "taken", never whose, as an invitation does
            taken_ones = list(db.session.scalars(select(func.lower(User.email)).where(
                func.lower(User.email).in_(chunk))))
        for taken in taken_ones:
            report.add(seen[taken], "email", _l("The address %(email)s already has an "
                                                "account.", email=taken))


def _check_quota(tenant_id: int, report: Report) -> None:
    from app.tenancy import quotas

    try:
        quotas.require(tenant_id, "active_users", adding=len(report.plan))
    except quotas.QuotaExceeded as exc:
        report.add(0, "", exc.message)


def check(tenant_id: int, kind: str, data: bytes) -> Report:
    """Read and check the file; nothing changes. The report lists every problem found."""
    report = Report(kind=kind, digest=digest_of(data), size=len(data))
    if kind not in KINDS:
        report.add(0, "", _l("Choose what the file holds: units or people."))
        return report
    try:
        rows = _rows(kind, data, report)
        if kind == "units":
            _check_units(tenant_id, rows, report)
        else:
            _check_people(tenant_id, rows, report)
    except _Refused:
        report.plan = []
        return report
    if not report.rows and not report.problems:
        report.add(0, "", _l("The file has a header but no rows."))
    if kind == "people" and report.ok:
        _check_quota(tenant_id, report)
    report.problems.sort(key=lambda p: p.row)
    return report


# --- applying --------------------------------------------------------------------------------

def apply(actor: User, kind: str, data: bytes) -> Report:
    """Check the file again and create everything it holds. Only flushes: commit when the
    report is ``ok``, roll back otherwise (a row a service refuses stops the import)."""
    from app.admin import people, units
    from app.tenancy.quotas import QuotaExceeded

    report = check(actor.tenant_id, kind, data)
    if not report.ok:
        return report
    created: dict[str, int] = {}
    for row in report.plan:
        try:
            if kind == "units":
                parent_id = row.get("parent_id") or created.get(row["parent"] or "")
                unit = units.create(actor, name=row["name"], parent_id=parent_id,
                                    is_service_unit=row["service"])
                created[row["key"]] = unit.id
            else:
                people.invite(actor, email=row["email"], name=row["name"],
                              locale=row["locale"], phone=row["phone"],
                              memberships=row["memberships"])
        except ValidationError as exc:
            for column, messages in (exc.messages.items() if isinstance(exc.messages, dict)
                                     else [("", exc.messages)]):
                report.add(row["row"], column, " ".join(str(m) for m in messages))
            return report
        except QuotaExceeded as exc:
            report.add(row["row"], "", exc.message)
            return report
        report.created += 1
    report.applied = True
    audit.record(actor.tenant_id, actor, "import.applied", "import", None,
                 target_label=f"{kind}: {report.created}",
                 after={"kind": kind, "rows": report.rows, "created": report.created,
                        "digest": report.digest, "bytes": report.size})
    return report


# --- carrying a checked file to its confirmation -----------------------------------------------

def _signer(actor: User, kind: str) -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"],
                           salt=f"admin-import:{actor.tenant_id}:{actor.id}:{kind}")


def sign(actor: User, kind: str, data: bytes) -> str:
    """The file, compressed and signed for this admin and kind, for a hidden form field."""
    packed = base64.urlsafe_b64encode(zlib.compress(data, 9)).decode("ascii")
    return _signer(actor, kind).sign(packed).decode("ascii")


def unsign(actor: User, kind: str, token: str) -> bytes | None:
    """The bytes ``sign`` packed, or None when the token is not this admin's, not for this
    kind, altered, or older than TOKEN_MAX_AGE."""
    if kind not in KINDS:
        return None
    try:
        packed = _signer(actor, kind).unsign(token, max_age=TOKEN_MAX_AGE)
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.urlsafe_b64decode(packed), MAX_BYTES + 1)
    except (BadSignature, ValueError, zlib.error):
        return None
    return data
