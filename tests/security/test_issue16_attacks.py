"""Attacks on issue 16's everyday essentials (attachments, search, category fields, the
conversation, reassign and re-plan): each test is one class of attempt by a hostile tenant
user or a careless admin, with its variants. It passes when every attempt is refused cleanly
(a clear 4xx, never a 500, nothing stored or changed), when nothing reaches someone who may
not open it (another unit, another company, a requester reading internal notes), when no
input is read as SQL, a full-text operator or template code, and when no input makes a
worker do unbounded work.

A test marked ``xfail(strict=True)`` is a bug found: its reason gives the input and what was
expected; the fix removes the mark."""

import io
import os
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from urllib.parse import urlencode

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.attachments import sniffing, storage
from app.attachments.models import Attachment
from app.extensions import db
from app.models import Category, HistoryEvent, ServiceRequest
from tests import factories
from tests.api.conftest import ApiClient

ADMIN = "admin@acme.test"
DIRECTOR = "director@acme.test"
REQUESTER = "ana@acme.test"
OTHER_UNIT = "maria@acme.test"
HEAD = "jefe.finanzas@acme.test"
OTHER_HEAD = "jefe.produccion@acme.test"
WORKER = "tecnico1@acme.test"
WORKER2 = "tecnico2@acme.test"
GLOBEX = ("pedro@globex.test", "director@globex.test", "tecnico@globex.test")
SCRIPT = "<script>alert(1)</script>"
POSTGRESQL = "postgresql" in (os.environ.get("TEST_DATABASE_URL") or "")
POSTGRESQL_ONLY = pytest.mark.skipif(
    not POSTGRESQL, reason="SQLite takes one writer at a time: the interleaving cannot happen")


# --- files ------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def png(width=40, height=30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def jpeg(width=64, height=48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_claiming(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000, 9)) + _chunk(b"IEND", b""))


