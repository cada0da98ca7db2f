"""One input layer in front of every route, pages and API alike, so a new route cannot forget it.

Refused before any view (or CSRF check, or token check) runs:

- a path whose ``<int:...>`` part is not a canonical id (ASCII digits, no leading zero,
  1..MAX_ID): a 404, since no such object can exist. Werkzeug's own converter takes any
  Unicode digit (``/requests/١``), leading zeros and numbers of any size, which PostgreSQL
  refuses beyond its 32-bit id columns; every rule's ``int`` is :class:`IdConverter` instead;
- text no field may hold: NUL, the other C0 control characters (tab, LF and CR are allowed in
  values, not in names) and lone surrogates, in string path parameters (404), query-string and
  form names and values, multipart file names, and JSON object keys and strings at any depth
  (400). PostgreSQL refuses NUL in text and no database encodes a lone surrogate, so either
  would otherwise end in a 500 deep inside a view;
- a JSON body that is not UTF-8, not JSON, or nested deeper than MAX_JSON_DEPTH (400). The depth
  is measured by a linear scan of the raw bytes before anything parses them: Python's json
  recurses once per level, so a deep body raises RecursionError in Flask's ``get_json`` and in
  webargs' ``parse_json`` (which parses the raw body again), neither of which catches it.

Invalid UTF-8 percent-encoded in a URL or a form (``%FF``, ``%C0%80``, ``%ED%A0%80``) is
harmless already: Werkzeug decodes it in the path to U+FFFD, and keeps it in query strings and
forms as the percent-encoded text it was (``a%FFb``), so no surrogate comes out of either. Bodies
over MAX_CONTENT_LENGTH are a 413 as before.

A 400 is the error page for pages and problem+json under /api/ (``pages.http_error``); its
description, the API's ``detail``, says where the input was wrong and never repeats the value.

``same_site_path`` is the one check for a ``next`` or return parameter a redirect is built from.
"""

import json
import re
from urllib.parse import unquote

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL
MAX_JSON_DEPTH = 32
MAX_RETURN_PATH = 2048

# In values, the white space of pasted text passes: tab, line feed, carriage return, and the
# vertical tab and form feed a word processor writes for a manual line or page break.
_BAD_IN_VALUE = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff]")
_BAD_IN_NAME = re.compile("[\x00-\x1f\ud800-\udfff]")
_WHAT_IS_BAD = "a character that is not allowed (NUL, a control character or a lone surrogate)"
# A name said back in a detail only when it is plainly a field name.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
# JSON tokens that matter to nesting: a whole string (taken possessively, its closing quote
# optional so an unterminated one ends the scan instead of being retried), or a bracket.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)


class IdConverter(IntegerConverter):
    """``<int:...>`` everywhere: ASCII digits without a leading zero. The range (1..MAX_ID) is
    checked by ``refuse_bad_input``, not here: a value this converter refused would make
    Werkzeug answer 405 where another method's rule has the same path (POST /tasks/<id> next
    to GET /tasks/<id>), instead of 404. The bounds reach the OpenAPI document."""

    regex = r"[1-9][0-9]*"

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.min = 1 if self.min is None else max(self.min, 1)
        self.max = MAX_ID if self.max is None else min(self.max, MAX_ID)

    def to_python(self, value: str) -> int:
        # Longer than MAX_ID is out of range without parsing it (Python refuses to parse
        # numbers of more than 4300 digits).
        return int(value) if len(value) <= len(str(MAX_ID)) else MAX_ID + 1


class UnacceptableInput(BadRequest):
    """400 for input that no route accepts; ``description`` (English) is the API's detail."""

    page_message = _l("What was sent cannot be accepted: it is malformed or contains characters "
                      "that are not allowed, such as invisible control characters. Go back, "
                      "correct it and try again.")


def _refused(where: str) -> UnacceptableInput:
    return UnacceptableInput(f"{where[0].upper()}{where[1:]} contains {_WHAT_IS_BAD}.")


def _named(kind: str, name: str) -> str:
    """'the form field 'title'', or 'a form field' when the name is not plainly a name."""
    return f"the {kind} '{name}'" if _PLAIN_NAME.match(name) else f"a {kind}"


