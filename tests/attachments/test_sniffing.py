"""The type from the bytes (never the name), zip bombs, file names: pure, no database."""

import io
import zipfile

import pytest

from app.attachments import names, sniffing
from tests.attachments.conftest import (
    CSV,
    HTML,
    PDF,
    SVG,
    docx,
    jpeg,
    png,
    zip_bomb_docx,
)

LIMITS = sniffing.ZipLimits(max_uncompressed=100 * 1024 * 1024, max_ratio=100)


def sniff(data: bytes, chunk: int = 1000) -> str:
    sniffer = sniffing.Sniffer()
    for start in range(0, len(data), chunk):
        sniffer.feed(data[start:start + chunk])
    assert sniffer.size == len(data)
    return sniffer.content_type()


@pytest.mark.parametrize(("data", "expected"), [
    (jpeg(), sniffing.JPEG), (png(), sniffing.PNG), (b"GIF89a" + b"\x00" * 20, sniffing.GIF),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", sniffing.WEBP), (PDF, sniffing.PDF),
    (b"Hola, el bombillo de la oficina 204 no enciende.\n", sniffing.TEXT),
    ("Se dañó la lámpara\r\nPiso 2\n".encode("cp1252"), sniffing.TEXT),
    (CSV, sniffing.CSV), (b"a;b;c\n1;2;3\n4;5;6\n", sniffing.CSV),
    (HTML, sniffing.HTML), (b"  \n<html><p>hola", sniffing.HTML),
    (b"\xef\xbb\xbf<svg xmlns='x'/>", sniffing.SVG), (SVG, sniffing.SVG),
    ("<svg/>".encode("utf-16"), sniffing.SVG),
    (b"Texto y luego <script>alert(1)</script>", sniffing.HTML),
    (b"<?xml version='1.0'?><root/>", sniffing.XML),
    (b"\x00\x01\x02\x03binary", sniffing.UNKNOWN), (b"MZ\x90\x00\x03\x00", sniffing.UNKNOWN),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, sniffing.OLE),
    (docx(), sniffing.ZIP),
])
def test_type_comes_from_the_bytes(data, expected):
    assert sniff(data) == expected


def test_a_binary_byte_anywhere_makes_text_unknown():
    data = b"texto normal\n" * 2000 + b"\x00" + b"mas texto\n"
    assert sniff(data) == sniffing.UNKNOWN


def test_office_files_are_told_by_their_directory():
    data = docx()
    assert sniffing.office_type(io.BytesIO(data), len(data), LIMITS) == sniffing.DOCX
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", sniffing.ODS)
        archive.writestr("content.xml", "<x/>")
    assert sniffing.office_type(out, len(out.getvalue()), LIMITS) == sniffing.ODS
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("notes.txt", "hola")
    assert sniffing.office_type(plain, len(plain.getvalue()), LIMITS) == sniffing.ZIP


def test_zip_bombs_are_refused_by_ratio_and_by_total():
    bomb = zip_bomb_docx(20)
    with pytest.raises(sniffing.ZipRefused) as refused:
        sniffing.office_type(io.BytesIO(bomb), len(bomb), LIMITS)
    assert refused.value.reason == "bomb"
    small_total = sniffing.ZipLimits(max_uncompressed=1024, max_ratio=10_000)
    data = docx({"word/big.xml": "x" * 5000})
    with pytest.raises(sniffing.ZipRefused):
        sniffing.office_type(io.BytesIO(data), len(data), small_total)


def test_a_zip_whose_directory_lies_about_sizes_is_caught_when_unpacked():
    data = bytearray(docx({"word/media/zeros.bin": b"\x00" * 200_000}))
    # Claim 1,000 bytes in the central directory's uncompressed size of that entry
    at = data.rfind(b"PK\x01\x02")  # the last central directory record (zeros.bin)
    data[at + 24:at + 28] = (1000).to_bytes(4, "little")
    with pytest.raises(sniffing.ZipRefused) as refused:
        sniffing.office_type(io.BytesIO(bytes(data)), len(data), LIMITS)
    assert refused.value.reason == "broken"


def test_a_broken_zip_is_refused():
    data = docx()[:60]
    with pytest.raises(sniffing.ZipRefused):
        sniffing.office_type(io.BytesIO(data), len(data), LIMITS)


@pytest.mark.parametrize(("name", "reason"), [
    ("../etc/passwd", "separator"), ("fotos/foto.jpg", "separator"),
    ("C:\\Users\\ana\\foto.jpg", "separator"), ("..", "empty"), ("", "empty"),
    ("foto\x00.jpg", "control"), ("foto\n.jpg", "control"), ("gpj.\u202eexe", "control"),
    ("a" * 256, "long"),
])
def test_bad_names_are_refused(name, reason):
    with pytest.raises(names.BadName) as refused:
        names.checked(name)
    assert refused.value.reason == reason


def test_good_names_pass_in_nfc():
    assert names.checked(" informe técnico.pdf ") == "informe técnico.pdf"
    assert names.checked("Cafe\u0301.txt") == "Café.txt"


def test_content_disposition_is_an_attachment_with_a_safe_name():
    header = names.content_disposition('plano "final"; x.pdf')
    assert header.startswith("attachment; ")
    assert 'filename="plano _final__ x.pdf"' in header
    assert "filename*=UTF-8''plano%20%22final%22%3B%20x.pdf" in header
    assert names.content_disposition("año.pdf").endswith("filename*=UTF-8''a%C3%B1o.pdf")
