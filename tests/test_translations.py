"""The Spanish catalog is complete: every string marked in the code is translated.

When a test here fails after you added or changed a UI string, run
``bash scripts/update_translations.sh`` and translate the new msgids in
app/translations/es/LC_MESSAGES/messages.po.
"""

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages import frontend
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "app"
BABEL_CFG = ROOT / "babel.cfg"
PO_FILE = ROOT / "app" / "translations" / "es" / "LC_MESSAGES" / "messages.po"

# The same keywords scripts/update_translations.sh passes to `pybabel extract`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None,
            "lazy_pgettext": ((1, "c"), 2)}

# printf-style placeholders: %(name)s, %s, %d, %.2f ...; "%%" is a literal percent sign.
PLACEHOLDER_RE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*\d*(?:\.\d+)?(?P<type>[diouxXeEfFgGcrsa%])"
)


def _read_mapping():
    """babel.cfg -> (method_map, options_map), exactly as `pybabel extract -F` reads it."""
    parse = getattr(frontend, "parse_mapping_cfg", None)
    with open(BABEL_CFG, encoding="utf-8") as fh:
        if parse is not None:  # Babel >= 2.14
            return parse(fh, filename=str(BABEL_CFG))
        return frontend.parse_mapping(fh)  # older Babel


def _key(msgid):
    """Catalog key of a message: the singular for plural messages."""
    return msgid[0] if isinstance(msgid, (tuple, list)) else msgid


def _strings(value) -> list[str]:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _placeholders(text: str) -> tuple[list[str], list[str]]:
    """(sorted named placeholders, positional placeholders in order), ignoring "%%"."""
    named, positional = [], []
    for match in PLACEHOLDER_RE.finditer(text or ""):
        if match["type"] == "%":
            continue
        if match["name"] is not None:
            named.append(f"%({match['name']}){match['type']}")
        else:
            positional.append(f"%{match['type']}")
    return sorted(named), positional


@pytest.fixture(scope="module")
def catalog():
    assert PO_FILE.is_file(), f"missing Spanish catalog {PO_FILE.relative_to(ROOT)}"
    with open(PO_FILE, "rb") as fh:
        return read_po(fh, locale="es")


@pytest.fixture(scope="module")
def messages(catalog):
    return [m for m in catalog if m.id]


@pytest.fixture(scope="module")
def extracted():
    """{msgid: ["file:line", ...]} freshly extracted from app/ with babel.cfg's mapping; a
    message with a context (pgettext) is keyed (msgid, context)."""
    method_map, options_map = _read_mapping()
    found: dict = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(APP_DIR), method_map, options_map, keywords=KEYWORDS
    ):
        key = (_key(message), context) if context else _key(message)
        found.setdefault(key, []).append(f"app/{filename}:{lineno}")
    return found


def test_catalog_is_spanish_and_not_fuzzy(catalog):
    assert str(catalog.locale) == "es"
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"


def test_every_msgid_is_translated(messages):
    assert messages, "the Spanish catalog has no messages"
    untranslated = [_key(m.id) for m in messages if not all(s.strip() for s in _strings(m.string))]
    fuzzy = [_key(m.id) for m in messages if m.fuzzy]
    problems = [f"untranslated: {s!r}" for s in untranslated] + [f"fuzzy: {s!r}" for s in fuzzy]
    assert not problems, (
        f"{len(problems)} problem(s) in {PO_FILE.relative_to(ROOT)}:\n  "
        + "\n  ".join(problems)
    )


def test_extraction_finds_the_ui(extracted):
    """Guards the guard: if babel.cfg stopped matching files, the next test would pass vacuously."""
    files = {ref.rsplit(":", 1)[0] for refs in extracted.values() for ref in refs}
    assert any(f.startswith("app/templates/") for f in files), "no strings found in templates"
    assert any(f.endswith(".py") for f in files), "no strings found in Python files"
    assert "My requests" in extracted


def test_every_source_string_is_in_the_catalog(extracted, catalog):
    missing = {msgid: refs for msgid, refs in extracted.items()
               if (catalog.get(*msgid) if isinstance(msgid, tuple) else catalog.get(msgid))
               is None}
    assert not missing, (
        f"{len(missing)} string(s) marked for translation are not in "
        f"{PO_FILE.relative_to(ROOT)}. Run `bash scripts/update_translations.sh` and "
        "translate them:\n  "
        + "\n  ".join(f"{msgid!r}  ({', '.join(refs)})"
                      for msgid, refs in sorted(missing.items(), key=lambda item: str(item[0])))
    )


def test_placeholders_match(messages):
    wrong = []
    for m in messages:
        ids = _strings(m.id)
        for i, translated in enumerate(_strings(m.string)):
            source = ids[min(i, len(ids) - 1)]
            expected_named, expected_positional = _placeholders(source)
            got_named, got_positional = _placeholders(translated)
            if m.pluralizable and len(ids) > 1:
                # A plural form may leave out the count, but must not invent placeholders.
                ok = set(got_named) <= set(_placeholders(ids[-1])[0])
            else:
                ok = (got_named, got_positional) == (expected_named, expected_positional)
            if not ok:
                wrong.append(f"{source!r} -> {translated!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(wrong)


def test_babel_checks_pass_and_catalog_compiles(catalog):
    errors = [
        f"{_key(m.id)!r}: {'; '.join(str(e) for e in errs)}" for m, errs in catalog.check()
    ]
    assert not errors, "Babel catalog checks failed:\n  " + "\n  ".join(errors)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    assert buffer.getvalue(), "the catalog compiled to an empty .mo"
