"""What a file is, told from its bytes only (never from its name); no database, no Flask.

``Sniffer`` is fed the file chunk by chunk as it is copied (so nothing holds the whole file)
and keeps what the verdict needs: the first bytes (magic numbers, markup), whether any byte
rules out text, and the size. ``content_type`` gives the verdict; zip-based office files are
then checked by ``check_zip`` (a zip bomb is refused) and images by ``app.attachments.images``.

Types this module can tell (the tenant admin picks which of them are accepted):
JPEG, PNG, GIF, WebP, PDF, plain text, CSV, Word/Excel/PowerPoint (OOXML), OpenDocument text,
spreadsheet and presentation, and legacy Office (OLE2) files. HTML, SVG and other XML are
recognised so they can be named in the refusal, and are never accepted.
"""

import zipfile
from dataclasses import dataclass

HEAD_BYTES = 8192

JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
PDF, TEXT, CSV = "application/pdf", "text/plain", "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
OLE = "application/x-ole-storage"  # .doc, .xls, .ppt of Office 97-2003
HTML, SVG, XML = "text/html", "image/svg+xml", "application/xml"
ZIP, UNKNOWN = "application/zip", "application/octet-stream"

IMAGES = (JPEG, PNG, GIF, WEBP)
OFFICE_ZIPS = (DOCX, XLSX, PPTX, ODT, ODS, ODP)
# Every type a tenant may accept, in the order the settings page lists them
KNOWN = (*IMAGES, PDF, TEXT, CSV, *OFFICE_ZIPS, OLE)
DEFAULT_ALLOWED = (*IMAGES, PDF, TEXT, CSV, *OFFICE_ZIPS)
# Never accepted, whatever a tenant chooses: a browser could run them as a page
NEVER = (HTML, SVG, XML)

# Markup a browser would render, looked for in the first bytes of anything that is text
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<?xml",
           b"<object", b"<embed", b"<meta", b"<a ", b"<img", b"<div", b"<style", b"<title",
           b"<table", b"<form", b"<link", b"<base", b"<br")
# Bytes no text file holds: C0 controls but tab, line feed, form feed, carriage return, ESC
# and the vertical tab; and DEL
_BINARY = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}) + b"\x7f"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


class Sniffer:
    """Fed every chunk of a file in order; ``content_type()`` once the file is read."""

    def __init__(self):
        self.head = b""
        self.size = 0
        self.binary = False  # a byte no text holds, anywhere in the file

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[:HEAD_BYTES - len(self.head)]
        self.size += len(chunk)
        if not self.binary and chunk.translate(None, _BINARY) != chunk:
            self.binary = True

    def content_type(self) -> str:
        return detect(self.head, self.binary)


def detect(head: bytes, binary: bool) -> str:
    """The type the first bytes (and whether the file has bytes text never has) tell."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith(b"PK\x03\x04"):
        return ZIP  # which office file, if any: ``office_type`` reads its directory
    markup = _markup(head)
    if markup:
        return markup
    if binary or not head:
        return UNKNOWN
    return CSV if _looks_like_csv(head) else TEXT


def _markup(head: bytes) -> str | None:
    """HTML, SVG or XML when the first bytes (in any case, after a BOM, spaces or UTF-16's
    zero bytes) show markup a browser would render."""
    text = head
    for bom in _BOMS:
        if text.startswith(bom):
            text = text[len(bom):]
    text = text.replace(b"\x00", b"").lower()
    if b"<svg" in text:
        return SVG
    if any(tag in text for tag in _MARKUP):
        return XML if text.lstrip().startswith(b"<?xml") and b"<html" not in text else HTML
    if text.lstrip().startswith(b"<"):
        return HTML
    return None


def _looks_like_csv(head: bytes) -> bool:
    """At least two lines, each of the first ones with the same number (one or more) of
    commas, semicolons or tabs."""
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    if len(head) >= HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut
    if len(lines) < 2:
        return False
    for separator in (b",", b";", b"\t"):
        counts = {line.count(separator) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return True
    return False


# --- zip-based office files -------------------------------------------------------------------

@dataclass(frozen=True)
class ZipLimits:
    max_uncompressed: int  # bytes, all entries together
    max_ratio: float       # uncompressed / the file's size
    max_entries: int = 10_000


# The compression methods an office file's entries use (and the only ones unpacked)
UNPACKED = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class ZipRefused(Exception):
    """``reason``: "bomb" (too much inside, or too compressed) or "broken"."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def office_type(stream, size: int, limits: ZipLimits) -> str:
    """The office type of the zip in ``stream`` (seekable), or ZIP when it is another zip.

    Refuses (ZipRefused) a zip whose entries would unpack past the limits, by their declared
    sizes and then by unpacking each entry chunk by chunk (zipfile stops at the declared size
    and checks each entry's CRC, so a directory that lies is caught too), and a broken one.
    Only stored and deflated entries are unpacked (all an office file uses): zipfile bounds a
    deflate read's output, but hands bzip2 and LZMA a whole read of compressed bytes at once,
    which a directory that lies about the size could make gigabytes."""
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_entries:
                raise ZipRefused("bomb")
            if any(entry.compress_type not in UNPACKED for entry in entries):
                raise ZipRefused("broken")
            declared = sum(entry.file_size for entry in entries)
            if declared > limits.max_uncompressed or declared > limits.max_ratio * max(size, 1):
                raise ZipRefused("bomb")
            for entry in entries:
                _unpack_counting(archive, entry)
            names = {entry.filename for entry in entries}
            return _office_kind(archive, names)
    except ZipRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError,
            NotImplementedError, RuntimeError):  # RuntimeError: an encrypted entry
        raise ZipRefused("broken") from None
    finally:
        stream.seek(0)


def _unpack_counting(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    with archive.open(entry) as member:
        while member.read(65536):
            pass


def _office_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "mimetype" in names:
        with archive.open("mimetype") as entry:  # its first bytes, never the whole entry
            declared = entry.read(100).strip().decode("ascii", "replace")
        if declared in (ODT, ODS, ODP):
            return declared
    if "[Content_Types].xml" in names:
        prefixes = {name.split("/", 1)[0] for name in names}
        for folder, kind in (("word", DOCX), ("xl", XLSX), ("ppt", PPTX)):
            if folder in prefixes:
                return kind
    return ZIP
