"""The Spanish the product speaks keeps one word per idea: a request is "registrada" (never
"radicada", a regional word), a worker is a "trabajador" (never "técnico"), in the catalog
and in the notices' default wording. People's names and demo data are not looked at."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from app.notifications.defaults import DEFAULTS

PO_FILE = (Path(__file__).resolve().parent.parent / "app" / "translations" / "es"
           / "LC_MESSAGES" / "messages.po")
RADICAR = re.compile(r"\bradic(?:ar|ad[ao]s?|ó|ación|aciones|amos|an|a)\b", re.IGNORECASE)
TECNICO = re.compile(r"\bt[ée]cnic[oa]s?\b", re.IGNORECASE)
WORKER = re.compile(r"\bworkers?\b", re.IGNORECASE)
# "worker" that is not a person of a service unit: the background process, the role's code
NOT_A_PERSON = re.compile(r"background worker|service_director and worker", re.IGNORECASE)


def _texts(value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def _catalog():
    with open(PO_FILE, "rb") as fh:
        return [m for m in read_po(fh) if m.id]


def test_the_catalog_says_registrar_and_trabajador():
    wrong = []
    for message in _catalog():
        spanish = " ".join(_texts(message.string))
        english = " ".join(_texts(message.id))
        if RADICAR.search(spanish) or TECNICO.search(spanish):
            wrong.append((english, spanish))
        elif (WORKER.search(english) and not NOT_A_PERSON.search(english)
              and "trabajador" not in spanish.lower()):
            wrong.append((english, spanish))
    assert wrong == []


def test_the_notices_spanish_wording_says_registrar():
    wrong = [(event, text) for event, texts in DEFAULTS["es"].items() for text in texts
             if RADICAR.search(text) or TECNICO.search(text)]
    assert wrong == []