def office(entries: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>hola</w:document>")
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def declared_size(archive: bytes, entry: str, size: int) -> bytes:
    """``archive`` with ``entry``'s uncompressed size in the central directory set to
    ``size`` (a directory that lies)."""
    data = bytearray(archive)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack("<H", data[at + 28:at + 30])[0]
        if bytes(data[at + 46:at + 46 + length]) == entry.encode():
            data[at + 24:at + 28] = struct.pack("<I", size)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def bzip2_bomb_docx() -> bytes:
    """A .docx of a few hundred bytes with one bzip2 entry that unpacks to 45 MB, its
    directory claiming one byte."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>hola</w:document>")
        archive.writestr(zipfile.ZipInfo("word/media/zeros.bin"), b"\0" * (45 * 1024 * 1024),
                         compress_type=zipfile.ZIP_BZIP2)
    return declared_size(out.getvalue(), "word/media/zeros.bin", 1)


@pytest.fixture
def api(app):
    """``api(email)``: an API client holding a token of that person."""
    def make(email: str) -> ApiClient:
        client = ApiClient(app)
        response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
        assert response.status_code == 201, response.json
        client.token = response.json["token"]
        return client

    return make


# --- storage, uploads and what is left ---------------------------------------------------------

@pytest.fixture
def store(app, tmp_path):
    before = app.extensions.get("attachments_storage")
    local = storage.LocalStorage(tmp_path / "files")
    storage.use(app, local)
    yield local
    if before is None:
        app.extensions.pop("attachments_storage", None)
    else:
        storage.use(app, before)


def stored_files(local) -> list[str]:
    if not local.root.exists():
        return []
    return sorted(p.relative_to(local.root).as_posix() for p in local.root.rglob("*")
                  if p.is_file())


def attachment_rows(req_id=None) -> list[Attachment]:
    db.session.rollback()
    stmt = select(Attachment).order_by(Attachment.id)
    if req_id is not None:
        stmt = stmt.where(Attachment.request_id == req_id)
    return list(db.session.scalars(stmt))


def history_count(req_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(HistoryEvent)
                             .where(HistoryEvent.request_id == req_id))


def form_files(*files, **fields) -> dict:
    return {**fields, "files": [(io.BytesIO(data), name) for data, name in files]}


def page_upload(page, req_id: int, *files):
    return page.post(f"/requests/{req_id}/attachments", form_files(*files),
                     content_type="multipart/form-data")


def api_upload(client, req_id: int, *files):
    with client.app.app_context():
        return client.client.post(f"/api/v1/requests/{req_id}/attachments",
                                  data=form_files(*files), content_type="multipart/form-data",
                                  headers={"Authorization": f"Bearer {client.token}"})


def fetch(page, url: str):
    with page.app.app_context():
        response = page.client.get(url)
        response.get_data()
        return response


def nothing_stored(store, req_id: int, history_before: int) -> bool:
    return (attachment_rows(req_id) == [] and stored_files(store) == []
            and history_count(req_id) == history_before)


# === attachments =============================================================================

REFUSED_UPLOADS = {
    "html posing as a jpeg": (HTML, "foto.jpg"),
    "svg posing as a png": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
                            "foto.png"),
    "svg after a BOM and spaces": (b"\xef\xbb\xbf   \n<svg onload=alert(1)>", "a.txt"),
    "html in UTF-16": ("<html><script>alert(1)</script></html>".encode("utf-16"), "a.txt"),
    "xhtml as xml": (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">'
                     b"<script>alert(1)</script></html>", "a.pdf"),
    "text with a script tag": (b"hola\n<SCRIPT>alert(1)</SCRIPT>", "notas.txt"),
    "gif header then html": (b"GIF89a<html><script>alert(1)</script></html>", "a.gif"),
    "png header then html": (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", "a.png"),
    "jpeg magic then html": (b"\xff\xd8\xff<html><script>alert(1)</script>", "a.jpg"),
    "an empty zip": (b"PK\x05\x06" + b"\0" * 18, "a.docx"),
    "a zip that is no office file": (None, "datos.zip"),
    "an executable": (b"MZ\x90\x00\x03" + b"\0" * 200, "foto.jpg"),
    "an empty file": (b"", "vacio.txt"),
    "a png of 100k x 100k pixels": (png_claiming(100_000, 100_000), "bomba.png"),
    "a png of 1 x 2^31 pixels": (png_claiming(1, 2**31 - 1), "tira.png"),
    "a png of 0 x 0 pixels": (png_claiming(0, 0), "nada.png"),
    "a zip bomb docx": (office({"word/media/zeros.bin": b"\0" * (200 * 1024 * 1024)}),
                        "informe.docx"),
    "a docx whose directory hides its size": (
        declared_size(office({"word/media/zeros.bin": b"\0" * (20 * 1024 * 1024)}),
                      "word/media/zeros.bin", 10), "informe.docx"),
    "a docx with 20,000 entries": (None, "muchas.docx"),
    "an encrypted-looking docx": (None, "cifrado.docx"),
}


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hola.txt", "hola")
    return out.getvalue()


def _many_entries() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for i in range(20_000):
            archive.writestr(f"word/{i}", b"")
    return out.getvalue()


def _encrypted_flag() -> bytes:
    data = bytearray(office({}))
    at = data.find(b"PK\x01\x02")
    while at != -1:  # the "encrypted" bit on every entry of the directory
        data[at + 8] |= 1
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def _refused_upload(name: str) -> tuple[bytes, str]:
    data, filename = REFUSED_UPLOADS[name]
    if data is None:
        data = {"a zip that is no office file": _plain_zip,
                "a docx with 20,000 entries": _many_entries,
                "an encrypted-looking docx": _encrypted_flag}[name]()
    return data, filename


@pytest.mark.parametrize("name", list(REFUSED_UPLOADS))
def test_refused_uploads_store_nothing_on_the_page_and_the_api(demo, browser, api, store,
                                                               name):
    data, filename = _refused_upload(name)
    req = factories.file()
    before = history_count(req.id)
    response = page_upload(browser(REQUESTER), req.id, (data, filename))
    assert response.status_code == 303, name
    assert nothing_stored(store, req.id, before), name
    response = api_upload(api(REQUESTER), req.id, (data, filename))
    assert response.status_code == 422, (name, response.status_code)
    assert response.json["status"] == 422
    assert nothing_stored(store, req.id, before), name


def test_a_bzip2_zip_bomb_that_lies_about_its_size_is_refused_without_unpacking_it(
        demo, api, store):
    """A 500-byte .docx whose one bzip2 entry unpacks to 45 MB while the zip's directory
    says 1 byte: Python's zipfile hands a bzip2 (or LZMA) decompressor a whole read's worth
    of compressed bytes with no output bound, so the check would unpack gigabytes at once
    from a file of a few KB. Office files only use stored and deflated entries."""
    bomb = bzip2_bomb_docx()
    assert len(bomb) < 2000
    req = factories.file()
    before = history_count(req.id)
    client = api(REQUESTER)
    tracemalloc.start()
    try:
        response = api_upload(client, req.id, (bomb, "informe.docx"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 422
    assert response.headers.get("X-Refusal") in ("zip_bomb", "broken")
    assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.0f} MB for a {len(bomb)}-byte upload"
    assert nothing_stored(store, req.id, before)


def test_lzma_entries_in_an_office_file_are_not_unpacked_either(demo, api, store):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(zipfile.ZipInfo("word/document.xml"), b"<w:document/>" * 10,
                         compress_type=zipfile.ZIP_LZMA)
    req = factories.file()
    response = api_upload(api(REQUESTER), req.id, (out.getvalue(), "informe.docx"))
    assert response.status_code == 422
    assert attachment_rows(req.id) == [] and stored_files(store) == []


def test_an_office_files_mimetype_entry_is_read_only_as_far_as_needed(demo, api, store):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", sniffing.ODT.encode() + b" " * (90 * 1024 * 1024))
        archive.writestr(zipfile.ZipInfo("pad.bin"), os.urandom(1024 * 1024),
                         compress_type=zipfile.ZIP_STORED)  # keeps the ratio under 100
        archive.writestr("content.xml", "<office:document-content/>")
    upload = out.getvalue()
    req = factories.file()
    client = api(REQUESTER)
    tracemalloc.start()
    try:
        response = api_upload(client, req.id, (upload, "acta.odt"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code in (201, 422)
    assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.0f} MB for a {len(upload)}-byte upload"


def test_a_nested_zip_inside_an_office_file_is_never_unpacked(demo, api, store):
    """A docx carrying a zip bomb as one of its parts: only the outer entries are read
    (the inner zip is bytes); accepted as the docx it is, in bounded time."""
    inner = office({"zeros.bin": b"\0" * (50 * 1024 * 1024)})
    nested = office({"word/embeddings/bomb.zip": inner}, method=zipfile.ZIP_STORED)
    req = factories.file()
    started = time.monotonic()
    response = api_upload(api(REQUESTER), req.id, (nested, "anidado.docx"))
    assert time.monotonic() - started < 10
    assert response.status_code in (201, 422)
    if response.status_code == 201:
        assert response.json["items"][0]["content_type"] == sniffing.DOCX


def raw_upload(client, req_id: int, disposition: bytes, data: bytes = PDF):
    """A multipart upload written by hand: ``disposition`` is the part's Content-Disposition
    parameters after ``form-data; name="files"; `` exactly as a client may send them."""
    body = (b'--B\r\nContent-Disposition: form-data; name="files"; ' + disposition
            + b"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--B--\r\n")
    with client.app.app_context():
        return client.client.post(
            f"/api/v1/requests/{req_id}/attachments", data=body,
            headers={"Authorization": f"Bearer {client.token}",
                     "Content-Type": "multipart/form-data; boundary=B"})


# The filename parameter as sent on the wire (a quoted string: \\ is one backslash)
BAD_NAMES = {
    "dot dot slash": b'filename="../../../etc/passwd"',
    "absolute": b'filename="/etc/passwd"',
    "windows path": b'filename="..\\\\..\\\\boot.ini"',
    "drive letter": b'filename="C:\\\\Windows\\\\win.ini"',
    "RFC 5987 slashes": b"filename*=UTF-8''..%2F..%2Fetc%2Fpasswd",
    "RFC 5987 backslashes": b"filename*=UTF-8''..%5C..%5Cboot.ini",
    "percent-encoded NUL": b"filename*=UTF-8''foto%00.jpg.pdf",
    "a raw NUL": b'filename="foto\x00.jpg.pdf"',
    "a tab": b'filename="a\tb.pdf"',
    "an escape": b'filename="a\x1b[31mb.pdf"',
    "RTL override": 'filename="factura\u202egpj.exe"'.encode(),
    "RTL isolate": 'filename="factura\u2067fdp.exe"'.encode(),
    "a line separator": 'filename="a\u2028b.pdf"'.encode(),
    "too long": b'filename="' + b"a" * 252 + b'.pdf"',
    "too long in characters, short in bytes": ('filename="' + "\u00f1" * 256 + '"').encode(),
    "a dot": b'filename="."',
    "two dots": b'filename=".."',
    "only spaces": b'filename="   "',
}


@pytest.mark.parametrize("name", list(BAD_NAMES))
def test_file_names_with_paths_controls_or_direction_marks_are_refused(demo, api, store,
                                                                      name):
    req = factories.file()
    before = history_count(req.id)
    response = raw_upload(api(REQUESTER), req.id, BAD_NAMES[name])
    assert response.status_code in (400, 422), (name, response.status_code)
    assert nothing_stored(store, req.id, before), name


@pytest.mark.parametrize("disposition", [
    b'filename="a\xed\xb3\xbf.pdf"',     # a lone surrogate in (invalid) UTF-8
    b'filename="\xff\xfe.pdf"',           # no UTF-8 at all
    b"filename*=UTF-8''%ED%B3%BF.pdf",     # the same, percent-encoded
    b"filename*=bogus''a.pdf",             # an unknown charset
    b'filename="a.pdf"; filename="b.html"',  # twice
    b'filename=',                          # empty
])
def test_undecodable_or_doubled_names_are_a_clean_answer(demo, api, store, disposition):
    req = factories.file()
    response = raw_upload(api(REQUESTER), req.id, disposition)
    assert response.status_code in (201, 400, 422), (disposition, response.status_code)
    for row in attachment_rows(req.id):
        row.filename.encode("utf-8")  # whatever was kept is text a header can carry
        assert "/" not in row.filename and "\\" not in row.filename


def test_a_name_with_quotes_and_semicolons_cannot_break_the_download_headers(demo, browser,
                                                                            api, store):
    req = factories.file()
    sent = b'filename="a%22; filename=%22evil.html;.pdf"'
    assert raw_upload(api(REQUESTER), req.id, sent).status_code == 201
    [row] = attachment_rows(req.id)
    response = fetch(browser(REQUESTER), f"/requests/{req.id}/attachments/{row.id}")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"")
    plain = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert ";" not in plain and "\\" not in plain, disposition
    assert disposition.count('"') == 2, disposition
    assert response.mimetype == sniffing.PDF


def test_every_served_variant_has_the_safe_headers(demo, browser, api, store):
    req = factories.file()
    page = browser(REQUESTER)
    assert page_upload(page, req.id, (png(), "foto.png"), (PDF, "a.pdf"),
                       (b"hola\nmundo\n", "notas.txt")).status_code == 303
    found = attachment_rows(req.id)
    assert len(found) == 3
    client = api(REQUESTER)
    urls = []
    for row in found:
        base = f"/requests/{req.id}/attachments/{row.id}"
        urls += [base, f"/api/v1{base}"]
        if row.thumbnail_key:
            urls += [base + "/thumbnail", f"/api/v1{base}/thumbnail"]
    assert len(urls) == 8
    for url in urls:
        if url.startswith("/api/"):
            response = client.get(url)
        else:
            response = fetch(page, url)
        assert response.status_code == 200, url
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert "default-src 'none'" in headers["Content-Security-Policy"], url
        assert "sandbox" in headers["Content-Security-Policy"], url
        disposition = headers["Content-Disposition"]
        if url.endswith("/thumbnail"):
            assert disposition.startswith("inline") and response.mimetype == "image/jpeg", url
            assert response.data.startswith(b"\xff\xd8\xff"), url  # one we made
        else:
            assert disposition.startswith("attachment;"), url
        assert response.mimetype not in ("text/html", "image/svg+xml", "application/xml")
    # a file without a thumbnail has none to serve
    pdf = next(r for r in found if r.content_type == sniffing.PDF)
    assert fetch(page, f"/requests/{req.id}/attachments/{pdf.id}/thumbnail").status_code == 404


def test_an_image_carrying_a_script_is_served_as_the_image_only(demo, browser, store):
    """A valid PNG with HTML appended, and a GIF whose comment holds a script: accepted
    as images, but served as image/* attachments with nosniff, and the thumbnail is one we
    drew (no byte of the upload in it)."""
    req = factories.file()
    polyglot = png() + b"<html><script>alert(1)</script></html>"
    page = browser(REQUESTER)
    page_upload(page, req.id, (polyglot, "foto.png"))
    for row in attachment_rows(req.id):
        response = fetch(page, f"/requests/{req.id}/attachments/{row.id}")
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        thumb = fetch(page, f"/requests/{req.id}/attachments/{row.id}/thumbnail")
        assert b"<script>" not in thumb.data


def test_download_and_delete_of_another_units_or_companys_attachment_is_404(demo, browser,
                                                                           api, store):
    req = factories.file()
    page_upload(browser(REQUESTER), req.id, (png(), "foto.png"))
    [row] = attachment_rows(req.id)
    globex = factories.file(requester=GLOBEX[0])
    base = f"/requests/{req.id}/attachments/{row.id}"
    for email in (OTHER_UNIT, OTHER_HEAD, WORKER, WORKER2, *GLOBEX):
        page = browser(email)
        for url in (base, base + "/thumbnail"):
            assert page.get(url).status_code == 404, (email, url)
        assert page.post(base + "/delete").status_code == 404, email
        client = api(email)
        for url in (base, base + "/thumbnail", f"/requests/{req.id}/attachments"):
            assert client.get("/api/v1" + url).status_code == 404, (email, url)
        assert client.delete("/api/v1" + base).status_code == 404, email
        # an upload onto a request they may not see
        assert api_upload(client, req.id, (PDF, "x.pdf")).status_code == 404, email
    # the attachment's id under a request of another company, and under one they can see
    for email, request_id in ((GLOBEX[0], globex.id), (REQUESTER, factories.file().id)):
        url = f"/requests/{request_id}/attachments/{row.id}"
        assert browser(email).get(url).status_code == 404, email
        assert api(email).get("/api/v1" + url).status_code == 404, email
    assert len(attachment_rows(req.id)) == 1 and len(stored_files(store)) == 2


def test_an_internal_notes_file_never_reaches_the_requester(demo, browser, api, store):
    req, _task = factories.request_at("Task_Work")
    worker = browser(WORKER)
    response = worker.post(f"/requests/{req.id}/comments", {
        "comment": "Nota interna con foto", "internal": "true",
        "files": [(io.BytesIO(png()), "medidor-secreto.png")]},
        content_type="multipart/form-data")
    assert response.status_code in (302, 303)
    [row] = attachment_rows(req.id)
    assert row.internal
    base = f"/requests/{req.id}/attachments/{row.id}"
    requester, client = browser(REQUESTER), api(REQUESTER)
    for url in (base, base + "/thumbnail"):
        assert requester.get(url).status_code == 404
        assert client.get("/api/v1" + url).status_code == 404
    assert client.get(f"/api/v1/requests/{req.id}/attachments").json["items"] == []
    page = requester.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "medidor-secreto" not in page
    history = client.get(f"/api/v1/requests/{req.id}/history?per_page=100").json["items"]
    assert "medidor-secreto" not in str(history)
    assert requester.post(base + "/delete").status_code == 404
    assert fetch(worker, base).status_code == 200


def test_only_the_uploader_deletes_and_only_while_the_request_is_open(demo, browser, api,
                                                                     store):
    req, _task = factories.request_at("Task_Work")
    page_upload(browser(REQUESTER), req.id, (PDF, "mio.pdf"))
    [row] = attachment_rows(req.id)
    base = f"/requests/{req.id}/attachments/{row.id}"
    for email in (HEAD, DIRECTOR, WORKER, ADMIN):  # they see it, but did not upload it
        assert browser(email).post(base + "/delete").status_code == 403, email
        assert api(email).delete("/api/v1" + base).status_code == 403, email
    # a GET never deletes
    assert browser(REQUESTER).get(base + "/delete").status_code in (404, 405)
    assert len(attachment_rows(req.id)) == 1
    # closed: withdrawn / finished requests keep their files
    db.session.rollback()
    closed = db.session.get(ServiceRequest, req.id)
    closed.status = "completed"
    db.session.commit()
    assert browser(REQUESTER).post(base + "/delete").status_code == 403
    assert api(REQUESTER).delete("/api/v1" + base).status_code == 403
    assert api_upload(api(REQUESTER), req.id, (PDF, "tarde.pdf")).status_code == 422
    assert len(attachment_rows(req.id)) == 1 and len(stored_files(store)) == 1


def test_uploads_and_deletions_need_the_csrf_token(demo, app, browser, store):
    req = factories.file()
    page = browser(REQUESTER)
    page_upload(page, req.id, (PDF, "a.pdf"))
    [row] = attachment_rows(req.id)
    for token in ("", "forged", page.token[:-2] + "xx"):
        response = page.post(f"/requests/{req.id}/attachments",
                             {**form_files((PDF, "b.pdf")), "csrf_token": token},
                             content_type="multipart/form-data")
        assert response.status_code == 400
        response = page.post(f"/requests/{req.id}/attachments/{row.id}/delete",
                             {"csrf_token": token})
        assert response.status_code == 400
    with app.app_context():
        assert page.client.post(f"/requests/{req.id}/attachments",
                                data=form_files((PDF, "c.pdf")),
                                content_type="multipart/form-data").status_code == 400
    assert [r.filename for r in attachment_rows(req.id)] == ["a.pdf"]


def test_a_truncated_multipart_body_leaves_no_file_and_no_row(demo, api, store):
    req = factories.file()
    client = api(REQUESTER)
    before = history_count(req.id)
    boundary = "XyZ"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    for body in (head + PDF * 1000,                      # cut inside the file
                 head + PDF + b"\r\n--" + boundary.encode(),  # cut inside the last boundary
                 head[:30]):                             # cut inside the part's headers
        with client.app.app_context():
            response = client.client.post(
                f"/api/v1/requests/{req.id}/attachments", data=body,
                headers={"Authorization": f"Bearer {client.token}",
                         "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert response.status_code in (400, 413, 422), response.status_code
        assert nothing_stored(store, req.id, before)
    # a body shorter than its Content-Length (the client went away)
    with client.app.app_context():
        response = client.client.post(
            f"/api/v1/requests/{req.id}/attachments", input_stream=io.BytesIO(head + PDF),
            environ_overrides={"CONTENT_LENGTH": str(len(head) + len(PDF) + 5000)},
            headers={"Authorization": f"Bearer {client.token}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code in (400, 413, 422)
    assert nothing_stored(store, req.id, before)


def test_too_big_too_many_and_over_quota_store_nothing(demo, app, api, store, monkeypatch):
    import dataclasses

    from app.tenancy import quotas

    req = factories.file()
    client = api(REQUESTER)
    before = history_count(req.id)
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILE_MB", 0.05)
    response = api_upload(client, req.id, (b"a" * 60_000 + b"\n", "grande.txt"))
    assert (response.status_code, response.headers.get("X-Refusal")) == (422, "too_big")
    # one good file and one too big: neither
    response = api_upload(client, req.id, (PDF, "bien.pdf"), (b"b" * 60_000, "mal.txt"))
    assert response.status_code == 422
    assert nothing_stored(store, req.id, before)
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILE_MB", 10)
    files = [(PDF, f"{i}.pdf") for i in range(app.config["ATTACHMENTS_MAX_FILES"] + 1)]
    response = api_upload(client, req.id, *files)
    assert (response.status_code, response.headers.get("X-Refusal")) == (422, "too_many")
    assert nothing_stored(store, req.id, before)
    real_plan_of = quotas.plan_of
    monkeypatch.setattr(quotas, "plan_of",
                        lambda tenant: dataclasses.replace(real_plan_of(tenant), storage_mb=1))
    response = api_upload(client, req.id, (b"c" * 600_000 + b"\n", "uno.txt"),
                          (b"d" * 600_000 + b"\n", "dos.txt"))
    assert response.status_code == 403
    assert nothing_stored(store, req.id, before)


def test_a_body_of_thousands_of_parts_is_refused_before_any_work(demo, app, api, store):
    """Many parts in one post: the form parser stops at its part limit (413), or the
    service at its file count; never a file stored, never a 500."""
    req = factories.file()
    client = api(REQUESTER)
    boundary = "B"
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"a.txt\"\r\n\r\nhola\r\n").encode()
    body = part * 5000 + f"--{boundary}--\r\n".encode()
    started = time.monotonic()
    with client.app.app_context():
        response = client.client.post(
            f"/api/v1/requests/{req.id}/attachments", data=body,
            headers={"Authorization": f"Bearer {client.token}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code in (413, 422)
    assert time.monotonic() - started < 10
    assert attachment_rows(req.id) == [] and stored_files(store) == []


def test_a_body_past_the_upload_limit_is_413_not_read_whole(demo, app, api, store):
    from app.attachments import upload_body_limit

    req = factories.file()
    client = api(REQUESTER)
    size = upload_body_limit(app.config) + 1
    with client.app.app_context():
        response = client.client.post(
            f"/api/v1/requests/{req.id}/attachments", input_stream=io.BytesIO(b""),
            environ_overrides={"CONTENT_LENGTH": str(size)},
            headers={"Authorization": f"Bearer {client.token}",
                     "Content-Type": "multipart/form-data; boundary=B"})
    assert response.status_code == 413
    # and a page that takes no files keeps the ordinary limit
    with client.app.app_context():
        response = client.client.post(
            f"/api/v1/requests/{req.id}/comments", input_stream=io.BytesIO(b""),
            environ_overrides={"CONTENT_LENGTH": str(size)},
            headers={"Authorization": f"Bearer {client.token}",
                     "Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_thumbnail_is_never_decoded_from_an_image_bomb(demo, app, api, store):
    """A JPEG claiming 60,000 x 60,000 (3.6 gigapixels) and a GIF claiming 65,535 x 65,535:
    refused by their header before any decoding."""
    req = factories.file()
    client = api(REQUESTER)
    big_jpeg = bytearray(jpeg(16, 16))
    at = big_jpeg.find(b"\xff\xc0")
    big_jpeg[at + 5:at + 9] = struct.pack(">HH", 60_000, 60_000)
    big_gif = bytearray(gif())
    big_gif[6:10] = struct.pack("<HH", 65_535, 65_535)
    for data, name in ((bytes(big_jpeg), "grande.jpg"), (bytes(big_gif), "grande.gif")):
        started = time.monotonic()
        response = api_upload(client, req.id, (data, name))
        assert response.status_code in (201, 422), name
        assert time.monotonic() - started < 5, name
        if response.status_code == 201:  # a small image with a big claim: no thumbnail
            assert response.json["items"][0]["has_thumbnail"] is False, name


def test_the_admin_types_page_and_api_refuse_what_may_never_be_accepted(demo, browser, api,
                                                                       store):
    admin = browser(ADMIN)
    for types in (["text/html"], ["image/svg+xml"], ["application/xml"],
                  ["application/zip"], ["application/octet-stream"], ["x" * 10_000]):
        response = admin.post("/admin/attachments", {"types": types})
        assert response.status_code == 422, types
        response = api(ADMIN).put("/api/v1/admin/attachments/types", {"types": types})
        assert response.status_code == 422, types
    for body in ({"types": "text/html"}, {"types": [{"a": 1}]}, {"types": None}, [], "x"):
        response = api(ADMIN).put("/api/v1/admin/attachments/types", body)
        assert response.status_code in (400, 422), body
    # not an admin
    assert browser(REQUESTER).get("/admin/attachments").status_code == 404
    assert api(DIRECTOR).put("/api/v1/admin/attachments/types",
                             {"types": ["text/plain"]}).status_code == 403


# === search ==================================================================================

def comment(client, req_id: int, text: str, internal: bool = False):
    response = client.post(f"/api/v1/requests/{req_id}/comments",
                           {"comment": text, "internal": internal})
    assert response.status_code == 201, response.json
    return response


def found_ids(client, q: str) -> set[int]:
    response = client.get(f"/api/v1/search?q={q}")
    assert response.status_code == 200, (q, response.status_code, response.json)
    return {item["id"] for item in response.json["items"]}


def search_page(who, q: str, **params) -> tuple[int, str]:
    response = who.get("/search?" + urlencode({"q": q, **params}))
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def scattered(demo):
    """The same rare word in a request of ana (finanzas), of maria (another unit), of
    globex, and in an internal note on ana's request at work."""
    ana, _task = factories.request_at("Task_Work")
    ana.title = "Zorblax en la oficina de ana"  # the index follows an edit
    db.session.commit()
    maria = factories.file(requester=OTHER_UNIT, title="Zorblax en la bodega de maria")
    globex = factories.file(requester=GLOBEX[0], title="Zorblax en globex")
    return {"ana": ana.id, "maria": maria.id, "globex": globex.id,
            "numbers": {"ana": ana.number, "maria": maria.number, "globex": globex.number,
                        "ana_ticket": ana.ticket.number}}


def test_search_never_returns_what_the_person_may_not_open(scattered, api):
    ids = scattered
    expected = {
        REQUESTER: {ids["ana"]}, OTHER_UNIT: {ids["maria"]}, HEAD: {ids["ana"]},
        WORKER: {ids["ana"]}, WORKER2: set(), DIRECTOR: {ids["ana"], ids["maria"]},
        ADMIN: {ids["ana"], ids["maria"]}, OTHER_HEAD: set(),
        GLOBEX[0]: {ids["globex"]}, GLOBEX[1]: {ids["globex"]}, GLOBEX[2]: set(),
    }
    ours = {ids["ana"], ids["maria"], ids["globex"]}
    for email, visible in expected.items():
        client = api(email)
        got = found_ids(client, "zorblax")
        if email == OTHER_HEAD:  # heads the units under production, not maria's
            assert got <= {ids["maria"]}, email
        else:
            assert got == visible, (email, got)
        # by number: another unit's and another company's are not found (a company's
        # numbers are its own: globex's SOL-2026-000002 is one of acme's too)
        for who, number in scattered["numbers"].items():
            target = ids["ana" if who == "ana_ticket" else who]
            hits = found_ids(client, number)
            assert not hits & (ours - visible - ({ids["maria"]} if email == OTHER_HEAD
                                                 else set())), (email, number)
            if target in visible:
                assert target in hits, (email, number)


def openable(email: str) -> set[int]:
    """The ids of the requests ``email`` may open (the policy's own rule)."""
    from app import policy

    db.session.rollback()
    person = factories.user(email)
    return set(db.session.scalars(select(ServiceRequest.id)
                                  .where(policy.request_visibility(person))))


def results_of(html: str) -> str:
    """The results part of the search page (the box echoes the query, escaped)."""
    return html.split('class="search-results"', 1)[1] if 'class="search-results"' in html \
        else ""


def test_internal_notes_never_match_nor_show_for_the_requester(scattered, api, browser):
    ana = scattered["ana"]
    worker = api(WORKER)
    comment(worker, ana, "Zorblax: la clave del cuarto es quetzalsecreto", internal=True)
    comment(worker, ana, "Publico: zorblax cambiado")
    for email in (REQUESTER,):
        client = api(email)
        assert found_ids(client, "quetzalsecreto") == set()
        response = client.get("/api/v1/search?q=zorblax")
        assert "quetzalsecreto" not in response.get_data(as_text=True)
        for q in ("quetzalsecreto", "zorblax", "clave cuarto", scattered["numbers"]["ana"]):
            status, html = search_page(browser(email), q)
            assert status == 200 and "quetzalsecreto" not in results_of(html), q
    # who reads internal notes finds it, with the snippet
    for email in (WORKER, DIRECTOR, HEAD, ADMIN):
        client = api(email)
        assert found_ids(client, "quetzalsecreto") == {ana}, email
        response = client.get("/api/v1/search?q=quetzalsecreto")
        assert "quetzalsecreto" in response.json["items"][0]["snippet_html"], email


def test_a_head_filing_their_own_request_does_not_read_its_internal_notes(demo, api):
    from app.conversation.comments import add_comment

    req = factories.file(requester=HEAD, title="Pedido del jefe")
    db.session.rollback()
    req = db.session.get(ServiceRequest, req.id)
    add_comment(factories.user(DIRECTOR), req,
                {"comment": "Nota interna: presupuestoescondido", "internal": "true"})
    db.session.commit()
    assert found_ids(api(HEAD), "presupuestoescondido") == set()
    assert found_ids(api(DIRECTOR), "presupuestoescondido") == {req.id}
    history = api(HEAD).get(f"/api/v1/requests/{req.id}/history?per_page=100").json["items"]
    assert "presupuestoescondido" not in str(history)


INJECTIONS = [
    "'", "''", '"', '""', "\\", "\\'", "' OR '1'='1", "zorblax' OR 1=1 --", "1; DROP TABLE x",
    "zorblax & !zorblax", "zorblax | bodega", "!zorblax", "zorblax:*", "zor:*", "*", "**", "a*",
    "zorblax:A", "zorblax:ABCD", "(zorblax", "zorblax)", "((((((((((zorblax))))))))))",
    "<-> zorblax", "zorblax <-> bodega", "zorblax <2> bodega", "NEAR(zorblax bodega)",
    "NEAR(zorblax bodega, 0)", "zorblax NOT bodega", "zorblax AND NOT bodega", "zorblax OR x",
    "title:zorblax", "{internal_terms}: zorblax", "internal_terms:quetzal", "^zorblax",
    "zorblax + bodega", "- zorblax", "zorblax -bodega", "$$", "%", "_", "%zorblax%",
    "zorblax\u0000", "\u0000", "\u202ezorblax", "\U0001F600", "zorblax\ufeff",
    "ＺＯＲＢＬＡＸ", "ZORBLAX", "zórblax", "Zorblax's", "zorblax..bodega", "SOL-", "SOL-2026-",
    "SOL-2026-00000000000000000001", "-2026-1", "SOL-9999-999999999999", "0x41",
    "zorblax " * 30, " ".join(f"w{i}" for i in range(60)), "x" * 200, "x" * 201, "x" * 10_000,
    "\t\n\r", "  ", "de la el", "zorblax\\\\:*", "@@", "zorblax @@ to_tsquery('x')",
]


@pytest.mark.parametrize("who", [REQUESTER, DIRECTOR])
def test_no_query_string_is_read_as_sql_or_a_full_text_operator(scattered, api, browser, who):
    client, page = api(who), browser(who)
    visible = openable(who)
    zorblax = found_ids(client, "zorblax")
    comment(api(WORKER), scattered["ana"], "secreto quetzal interno", internal=True)
    for q in INJECTIONS:
        response = client.get("/api/v1/search?" + urlencode({"q": q}))
        assert response.status_code in (200, 400, 422), (q[:40], response.status_code)
        if response.status_code == 200:
            got = {item["id"] for item in response.json["items"]}
            assert got <= visible, q[:40]  # never what they may not open
            if who == REQUESTER:
                assert "quetzal" not in response.get_data(as_text=True), q[:40]
        else:
            assert response.mimetype == "application/problem+json", q[:40]
        status, _html = search_page(page, q)
        assert status in (200, 400, 422), (q[:40], status)
    # operators written as words are words: none of them widens a search
    assert found_ids(client, "zorblax OR bodega") <= zorblax
    assert found_ids(client, "zorblax | bodega") <= zorblax
    assert found_ids(client, "zorblax:*") <= zorblax
    assert client.get("/api/v1/search?q=*").status_code == 422  # no word at all


def test_search_highlighting_escapes_markup_in_titles_comments_and_fields(demo, api,
                                                                        browser):
    req = factories.file(title=f"Zorblax {SCRIPT} <img src=x onerror=alert(2)>")
    client = api(REQUESTER)
    comment(client, req.id, 'zorblax "><svg onload=alert(3)> &amp; <mark>falso</mark>')
    response = client.get("/api/v1/search?q=zorblax")
    [hit] = response.json["items"]
    for html in (hit["title_html"], hit["snippet_html"]):
        assert "<script" not in html and "<img" not in html and "<svg" not in html, html
        assert re.sub(r"</?mark>", "", html).count("<") == 0, html
    assert "&lt;script&gt;" in hit["title_html"]
    for q in ("zorblax", "script", "img onerror", "svg onload", "mark falso", "amp"):
        status, html = search_page(browser(REQUESTER), q)
        assert status == 200, q
        assert "<script>alert(1)" not in html and "onerror=alert(2)>" not in html, q
        assert "<svg onload" not in html, q
        if q == "svg onload":
            assert "&lt;svg onload" in results_of(html).replace("<mark>", "").replace(
                "</mark>", "")
    # the query itself, echoed back in the box and the pager
    status, html = search_page(browser(REQUESTER), 'zorblax "><script>alert(9)</script>')
    assert status == 200 and "<script>alert(9)" not in html


@pytest.mark.parametrize("params", [
    {"page": "0"}, {"page": "-1"}, {"page": "99999999999999999999"}, {"page": "abc"},
    {"page": "1e3"}, {"page": "NaN"}, {"page": "١"}, {"page": ""}, {"page": " 2"},
    {"page": "2", "per_page": "100000"}, {"per_page": "-5"}, {"page": "50"}, {"page": "51"},
])
def test_paging_parameters_are_a_clean_answer(scattered, api, browser, params):
    client = api(DIRECTOR)
    response = client.get("/api/v1/search?" + urlencode({"q": "zorblax", **params}))
    assert response.status_code in (200, 422), (params, response.status_code)
    if response.status_code == 200:
        assert len(response.json["items"]) <= 100
        assert response.json["page"] >= 1
    status, _html = search_page(browser(DIRECTOR), "zorblax", **params)
    assert status == 200, params
    # no q, q twice, q empty
    assert client.get("/api/v1/search").status_code == 422
    assert client.get("/api/v1/search?q=").status_code == 422
    assert client.get("/api/v1/search?q=zorblax&q=bodega").status_code in (200, 422)


def test_search_needs_a_login_and_a_token(scattered, app):
    with app.app_context():
        client = app.test_client()
        assert client.get("/api/v1/search?q=zorblax").status_code == 401
        response = client.get("/search?q=zorblax")
        assert response.status_code in (302, 401)
        assert "Zorblax" not in response.get_data(as_text=True)


# === category fields =========================================================================

TRIP = [
    {"name": "origin", "type": "text", "label": "Origen", "required": True, "maxLength": 80},
    {"name": "passengers", "type": "number", "label": "Pasajeros", "min": 1, "max": 40},
    {"name": "trip_date", "type": "date", "label": "Fecha", "min": "2026-01-01",
     "max": "2030-12-31"},
    {"name": "vehicle", "type": "choice", "label": "Vehículo",
     "options": [{"value": "van", "label": "Camioneta"}, {"value": "bus", "label": "Bus"}]},
    {"name": "luggage", "type": "boolean", "label": "Equipaje"},
    {"name": "notes", "type": "longtext", "label": "Notas", "maxLength": 500},
]


def category_of(email: str, name: str | None = None) -> Category:
    db.session.rollback()
    person = factories.user(email)
    stmt = select(Category).where(Category.tenant_id == person.tenant_id)
    if name:
        stmt = stmt.where(Category.name == name)
    return db.session.scalars(stmt.order_by(Category.name)).first()


def set_fields_by_api(client, category_id: int, items):
    return client.patch(f"/api/v1/admin/categories/{category_id}", {"request_fields": items})


@pytest.fixture
def trip(demo, api):
    category = category_of(ADMIN)
    response = set_fields_by_api(api(ADMIN), category.id, TRIP)
    assert response.status_code == 200, response.json
    return category.id


def file_by_api(client, category_id: int, fields, **extra):
    return client.post("/api/v1/requests", {"title": "Viaje de campo", "description": "Salida",
                                            "category_id": category_id, "fields": fields,
                                            **extra})


HOSTILE_SPECS = {
    "not a list": "origin",
    "an object": {"name": "x"},
    "a list of strings": ["origin"],
    "31 fields": [{"name": f"f{i}", "type": "text", "label": "F"} for i in range(31)],
    "10,000 options": [{"name": "x", "type": "choice", "label": "X",
                        "options": [{"value": str(i)} for i in range(10_000)]}],
    "options not a list": [{"name": "x", "type": "choice", "label": "X", "options": "a,b"}],
    "an option object as value": [{"name": "x", "type": "choice", "label": "X",
                                   "options": [{"value": {"a": 1}}]}],
    "an option with extra keys": [{"name": "x", "type": "choice", "label": "X",
                                   "options": [{"value": "a", "onclick": "x"}]}],
    "a dunder name": [{"name": "__class__", "type": "text", "label": "X"}],
    "a python keyword": [{"name": "import", "type": "text", "label": "X"}],
    "an expression function's name": [{"name": "len", "type": "text", "label": "X"}],
    "workflow data: priority": [{"name": "priority", "type": "text", "label": "X"}],
    "workflow data: decision": [{"name": "decision", "type": "choice", "label": "X",
                                 "options": [{"value": "approve"}]}],
    "workflow data: solved": [{"name": "solved", "type": "boolean", "label": "X"}],
    "workflow data: estimated_cost": [{"name": "estimated_cost", "type": "number",
                                       "label": "X"}],
    "the request's own: title": [{"name": "title", "type": "text", "label": "X"}],
    "the form's own: csrf_token": [{"name": "csrf_token", "type": "text", "label": "X"}],
    "a name with a dot": [{"name": "a.b", "type": "text", "label": "X"}],
    "a name with a space": [{"name": "a b", "type": "text", "label": "X"}],
    "an upper-case name": [{"name": "Origen", "type": "text", "label": "X"}],
    "a non-ASCII name": [{"name": "año", "type": "text", "label": "X"}],
    "a 61-character name": [{"name": "a" * 61, "type": "text", "label": "X"}],
    "a name that is an expression": [{"name": "a==1 or b", "type": "text", "label": "X"}],
    "two fields of one name": [{"name": "a", "type": "text", "label": "X"},
                               {"name": "a", "type": "number", "label": "Y"}],
    "an unknown type": [{"name": "a", "type": "python", "label": "X"}],
    "an unknown attribute": [{"name": "a", "type": "text", "label": "X",
                              "default": "{{ 7*7 }}"}],
    "an expression attribute": [{"name": "a", "type": "text", "label": "X",
                                 "condition": "__import__('os')"}],
    "a 201-character label": [{"name": "a", "type": "text", "label": "x" * 201}],
    "no label": [{"name": "a", "type": "text", "label": ""}],
    "a list as label": [{"name": "a", "type": "text", "label": ["x"]}],
    "maxLength of a billion": [{"name": "a", "type": "text", "label": "X",
                                "maxLength": 10**9}],
    "negative maxLength": [{"name": "a", "type": "text", "label": "X", "maxLength": -1}],
    "maxLength 1e3": [{"name": "a", "type": "text", "label": "X", "maxLength": "1e3"}],
    "minLength over maxLength": [{"name": "a", "type": "text", "label": "X",
                                  "minLength": 10, "maxLength": 5}],
    "a min of 1e999": [{"name": "a", "type": "number", "label": "X", "min": "1e999"}],
    "a max of 10^16": [{"name": "a", "type": "number", "label": "X", "max": 10**16}],
    "a NaN min": [{"name": "a", "type": "number", "label": "X", "min": "NaN"}],
    "an Infinity max": [{"name": "a", "type": "number", "label": "X", "max": "Infinity"}],
    "a float min": [{"name": "a", "type": "number", "label": "X", "min": 1e300}],
    "a date min of year 0": [{"name": "a", "type": "date", "label": "X", "min": "0000-01-01"}],
    "a date max of 31 February": [{"name": "a", "type": "date", "label": "X",
                                   "max": "2026-02-31"}],
    "min over max": [{"name": "a", "type": "number", "label": "X", "min": 5, "max": 1}],
    "required maybe": [{"name": "a", "type": "text", "label": "X", "required": "maybe"}],
    "options on a text": [{"name": "a", "type": "text", "label": "X",
                           "options": [{"value": "a"}]}],
    "a choice with no option": [{"name": "a", "type": "choice", "label": "X", "options": []}],
    "a 101-character option": [{"name": "a", "type": "choice", "label": "X",
                                "options": [{"value": "v" * 101}]}],
    "duplicate options": [{"name": "a", "type": "choice", "label": "X",
                           "options": [{"value": "a"}, {"value": "a"}]}],
}


@pytest.mark.parametrize("name", list(HOSTILE_SPECS))
def test_an_admin_cannot_define_hostile_field_specs(trip, api, name):
    client = api(ADMIN)
    response = set_fields_by_api(client, trip, HOSTILE_SPECS[name])
    assert response.status_code == 422, (name, response.status_code)
    db.session.rollback()
    assert [f["name"] for f in db.session.get(Category, trip).request_fields] == [
        f["name"] for f in TRIP], name


# Text the input layer lets through (white space a word processor writes, non-characters) but
# an XML attribute cannot hold: the field parser reads each field as a <mesa:field> element
XML_UNSAFE = {"vertical tab": "Ori\x0bgen", "form feed": "Ori\x0cgen",
              "U+FFFE": "Ori\ufffegen", "U+FFFF": "Ori\uffffgen"}


@pytest.mark.parametrize("where", ["label", "option value", "option label", "max"])
@pytest.mark.parametrize("what", list(XML_UNSAFE))
def test_field_specs_with_text_no_xml_attribute_holds_are_refused_not_a_500(trip, api, where,
                                                                           what):
    text = XML_UNSAFE[what]
    field = {"name": "kind", "type": "choice", "label": "Tipo",
             "options": [{"value": "a", "label": "A"}]}
    if where == "label":
        field["label"] = text
    elif where == "option value":
        field["options"] = [{"value": text}]
    elif where == "option label":
        field["options"] = [{"value": "a", "label": text}]
    else:
        field = {"name": "count", "type": "number", "label": "N", "max": "1" + text}
    response = set_fields_by_api(api(ADMIN), trip, [field])
    assert response.status_code == 422, (what, where, response.status_code)


def test_the_field_editor_page_refuses_text_no_xml_attribute_holds(trip, browser):
    page = browser(ADMIN)
    category = db.session.get(Category, trip)
    form = {**{f"name_{lang}": name for lang, name in (category.names or {}).items()},
            "name_es": category.name, "service_unit_id": str(category.service_unit_id or ""),
            "default_priority": category.default_priority or "normal",
            "process_key": category.process_key, "active": "yes", "rf-count": "1",
            "rf-0-name": "kind", "rf-0-label": "Ti\x0bpo",
            "rf-0-type": "choice", "rf-0-options": "a = A\nb\x0c = B", "rf-0-position": "1"}
    response = page.post(f"/admin/categories/{trip}", form)
    assert response.status_code == 422, response.status_code


BAD_VALUES = {
    "fields as a list": ["origin"],
    "fields as text": "origin=x",
    "fields as a number": 7,
    "an unknown name": {"origin": "Sede", "__class__": "x"},
    "10,000 unknown names": {"origin": "Sede", **{f"x{i}": i for i in range(10_000)}},
    "a workflow name": {"origin": "Sede", "priority": "urgent"},
    "a host name: solved": {"origin": "Sede", "solved": True},
    "missing required": {"passengers": 3},
    "text too long": {"origin": "x" * 81},
    "text as a list": {"origin": ["Sede", "Otra"]},
    "text as an object": {"origin": {"$ne": None}},
    "number as text": {"origin": "Sede", "passengers": "tres"},
    "number 1e999": {"origin": "Sede", "passengers": "1e999"},
    "number NaN": {"origin": "Sede", "passengers": "NaN"},
    "number Infinity": {"origin": "Sede", "passengers": "Infinity"},
    "number past max": {"origin": "Sede", "passengers": 41},
    "number of 10^20": {"origin": "Sede", "passengers": 10**20},
    "number with 5000 digits": {"origin": "Sede", "passengers": "9" * 5000},
    "number as true": {"origin": "Sede", "passengers": True},
    "date 31 February": {"origin": "Sede", "trip_date": "2026-02-31"},
    "date year 99999": {"origin": "Sede", "trip_date": "99999-01-01"},
    "date before min": {"origin": "Sede", "trip_date": "1900-01-01"},
    "date as a number": {"origin": "Sede", "trip_date": 20260101},
    "a choice not offered": {"origin": "Sede", "vehicle": "helicopter"},
    "a choice's label instead": {"origin": "Sede", "vehicle": "Bus"},
    "boolean maybe": {"origin": "Sede", "luggage": "maybe"},
    "longtext of a megabyte": {"origin": "Sede", "notes": "x" * 1_000_000},
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_bad_field_values_are_422_and_file_nothing(trip, api, name):
    client = api(REQUESTER)
    before = db.session.scalar(select(func.count()).select_from(ServiceRequest))
    response = file_by_api(client, trip, BAD_VALUES[name])
    assert response.status_code in (400, 413, 422), (name, response.status_code)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == before


def test_values_are_data_never_code_in_pages_and_gateways(demo, api, browser, tmp_path):
    """A text answer holding Python, a template and markup: shown as text on the request
    page, handed to the workflow as a string, and a gateway reading the answers routes on
    them without running any of it."""
    from tests.request_fields.conftest import TRANSPORT_FIELDS, VALID, set_fields, transport
    from tests.request_fields.test_routing import _deploy_transport_process, _task_data, routed

    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    set_fields(TRANSPORT_FIELDS)
    _deploy_transport_process(routed("passengers > 10 and notes != None and len(notes) > 3"))
    response = file_by_api(api(REQUESTER), transport().id, {
        **VALID, "origin": f"{SCRIPT}{{{{ 7*7 }}}}", "notes": code, "passengers": "12"})
    assert response.status_code == 201, response.json
    req_id = response.json["id"]
    page = browser(REQUESTER).get(f"/requests/{req_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "{{ 7*7 }}" in page  # the template is text
    assert not marker.exists()
    db.session.rollback()
    req = db.session.get(ServiceRequest, req_id)
    assert req.fields["notes"] == code and req.status == "pending_evaluation"  # routed
    assert _task_data(req)["notes"] == code


def test_another_companys_fields_never_show_in_an_export(trip, api, browser):
    acme = file_by_api(api(REQUESTER), trip, {"origin": "Origenacmesecreto", "passengers": 3})
    assert acme.status_code == 201
    # globex names a field the same and files its own
    for url in ("/indicators/export/requests.csv", "/indicators/export/requests.xlsx",
                "/indicators/export/tickets.csv"):
        response = browser(GLOBEX[1]).get(url + "?from=2020-01-01&to=2035-12-31")
        if response.status_code != 200:
            continue
        body = response.get_data()
        assert b"Origenacmesecreto" not in body, url
        assert b"Pasajeros" not in body and b"Origen" not in body, url


# === conversation ============================================================================

SECRET = "claveinternazeta"


def everything_said_to(email: str) -> str:
    """Every notice, outbox message (e-mail, SMS, WhatsApp) and webhook payload of the
    company that is, or may reach, ``email``, as one text."""
    from app.models import Notification, OutboxMessage

    db.session.rollback()
    person = factories.user(email)
    notices = db.session.scalars(select(Notification).where(Notification.user_id == person.id))
    out = [repr((n.event, n.params)) for n in notices]
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.tenant_id == person.tenant_id)):
        if message.channel == "webhook" or (message.notification is not None
                                            and message.notification.user_id == person.id):
            out.append(repr(message.payload))
    return "\n".join(out)


@pytest.fixture
def webhooks_everywhere(demo):
    """acme sends every webhook event to an endpoint (the rows are what leaves)."""
    from app.models.integration import WEBHOOK_EVENTS
    from app.services import webhooks

    webhooks.create_endpoint(factories.user(ADMIN), {"url": "http://127.0.0.1:9/hook",
                                                     "events": list(WEBHOOK_EVENTS)})
    db.session.commit()


def test_internal_notes_never_reach_the_requester_on_any_surface(webhooks_everywhere, api,
                                                                browser):
    req, task = factories.request_at("Task_Work")
    worker = api(WORKER)
    comment(worker, req.id, f"Nota interna: {SECRET}", internal=True)
    comment(api(DIRECTOR), req.id, f"Para el equipo: {SECRET} @{HEAD}", internal=True)
    requester, page = api(REQUESTER), browser(REQUESTER)
    history = requester.get(f"/api/v1/requests/{req.id}/history?per_page=100")
    assert SECRET not in history.get_data(as_text=True)
    assert SECRET not in requester.get(f"/api/v1/requests/{req.id}").get_data(as_text=True)
    for url in (f"/requests/{req.id}", "/notifications", "/inbox", "/requests",
                f"/search?q={SECRET}"):
        response = page.get(url)
        assert response.status_code in (200, 302), url
        body = response.get_data(as_text=True)
        assert SECRET not in (results_of(body) if url.startswith("/search") else body), url
    assert SECRET not in everything_said_to(REQUESTER)
    for url in ("/indicators/export/requests.csv", "/indicators/export/tickets.csv"):
        assert SECRET.encode() not in page.get(url).get_data(), url
    # the worker finishes and the requester confirms: still nothing
    from app.services import workflow

    workflow.complete(factories.user(WORKER), factories.open_task(req, "Task_Work"), "finish",
                      {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"})
    db.session.commit()
    assert SECRET not in everything_said_to(REQUESTER)
    confirm = factories.open_task(req, "Task_Confirm")
    for url in (f"/tasks/{confirm.id}", f"/tickets/{req.ticket.id}", f"/requests/{req.id}"):
        response = page.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.get_data(as_text=True), url
    assert SECRET not in requester.get(f"/api/v1/tasks/{confirm.id}").get_data(as_text=True)
    # those who read internal notes were told (so the check above could fail)
    assert SECRET in everything_said_to(HEAD)  # mentioned
    assert SECRET in api(DIRECTOR).get(
        f"/api/v1/requests/{req.id}/history?per_page=100").get_data(as_text=True)


def test_an_internal_note_may_not_be_written_by_who_cannot_read_them(demo, api, browser):
    req, _task = factories.request_at("Task_Work")
    before = history_count(req.id)
    response = api(REQUESTER).post(f"/api/v1/requests/{req.id}/comments",
                                   {"comment": "Me cuelo", "internal": True})
    assert response.status_code == 422
    response = browser(REQUESTER).post(f"/requests/{req.id}/comments",
                                       {"comment": "Me cuelo", "internal": "true"})
    assert response.status_code in (302, 303)
    for value in ("yes", "1", "on", "True", ["true"], {"a": 1}, "maybe", 2):
        response = api(REQUESTER).post(f"/api/v1/requests/{req.id}/comments",
                                       {"comment": "Me cuelo", "internal": value})
        assert response.status_code == 422, value
    assert history_count(req.id) == before


def test_mentions_never_tell_someone_of_what_they_may_not_open(demo, api):
    req, _task = factories.request_at("Task_Work")
    globex_worker = factories.user(GLOBEX[2])
    maria, requester = factories.user(OTHER_UNIT), factories.user(REQUESTER)
    before = history_count(req.id)
    attempts = [
        ({"comment": f"Mira @{OTHER_UNIT}"}, "another unit"),
        ({"comment": f"Mira @{GLOBEX[2]}"}, "another company by e-mail"),
        ({"comment": "Mira", "mention_ids": [globex_worker.id]}, "another company by id"),
        ({"comment": "Mira", "mention_ids": [maria.id]}, "another unit by id"),
        ({"comment": f"Mira @{WORKER2}"}, "a worker without the ticket"),
        ({"comment": f"Interna @{REQUESTER}", "internal": True}, "the requester, internally"),
        ({"comment": "Interna", "mention_ids": [requester.id], "internal": True},
         "the requester by id, internally"),
        ({"comment": " ".join(f"@u{i}@acme.test" for i in range(25))}, "too many"),
        ({"comment": "x", "mention_ids": list(range(1, 5000))}, "thousands of ids"),
        ({"comment": "x", "mention_ids": ["abc"]}, "a word as id"),
        ({"comment": "x", "mention_ids": [2**40]}, "an id past 32 bits"),
        ({"comment": "x", "mention_ids": "1,2"}, "ids as text"),
    ]
    for body, what in attempts:
        response = api(WORKER).post(f"/api/v1/requests/{req.id}/comments", body)
        assert response.status_code == 422, (what, response.status_code)
    assert history_count(req.id) == before
    for email in (OTHER_UNIT, GLOBEX[2], WORKER2):
        assert "request.mention" not in everything_said_to(email), email


def test_following_needs_sight_of_the_request_and_ends_with_it(demo, api, browser):
    req, _task = factories.request_at("Task_Work")
    for email in (OTHER_UNIT, OTHER_HEAD, WORKER2, *GLOBEX):
        client = api(email)
        for method in ("put", "post", "delete"):
            response = getattr(client, method)(f"/api/v1/requests/{req.id}/followers/me")
            assert response.status_code == 404, (email, method)
        assert client.get(f"/api/v1/requests/{req.id}/followers").status_code == 404, email
        page = browser(email)
        assert page.post(f"/requests/{req.id}/follow").status_code == 404, email
        assert page.post(f"/requests/{req.id}/unfollow").status_code == 404, email
        assert str(req.number) not in page.get("/following").get_data(as_text=True), email
    # the worker follows, then the ticket goes to another worker: no more news
    assert api(WORKER).put(f"/api/v1/requests/{req.id}/followers/me").status_code in (200,
                                                                                      201, 204)
    ticket_id = req.ticket.id
    response = api(DIRECTOR).post(f"/api/v1/tickets/{ticket_id}/reassign",
                                  {"worker_id": factories.user(WORKER2).id})
    assert response.status_code == 200, response.json
    said_before = everything_said_to(WORKER)
    comment(api(REQUESTER), req.id, "Novedad publica despues del cambio")
    comment(api(WORKER2), req.id, f"Interna despues del cambio {SECRET}", internal=True)
    said_after = everything_said_to(WORKER)
    assert "Novedad publica" not in said_after and SECRET not in said_after
    assert len(said_after) - len(said_before) < 400  # at most the unassignment itself
    assert api(WORKER).get(f"/api/v1/requests/{req.id}").status_code == 404
    assert str(req.number) not in browser(WORKER).get("/following").get_data(as_text=True)
    # CSRF on the follow buttons
    page = browser(HEAD)
    assert page.post(f"/requests/{req.id}/follow", {"csrf_token": "forged"}).status_code == 400


CANNED_ESCAPES = [
    "{{ ''.__class__ }}", "{{ request_title.__class__.__mro__[1].__subclasses__() }}",
    "{{ request_title|attr('__class__') }}", "{{ request_title['__class__'] }}",
    "{{ config }}", "{{ self }}", "{{ cycler }}", "{{ lipsum(1000) }}", "{{ range(10) }}",
    "{{ namespace() }}", "{{ request }}", "{{ g }}", "{{ url_for('x') }}",
    "{% for i in range(100000000) %}x{% endfor %}", "{% set x = 1 %}{{ x }}",
    "{% macro m() %}x{% endmacro %}", "{% include 'base.html' %}", "{% extends 'base.html' %}",
    "{% import 'x' as y %}", "{{ request_title * 100000 }}", "{{ 9 ** 9 ** 9 }}",
    "{{ '%s' % request_title }}", "{{ request_title|format('x') }}",
    "{{ request_title|replace('a', request_title) }}", "{{ request_title|join }}",
    "{{ request_title|list }}", "{{ request_title|map('upper') }}", "{{ -1 }}",
    "{{ request_title|truncate(10 ** 9)|truncate(10) }}", "{{ (1, 2) }}", "{{ [1, 2] }}",
    "{{ {'a': 1} }}", "{{ requester_name if request_title.startswith('x') }}",
    "{{ unknown_variable }}", "{{ comment }}", "{{ link }}",
    "{% if 1 %}" * 40 + "x" + "{% endif %}" * 40,
    "{{ " + " ~ ".join(["request_title"] * 11) + " }}",
    "{{ request_title }}" * 61, "{{ '" + "a" * 2001 + "' }}", "{{ 1" + "0" * 5000 + " }}",
    "{{ request_title", "{% if %}", "{% endif %}", "x" * 4001,
]


@pytest.mark.parametrize("body", CANNED_ESCAPES, ids=range(len(CANNED_ESCAPES)))
def test_canned_responses_cannot_escape_the_sandbox(demo, api, browser, body):
    response = api(ADMIN).post("/api/v1/admin/canned-responses",
                               {"title": "Hostil", "body": body})
    assert response.status_code == 422, (body[:60], response.status_code)
    page = browser(ADMIN)
    response = page.post("/canned-responses/new", {"title": "Hostil", "body": body})
    assert response.status_code in (200, 422), (body[:60], response.status_code)
    from app.conversation.models import CannedResponse

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CannedResponse)) == 0


def test_canned_responses_show_values_as_text_and_only_to_the_service_units_people(demo, api,
                                                                                  browser):
    req, _task = factories.request_at("Task_Work")
    ana = factories.user(REQUESTER)
    ana.name = "{{ request_title.__class__ }} <script>alert(1)</script>"
    db.session.commit()
    response = api(ADMIN).post("/api/v1/admin/canned-responses", {
        "title": "Saludo", "body": "Hola {{ requester_name }}, su {{ request_number }}: "
                                   "{{ request_title|upper }}"})
    assert response.status_code == 201, response.json
    canned_id = response.json["id"]
    rendered = api(WORKER).get(
        f"/api/v1/requests/{req.id}/canned-responses/{canned_id}/render")
    assert rendered.status_code == 200
    text = rendered.get_data(as_text=True)
    assert "{{ request_title.__class__ }}" in text and "<class" not in text
    page = browser(WORKER).get(f"/requests/{req.id}?canned={canned_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    for email in (REQUESTER, OTHER_UNIT, WORKER2, *GLOBEX):
        assert api(email).get(f"/api/v1/requests/{req.id}/canned-responses/{canned_id}"
                              "/render").status_code in (403, 404), email
        assert browser(email).get(
            f"/requests/{req.id}/canned/{canned_id}").status_code == 404, email
    # a director edits only their units' ones, never the company's, nor another company's
    assert api(DIRECTOR).patch(f"/api/v1/admin/canned-responses/{canned_id}",
                               {"body": "x"}).status_code in (403, 404)
    assert api(GLOBEX[1]).get(f"/api/v1/admin/canned-responses/{canned_id}").status_code == 404
    assert api(GLOBEX[1]).delete(
        f"/api/v1/admin/canned-responses/{canned_id}").status_code == 404
    assert api(REQUESTER).post("/api/v1/admin/canned-responses",
                               {"title": "x", "body": "x"}).status_code in (403, 404)
    unit_of_globex = factories.user(GLOBEX[1]).unit_ids("service_director")
    response = api(DIRECTOR).post("/api/v1/admin/canned-responses", {
        "title": "Ajena", "body": "x", "service_unit_id": sorted(unit_of_globex)[0]})
    assert response.status_code == 422


# === reassign and re-plan ====================================================================

def test_only_the_units_director_reassigns_or_replans(demo, api, browser):
    from datetime import date, timedelta

    req, _task = factories.request_at("Task_Work")
    ticket_id = req.ticket.id
    worker2 = factories.user(WORKER2).id
    soon = {"planned_start": date.today().isoformat(),
            "planned_end": (date.today() + timedelta(days=9)).isoformat()}
    expected = {REQUESTER: (403, 404), HEAD: (403, 404), WORKER: (403,), WORKER2: (404,),
                ADMIN: (403,), OTHER_UNIT: (404,), OTHER_HEAD: (404,),
                GLOBEX[0]: (404,), GLOBEX[1]: (404,), GLOBEX[2]: (404,)}
    for email, statuses in expected.items():
        client = api(email)
        response = client.post(f"/api/v1/tickets/{ticket_id}/reassign", {"worker_id": worker2})
        assert response.status_code in statuses, (email, response.status_code)
        response = client.post(f"/api/v1/tickets/{ticket_id}/replan", soon)
        assert response.status_code in statuses, (email, response.status_code)
        page = browser(email)
        for url, form in ((f"/tickets/{ticket_id}/reassign", {"worker_id": str(worker2)}),
                          (f"/tickets/{ticket_id}/replan", soon)):
            response = page.post(url, form)
            assert response.status_code in (303, 403, 404), (email, url)
    db.session.rollback()
    ticket = db.session.get(type(req.ticket), ticket_id)
    assert ticket.worker_id == factories.user(WORKER).id
    assert not db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
        HistoryEvent.request_id == req.id,
        HistoryEvent.action.in_(("reassigned", "replanned"))))


BAD_REASSIGNS = {
    "a worker of another company": lambda: factories.user(GLOBEX[2]).id,
    "the requester": lambda: factories.user(REQUESTER).id,
    "the director": lambda: factories.user(DIRECTOR).id,
    "the same worker": lambda: factories.user(WORKER).id,
    "no one": lambda: None,
    "zero": lambda: 0,
    "negative": lambda: -1,
    "past 32 bits": lambda: 2**31,
    "huge": lambda: 10**30,
    "a word": lambda: "tecnico2",
    "a list": lambda: [factories.user(WORKER2).id],
    "a float": lambda: 1.5,
    "true": lambda: True,
}


@pytest.mark.parametrize("what", list(BAD_REASSIGNS))
def test_reassigning_to_anyone_but_another_worker_of_the_unit_is_422(demo, api, what):
    req, _task = factories.request_at("Task_Work")
    response = api(DIRECTOR).post(f"/api/v1/tickets/{req.ticket.id}/reassign",
                                  {"worker_id": BAD_REASSIGNS[what]()})
    assert response.status_code in (400, 422), (what, response.status_code)


BAD_PLANS = {
    "end before start": ("2030-05-10", "2030-05-01"),
    "end in the past": ("2000-01-01", "2000-01-02"),
    "31 February": ("2030-02-31", "2030-03-01"),
    "year 0": ("0000-01-01", "2030-01-01"),
    "year 10000": ("2030-01-01", "10000-01-01"),
    "a timestamp": ("2030-01-01T00:00:00", "2030-01-02T00:00:00"),
    "a number": (20300101, 20300102),
    "empty": ("", ""),
    "missing": (None, None),
    "a list": (["2030-01-01"], ["2030-01-02"]),
    "text": ("mañana", "pasado"),
    "a NUL": ("2030-01-01\x00", "2030-01-02"),
}


@pytest.mark.parametrize("what", list(BAD_PLANS))
def test_nonsense_planned_dates_are_422(demo, api, browser, what):
    req, _task = factories.request_at("Task_Work")
    start, end = BAD_PLANS[what]
    response = api(DIRECTOR).post(f"/api/v1/tickets/{req.ticket.id}/replan",
                                  {"planned_start": start, "planned_end": end})
    assert response.status_code in (400, 422), (what, response.status_code)
    if isinstance(start, str) and "\x00" not in start:
        response = browser(DIRECTOR).post(f"/tickets/{req.ticket.id}/replan",
                                          {"planned_start": start, "planned_end": end})
        assert response.status_code == 303, what
    db.session.rollback()
    assert not db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "replanned"))


def test_no_reassign_nor_replan_once_finished_and_forms_need_csrf(demo, api, browser):
    from app.services import workflow

    req, _task = factories.request_at("Task_Work")
    ticket_id = req.ticket.id
    page, worker2 = browser(DIRECTOR), factories.user(WORKER2).id
    db.session.rollback()
    response = page.post(f"/tickets/{ticket_id}/reassign",
                         {"worker_id": str(worker2), "csrf_token": "x"})
    assert response.status_code == 400
    workflow.complete(factories.user(WORKER), factories.open_task(req, "Task_Work"), "finish",
                      {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"})
    db.session.commit()
    response = api(DIRECTOR).post(f"/api/v1/tickets/{ticket_id}/reassign",
                                  {"worker_id": factories.user(WORKER2).id})
    assert response.status_code == 422
    response = api(DIRECTOR).post(f"/api/v1/tickets/{ticket_id}/replan", {
        "planned_start": "2030-01-01", "planned_end": "2030-01-02"})
    assert response.status_code == 422


@POSTGRESQL_ONLY
def test_two_directors_reassigning_at_once_one_wins(demo, app, api):
    import threading

    req, _task = factories.request_at("Task_Work")
    ticket_id = req.ticket.id
    client = api(DIRECTOR)
    revision = client.get(f"/api/v1/tickets/{ticket_id}").json["revision"]
    workers = [factories.user(WORKER2).id, factories.user(WORKER).id]
    # one to tecnico2 and, from the same revision, one that changes the dates
    bodies = [("reassign", {"worker_id": workers[0], "revision": revision}),
              ("replan", {"planned_start": "2030-01-01", "planned_end": "2030-01-09",
                          "revision": revision})] * 3
    results, barrier = [], threading.Barrier(len(bodies))

    def send(kind, body):
        barrier.wait()
        results.append(client.post(f"/api/v1/tickets/{ticket_id}/{kind}", body).status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(200) == 1, results
    assert set(results) <= {200, 409}, results
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
        HistoryEvent.request_id == req.id,
        HistoryEvent.action.in_(("reassigned", "replanned")))) == 1


@POSTGRESQL_ONLY
def test_two_uploads_at_once_cannot_pass_the_storage_quota_together(demo, app, api, store,
                                                                    monkeypatch):
    """A company with 1 MB of storage left sends two 600 KB files at the same moment from
    two sessions: each upload counts what is stored, so without a lock both see 0 used."""
    import dataclasses
    import threading

    from app.tenancy import quotas

    real_plan_of = quotas.plan_of
    monkeypatch.setattr(quotas, "plan_of",
                        lambda tenant: dataclasses.replace(real_plan_of(tenant), storage_mb=1))
    req_id = factories.file().id
    clients = [api(REQUESTER), api(REQUESTER)]
    barrier, results = threading.Barrier(2), []

    def send(client, name):
        barrier.wait()
        results.append(api_upload(client, req_id, (b"z" * 600_000 + b"\n", name)).status_code)

    threads = [threading.Thread(target=send, args=(c, f"{i}.txt"))
               for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = sum(row.size for row in attachment_rows(req_id))
    assert stored <= 1024 * 1024, (results, stored)
    assert sorted(results) == [201, 403], results


# === every list and page: hostile query strings ==============================================

HOSTILE_QUERY = {
    "page": "-1", "per_page": "1000000", "size": "0", "sort": "id;DROP TABLE users",
    "order": "desc'", "dir": "sideways", "q": "' OR 1=1 --", "status": SCRIPT,
    "unit_id": "abc", "category_id": "1e9", "service_unit_id": "99999999999999999999",
    "worker_id": "-5", "from": "2026-13-45", "to": "x", "sla": "<b>", "state": "../../",
    "kind": "{{7*7}}", "canned": "abc", "next": "//evil.example/",
}
ROLES = (REQUESTER, HEAD, DIRECTOR, WORKER, ADMIN)


def _plain_get_rules(app, prefix: str) -> list[str]:
    skip = ("/static", "/logout", "/login", "/export", "/exports", "/bench")
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments
                   and rule.rule.startswith("/api/") == (prefix == "/api/")
                   and not any(part in rule.rule for part in skip)})


@pytest.mark.parametrize("email", ROLES)
def test_no_page_or_list_answers_a_hostile_query_string_with_a_500(demo, app, browser, email):
    page = browser(email)
    for url in _plain_get_rules(app, "/"):
        if url.startswith("/api/"):
            continue
        for params in (HOSTILE_QUERY, {"page": "99999999999999999999", "per_page": "abc"},
                       {"page": "1", "sort": "-" * 500, "q": "x" * 5000}):
            response = page.get(url + "?" + urlencode(params))
            assert response.status_code < 500, (email, url, response.status_code)


@pytest.mark.parametrize("email", ROLES)
def test_no_api_list_answers_a_hostile_query_string_with_a_500(demo, app, api, email):
    client = api(email)
    for url in _plain_get_rules(app, "/api/"):
        for params in (HOSTILE_QUERY, {"page": "99999999999999999999", "per_page": "abc"}):
            response = client.get(url + "?" + urlencode(params))
            assert response.status_code < 500, (email, url, response.status_code)


def test_the_incidents_page_takes_any_page_number(demo, browser):
    page = browser(ADMIN)
    for value in ("99999999999999999999", "-1", "0", "abc", "1e9"):
        response = page.get(f"/processes/incidents?page={value}")
        assert response.status_code == 200, value


# === a second service unit, and reopening ====================================================

SISTEMAS_DIRECTOR = "director.sistemas@acme.test"
SISTEMAS_WORKER = "tecnico.sistemas@acme.test"


@pytest.fixture
def sistemas(demo):
    """acme's second service unit, Sistemas, with its own director and worker."""
    from app.models import Membership, Unit, User

    admin = factories.user(ADMIN)
    unit = Unit(tenant_id=admin.tenant_id, name="Sistemas", is_service_unit=True)
    db.session.add(unit)
    db.session.flush()
    for email, role in ((SISTEMAS_DIRECTOR, "service_director"), (SISTEMAS_WORKER, "worker")):
        person = User(tenant_id=admin.tenant_id, email=email, name=email.split("@")[0])
        person.set_password("demo1234")
        db.session.add(person)
        db.session.flush()
        db.session.add(Membership(tenant_id=admin.tenant_id, user_id=person.id, role=role,
                                  unit_id=unit.id))
    db.session.commit()
    return unit.id


def test_another_service_units_people_reach_nothing_of_this_one(sistemas, api, browser,
                                                                store):
    req, _task = factories.request_at("Task_Work")
    ticket_id = req.ticket.id
    comment(api(WORKER), req.id, f"Interna {SECRET}", internal=True)
    page_upload(browser(REQUESTER), req.id, (PDF, "factura.pdf"))
    [row] = attachment_rows(req.id)
    for email in (SISTEMAS_DIRECTOR, SISTEMAS_WORKER):
        client = api(email)
        assert client.post(f"/api/v1/tickets/{ticket_id}/reassign", {
            "worker_id": factories.user(SISTEMAS_WORKER).id}).status_code == 404, email
        assert client.post(f"/api/v1/tickets/{ticket_id}/replan", {
            "planned_start": "2030-01-01", "planned_end": "2030-01-02"}).status_code == 404
        assert client.get(f"/api/v1/requests/{req.id}/attachments/{row.id}").status_code == 404
        assert client.put(f"/api/v1/requests/{req.id}/followers/me").status_code == 404
        assert found_ids(client, SECRET) == set() and found_ids(client, "bombillo") <= set()
        assert browser(email).get(f"/requests/{req.id}").status_code == 404
    # the unit's own director cannot hand the ticket to the other unit's worker
    response = api(DIRECTOR).post(f"/api/v1/tickets/{ticket_id}/reassign",
                                  {"worker_id": factories.user(SISTEMAS_WORKER).id})
    assert response.status_code == 422
    # nor mention the other unit's people
    response = api(WORKER).post(f"/api/v1/requests/{req.id}/comments",
                                {"comment": f"Mira @{SISTEMAS_DIRECTOR}"})
    assert response.status_code == 422
    # canned responses of the other unit are neither usable here nor editable by this one's
    response = api(SISTEMAS_DIRECTOR).post("/api/v1/admin/canned-responses", {
        "title": "Sistemas", "body": "Hola", "service_unit_id": sistemas})
    assert response.status_code == 201, response.json
    canned_id = response.json["id"]
    assert api(WORKER).get(f"/api/v1/requests/{req.id}/canned-responses/{canned_id}"
                           "/render").status_code == 404
    usable = api(WORKER).get(f"/api/v1/requests/{req.id}/canned-responses").json
    items = usable["items"] if isinstance(usable, dict) else usable
    assert canned_id not in {item["id"] for item in items}
    for method, body in (("patch", {"body": "Cambiado"}), ("delete", None)):
        args = (f"/api/v1/admin/canned-responses/{canned_id}",) + ((body,) if body else ())
        assert getattr(api(DIRECTOR), method)(*args).status_code in (403, 404), method


def test_reopening_is_the_requesters_and_bounded(demo, api):
    from app.services import workflow

    req, _task = factories.request_at("Task_Work")
    workflow.complete(factories.user(WORKER), factories.open_task(req, "Task_Work"), "finish",
                      {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"})
    db.session.commit()
    confirm_id = factories.open_task(req, "Task_Confirm").id
    url = f"/api/v1/tasks/{confirm_id}/complete"
    for email in (WORKER, DIRECTOR, HEAD, OTHER_UNIT, GLOBEX[0]):
        response = api(email).post(url, {"kind": "reopen", "reason": "No sirve"})
        assert response.status_code in (403, 404), (email, response.status_code)
    client = api(REQUESTER)
    for body in ({"kind": "reopen"}, {"kind": "reopen", "reason": "   "},
                 {"kind": "reopen", "reason": "x" * 100_000},
                 {"kind": "reopen", "reason": ["No"]}, {"kind": "reopen", "reason": None},
                 {"kind": "reopen\u202e", "reason": "x"}, {"kind": "__class__"}):
        response = client.post(url, body)
        assert response.status_code in (400, 422), (body.get("kind"), response.status_code)
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).status != "in_service"
    # the answer's own 'solved' is the handler's to write: one sent along is not taken
    response = client.post(url, {"kind": "reopen", "reason": "No sirve", "solved": True})
    assert response.status_code in (200, 201)
    db.session.rollback()
    reopened = db.session.get(ServiceRequest, req.id)
    assert (reopened.status, reopened.ticket.status) == ("in_service", "in_progress")
    assert client.post(url, {"kind": "reopen", "reason": "Otra vez"}).status_code in (404, 409,
                                                                                     422)