def _check_pairs(pairs, kind: str) -> None:
    for name, value in pairs:
        if _BAD_IN_NAME.search(name):
            raise _refused(f"the name of a {kind}")
        if _BAD_IN_VALUE.search(value):
            raise _refused(_named(kind, name))


def _check_uploads() -> None:
    for field, upload in request.files.items(multi=True):
        if _BAD_IN_NAME.search(field):
            raise _refused("the name of a form field")
        if _BAD_IN_NAME.search(upload.filename or ""):
            raise _refused(f"the name of the file sent as {_named('form field', field)}")


def _check_path() -> None:
    """404: no object has such an id, and a text part with control characters names nothing."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise NotFound()
        if isinstance(value, str) and _BAD_IN_NAME.search(value):
            raise NotFound()


def json_depth_exceeds(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` opens more than ``limit`` arrays/objects inside each other; linear in
    its length, and it stops at the first level too many. Brackets inside strings do not
    count; a malformed body is left for the parser to refuse."""
    depth = 0
    for token in _JSON_TOKEN.finditer(data):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def _check_json_value(value, path: str | None) -> None:
    """Every string and key of a parsed body; ``path`` locates a value for the detail (None
    once a key on the way is not plainly a name)."""
    if isinstance(value, str):
        if _BAD_IN_VALUE.search(value):
            raise _refused(f"the JSON value at '{path}'" if path else "a JSON value")
    elif isinstance(value, dict):
        for key, item in value.items():
            if _BAD_IN_NAME.search(key):
                raise _refused("a JSON object key")
            plain = path is not None and _PLAIN_NAME.match(key)
            _check_json_value(item, (f"{path}.{key}" if path else key) if plain else None)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{path}[{index}]" if path is not None else None)


def _check_json() -> None:
    mimetype = request.mimetype
    if "json" not in mimetype:
        return  # neither Flask nor webargs parse it as JSON
    data = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413
    if not data:
        return  # no body: the view says what it needs
    if json_depth_exceeds(data):
        raise UnacceptableInput(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UnacceptableInput("The JSON body is not UTF-8 text.") from None
    except ValueError:  # not JSON, or a number too long to convert
        raise UnacceptableInput("The body is not valid JSON.") from None
    _check_json_value(parsed, "")


def refuse_bad_input() -> None:
    """``before_request`` of the whole application (see the module's docstring)."""
    _check_path()
    _check_pairs(request.args.items(multi=True), "query parameter")
    _check_json()  # before the form: reading the form of some bodies consumes the stream
    _check_pairs(request.form.items(multi=True), "form field")
    _check_uploads()


def _plain_local_path(path: str) -> bool:
    """A path of this site as a browser reads it: one leading slash, no empty segment
    (``//host`` is another site), no backslash (browsers read it as a slash), nothing that is
    not a visible character (browsers drop tabs and newlines inside URLs)."""
    return (path.startswith("/") and "//" not in path and "\\" not in path
            and all(ch.isprintable() and not ch.isspace() for ch in path))


def same_site_path(target: str | None) -> str | None:
    """``target`` if it is safe to send a person back to (a ``next`` or return parameter),
    else None: a relative path of this site, with an optional query and fragment, checked as
    sent and once percent-decoded (``/%2F%2Fevil.example``, ``/%5Cevil.example``,
    ``/%09/evil.example`` are refused)."""
    if not isinstance(target, str) or not 0 < len(target) <= MAX_RETURN_PATH:
        return None
    path, rest = re.match(r"([^?#]*)(.*)", target, re.DOTALL).groups()
    if not _plain_local_path(path) or "\\" in rest or not all(
            ch.isprintable() and not ch.isspace() for ch in rest):
        return None
    for _ in range(3):  # %252F is %2F once decoded, then /
        decoded_path, decoded_rest = unquote(path), unquote(rest)
        if (decoded_path, decoded_rest) == (path, rest):
            return target
        path, rest = decoded_path, decoded_rest
        if not _plain_local_path(path) or "\\" in rest or not rest.isprintable():
            return None
    return None  # still encoded after three rounds: not a link this site made


def init_app(app: Flask) -> None:
    """Called by ``create_app`` before any blueprint adds a rule (converters are bound then)."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_bad_input)
