"""File names as sent, checked; and the Content-Disposition a download is served with."""

import unicodedata
from urllib.parse import quote

MAX_NAME = 255
# Direction overrides and isolates make "gpj.exe" read "exe.jpg"
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


class BadName(ValueError):
    """``reason``: "empty", "separator", "control" or "long"."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def checked(name: str | None) -> str:
    """``name`` in NFC when it is a plain file name; raises BadName otherwise: empty, "." or
    "..", with a path separator (/ or \\), a control, format-breaking or direction character,
    or longer than 255 characters."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if name in ("", ".", ".."):
        raise BadName("empty")
    if "/" in name or "\\" in name:
        raise BadName("separator")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI
           for ch in name):
        raise BadName("control")
    if len(name) > MAX_NAME:
        raise BadName("long")
    return name


def ascii_fallback(name: str) -> str:
    """The name with what plain ASCII cannot say (and quotes) replaced, for old clients."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = "".join(ch if ch.isprintable() and ch not in '"\\;%' else "_" for ch in plain)
    return plain.strip() or "file"


def content_disposition(name: str, inline: bool = False) -> str:
    """``attachment; filename="..."; filename*=UTF-8''...`` (RFC 6266 / 5987)."""
    kind = "inline" if inline else "attachment"
    return (f'{kind}; filename="{ascii_fallback(name)}"; '
            f"filename*=UTF-8''{quote(name, safe='')}")
