"""Words as a person means them: without accents, without case, whole words only. Pure (no
database), so rules can be tested on their own.

``normalize("Impresión  ROTA")`` is ``"impresion rota"``; ``tokens`` splits on anything that is
not a letter or a digit. A rule's word may be a short phrase ("no enciende"): it matches when
its words appear one after the other, whole ("enciende" does not match "encienden").
No regular expression comes from a tenant: matching is a set lookup for a single word and a
substring search over space-joined tokens for a phrase.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" and punctuation separate words


def normalize(text: str) -> str:
    """Lower case, accents dropped (ñ becomes n), words separated by one space."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(plain.casefold()))


def tokens(text: str) -> list[str]:
    return normalize(text).split()


class Words:
    """The words of a text, ready to be asked about many rules' words."""

    def __init__(self, text: str):
        self.joined = f" {normalize(text)} "
        self.single = set(self.joined.split())

    def has(self, phrase: str) -> bool:
        """Does the (already normalized) word or phrase appear whole?"""
        if not phrase:
            return False
        if " " not in phrase:
            return phrase in self.single
        return f" {phrase} " in self.joined

    def matches(self, phrases: list[str], mode: str) -> bool:
        """``mode`` "all": every phrase appears; else any one does. No phrases: true."""
        if not phrases:
            return True
        found = (self.has(p) for p in phrases)
        return all(found) if mode == "all" else any(found)


_TRUE = {"true", "si", "yes", "1", "verdadero"}
_FALSE = {"false", "no", "0", "falso"}


def same_answer(answer, expected: str) -> bool:
    """Is a request field's ``answer`` the rule's ``expected`` text? Text compared without
    accents or case; yes/no answers to "sí"/"no"/"true"/"false"; numbers by value; a list of
    answers (several choices) when any of them is."""
    if isinstance(answer, list | tuple):
        return any(same_answer(a, expected) for a in answer)
    want = normalize(expected)
    if isinstance(answer, bool):
        return want in (_TRUE if answer else _FALSE)
    if answer is None:
        return want == ""
    got = normalize(str(answer))
    if got == want:
        return True
    try:
        return Decimal(str(answer).strip()) == Decimal(str(expected).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return False
