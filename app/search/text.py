"""Words of a search, pure (no database): normalizing, stemming, the query's terms and the
highlighted snippet.

Both databases see the same words: text is split here into words of letters and digits,
accents removed and lower-cased (``words``); PostgreSQL stems those with its ``spanish`` and
``english`` configurations, SQLite's FTS5 reads the Snowball stems computed here (``terms``),
the same Spanish and English Snowball algorithms. A query is only ever a list of such words:
no character of it reaches the database as syntax (operators, quotes, column filters).
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup, escape

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_WORD = 40  # longer "words" (hashes, base64) are cut: stems of such things are the word
WORD = re.compile(r"[^\W_]+")
# A request or ticket number as written: PREFIX-YEAR-SEQUENCE (the prefix is the company's)
NUMBER = re.compile(r"^\s*([^\W_]{1,16})-(\d{4})-(\d{1,12})\s*$")
# A number's sequence alone ("2", "000042", "#42"): the requests and tickets whose number ends
# with it, whatever the prefix and year
SEQUENCE = re.compile(r"^\s*#?(\d{1,12})\s*$")

_SPANISH = snowballstemmer.stemmer("spanish")
_ENGLISH = snowballstemmer.stemmer("english")

# Words too common to search by (Snowball's Spanish and English stop lists, unaccented, in
# short): a query of only these is empty, and none of them makes a query match everything.
STOPWORDS = frozenset("""
a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e
el ella ellas ellos en entre era eran es esa esas ese eso esos esta estaba estas este esto
estos fue fueron ha han hay la las le les lo los mas me mi mis mucho muy nada ni no nos o os
otra otras otro otros para pero poco por porque que quien se sea ser si sin sobre su sus tambien
te tiene tu tus un una uno unos y ya yo
an and are as at be been but by for from had has have he her his i if in into is it its me my
not of on or our she so than that the their them then there these they this those to too
was we were what when where which who will with you your
""".split())


class QueryError(ValueError):
    """A query that cannot be searched: ``kind`` is ``empty`` or ``too_long``."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def fold(text: str) -> str:
    """Lower case without accents ("Eléctrico" -> "electrico", "ñ" -> "n")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The words of ``text``: letters and digits, folded, each at most ``MAX_WORD`` long."""
    return [w[:MAX_WORD] for w in WORD.findall(fold(text))]


@lru_cache(maxsize=65536)
def stems(word: str) -> frozenset[str]:
    """A folded word's Spanish and English stems ("reparaciones" -> {"repar", "reparacion"})."""
    return frozenset((_SPANISH.stemWord(word), _ENGLISH.stemWord(word)))


def terms(text: str) -> str:
    """What SQLite's index holds for ``text``: every word's stems, space separated."""
    out = []
    for word in words(text):
        out.extend(sorted(stems(word)))
    return " ".join(out)


def plain(text: str) -> str:
    """``text`` as PostgreSQL reads it: the same words, space separated (its own parser would
    split "ana@acme.test" or "SOL-2026-1" otherwise than a query's words)."""
    return " ".join(words(text))


@dataclass(frozen=True)
class Query:
    """A search as understood: its words (no stop words, at most ``MAX_TERMS``), and the
    request or ticket number it is, if it looks like one."""

    text: str
    words: tuple[str, ...]
    number: str | None = None
    sequence: int | None = None  # a bare number: a request or ticket number's last part

    def stem_sets(self) -> list[frozenset[str]]:
        return [stems(w) for w in self.words]

    def fts5(self, columns: tuple[str, ...] | None = None) -> str:
        """An FTS5 MATCH expression: every word (as either of its stems), each a quoted
        string, optionally limited to ``columns`` (names of our own, never the user's)."""
        groups = []
        for word in self.words:
            options = " OR ".join(_quoted(s) for s in sorted(stems(word)))
            groups.append(f"({options})")
        expression = " AND ".join(groups)
        if columns:
            return "{" + " ".join(columns) + "} : (" + expression + ")"
        return expression


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def parse(raw: str | None) -> Query:
    """Read a search box. Refuses (``QueryError``) an empty query or one longer than
    ``MAX_QUERY_CHARS``; keeps the first ``MAX_TERMS`` words that are not stop words."""
    text = (raw or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError("too_long")
    number = None
    match = NUMBER.match(text)
    if match:
        number = f"{match.group(1).upper()}-{match.group(2)}-{match.group(3)}"
    bare = SEQUENCE.match(text)
    sequence = (int(bare.group(1)) or None) if bare else None
    kept: list[str] = []
    for word in words(text):
        if word not in STOPWORDS and word not in kept:
            kept.append(word)
    if not kept and number is None and sequence is None:
        raise QueryError("empty")
    return Query(text=text, words=tuple(kept[:MAX_TERMS]), number=number, sequence=sequence)


# --- highlighting --------------------------------------------------------------------------

SNIPPET_WORDS = 30


def _matches(word: str, wanted: set[str]) -> bool:
    folded = fold(word)[:MAX_WORD]
    return bool(folded) and not stems(folded).isdisjoint(wanted)


def highlight(text: str, query: Query) -> Markup:
    """``text`` escaped, with the words that match the query in ``<mark>``."""
    wanted = set().union(*query.stem_sets()) if query.words else set()
    return _marked(text or "", wanted)


def _marked(text: str, wanted: set[str]) -> Markup:
    out, last = [], 0
    for m in WORD.finditer(text):
        if _matches(m.group(), wanted):
            out.append(escape(text[last:m.start()]))
            out.append(Markup("<mark>%s</mark>") % m.group())
            last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(parts: list[str], query: Query, size: int = SNIPPET_WORDS) -> Markup:
    """A short passage of the first part with a matching word, around that word, escaped
    and highlighted; the first part's opening words when none matches (an empty Markup
    when there is no text)."""
    wanted = set().union(*query.stem_sets()) if query.words else set()
    parts = [" ".join(p.split()) for p in parts if p and p.strip()]
    for part in parts:
        spans = list(WORD.finditer(part))
        hit = next((i for i, m in enumerate(spans) if _matches(m.group(), wanted)), None)
        if hit is not None:
            return _window(part, spans, max(0, hit - size // 3), size, wanted)
    if not parts:
        return Markup("")
    return _window(parts[0], list(WORD.finditer(parts[0])), 0, size, wanted)


def _window(part: str, spans, first: int, size: int, wanted: set[str]) -> Markup:
    if not spans:
        return escape(part[:200])
    last = min(len(spans), first + size) - 1
    start = 0 if first == 0 else spans[first].start()
    end = len(part) if last == len(spans) - 1 else spans[last].end()
    body = _marked(part[start:end], wanted)
    return Markup("").join([Markup("… ") if start else Markup(""), body,
                            Markup(" …") if end < len(part) else Markup("")])
