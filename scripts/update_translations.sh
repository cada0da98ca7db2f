#!/usr/bin/env bash
# Refresh the translation catalogs from the source code.
#
#   bash scripts/update_translations.sh
#
# 1. Extracts every marked string (_, gettext, ngettext, pgettext, ..., _l, lazy_gettext,
#    lazy_pgettext) from the
#    Python files and Jinja2 templates under app/ (see babel.cfg) into
#    app/translations/messages.pot.
# 2. Merges that template into app/translations/es/LC_MESSAGES/messages.po, without fuzzy
#    matching (new strings arrive with an empty msgstr instead of a guessed one).
#
# AFTER RUNNING IT: translate every new msgid in app/translations/es/LC_MESSAGES/messages.po
# (the script lists the ones with an empty msgstr at the end). tests/test_translations.py
# fails while any string is untranslated, fuzzy, or missing from the catalog.
# Keep placeholders such as %(number)s exactly as in the msgid. The compiled .mo is
# git-ignored; `make translations` (or `.venv/bin/pybabel compile -d app/translations`)
# builds it.

set -euo pipefail

cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
PYTHON="${PYTHON:-.venv/bin/python}"
PO=app/translations/es/LC_MESSAGES/messages.po

"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o app/translations/messages.pot app

if [ -f "$PO" ]; then
    "$PYBABEL" update -i app/translations/messages.pot -d app/translations -l es \
        --no-fuzzy-matching
else
    "$PYBABEL" init -i app/translations/messages.pot -d app/translations -l es
fi

# List what still needs a translation.
"$PYTHON" - "$PO" <<'PY'
import sys

from babel.messages.pofile import read_po

with open(sys.argv[1], "rb") as fh:
    catalog = read_po(fh)
todo = [m.id for m in catalog if m.id and (m.fuzzy or not m.string
        or (isinstance(m.string, tuple) and not all(m.string)))]
if todo:
    print(f"\n{len(todo)} message(s) to translate in {sys.argv[1]}:")
    for msgid in todo:
        print("  -", msgid if isinstance(msgid, str) else msgid[0])
else:
    print(f"\nAll {sum(1 for m in catalog if m.id)} messages are translated.")
PY
