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
import struct
import time
import tracemalloc
import zipfile
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.attachments import sniffing, storage
from app.attachments.models import Attachment
from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
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
