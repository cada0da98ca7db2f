"""The words a model learns from, pure (no database, no scikit-learn).

Training and prediction read text through the same function (``terms``), so a model's
vocabulary and a new request's words always agree. Words are the search's (app.search.text):
letters and digits, accents removed, lower-cased; common Spanish and English words are
dropped; each word counts by its Spanish and English Snowball stems ("reparaciones",
"reparación" and "reparacion" are one feature), so text in either language works.
"""

from app.search import text as search_text

MAX_TITLE_CHARS = 200         # what is read of a title (the filing form's limit)
MAX_DESCRIPTION_CHARS = 2000  # what is read of a description: enough to tell its subject


def document(title: str | None, description: str | None) -> str:
    """The text a request is known by: its title twice (titles say the most in few words)
    and the beginning of its description."""
    head = (title or "")[:MAX_TITLE_CHARS]
    return f"{head}\n{head}\n{(description or '')[:MAX_DESCRIPTION_CHARS]}"


def terms(text: str) -> list[str]:
    """The features of ``text``: the stems of its words that are not common words."""
    out: list[str] = []
    for word in search_text.words(text):
        if len(word) < 2 or word in search_text.STOPWORDS or word.isdigit():
            continue
        out.extend(sorted(search_text.stems(word)))
    return out
