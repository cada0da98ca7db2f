"""Attachment tests: each test stores into its own folder; sample files built here."""

import io
import zipfile

import pytest
from PIL import Image

from app.attachments import storage


@pytest.fixture
def store(app, tmp_path):
    """A fresh local storage for the test, the app's own again afterwards."""
    before = app.extensions.get("attachments_storage")
    local = storage.LocalStorage(tmp_path / "files")
    storage.use(app, local)
    yield local
    if before is None:
        app.extensions.pop("attachments_storage", None)
    else:
        storage.use(app, before)


def stored_files(local: storage.LocalStorage) -> list[str]:
    """Every file under the storage's root, leftovers of writes included."""
    if not local.root.exists():
        return []
    return sorted(p.relative_to(local.root).as_posix() for p in local.root.rglob("*")
                  if p.is_file())


def jpeg(width=640, height=480, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def png(width=50, height=40) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1000, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<rect width='10' height='10'/></svg>")
CSV = b"name,qty,price\nbombillo,2,3500\ncable,10,1200\n"


def docx(extra: dict | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>hola</w:document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb_docx(megabytes: int = 20) -> bytes:
    """A .docx whose one part unpacks from a few KB to ``megabytes`` MB of zeros."""
    return docx({"word/media/zeros.bin": b"\x00" * (megabytes * 1024 * 1024)})


from tests.api.conftest import api  # noqa: E402, F401 (the API client fixture)
