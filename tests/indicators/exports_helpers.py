"""What the export tests share: reading a CSV or XLSX back (an XLSX checked strictly as a
package first), many requests and tickets written straight to the rows, and a statement
counter."""

import csv
import io
import posixpath
import struct
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from lxml import etree
from openpyxl import load_workbook
from sqlalchemy import event, insert, select

from app.extensions import db
from app.models import Category, ServiceRequest, Tenant, Ticket, Unit, User


def download(browser, url):
    """A logged-in browser's GET, its body left unread (a streamed response stays one)."""
    with browser.app.app_context():
        return browser.client.get(url)


def csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def csv_dicts(response) -> list[dict]:
    header, *rows = csv_rows(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


def xlsx_book(response):
    return read_xlsx(response.get_data())


def read_xlsx(body: bytes, read_only: bool = False):
    """The workbook of ``body``, checked as a package first (``valid_package``)."""
    valid_package(body)
    return load_workbook(io.BytesIO(body), read_only=read_only)


CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ZIP64_EXTRA = 0x0001


def _local_extra_ids(body: bytes, info: zipfile.ZipInfo) -> list[int]:
    """The ids of the extra fields of ``info``'s local header."""
    header = body[info.header_offset:info.header_offset + 30]
    assert header[:4] == b"PK\x03\x04", info.filename
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_length
    extra, ids = body[start:start + extra_length], []
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        ids.append(kind)
        extra = extra[4 + size:]
    return ids


def valid_package(body: bytes) -> None:
    """An .xlsx checked as strictly as can be without Excel (LibreOffice is not here): a zip
    whose every part reads back with its checksum, with no ZIP64 header (some Excels refuse
    one on a small part), every XML part well-formed, every part with a content type, every
    relationship's target present, the workbook's sheets all there."""
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        assert package.testzip() is None
        names = package.namelist()
        assert len(names) == len(set(names)), names
        for info in package.infolist():
            assert ZIP64_EXTRA not in _local_extra_ids(body, info), info.filename
            assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
        xml = {name: etree.fromstring(package.read(name)) for name in names}
        types = xml["[Content_Types].xml"]
        defaults = {d.get("Extension") for d in types.iter(f"{CONTENT_TYPES}Default")}
        overrides = {o.get("PartName"): o.get("ContentType")
                     for o in types.iter(f"{CONTENT_TYPES}Override")}
        assert set(overrides) <= {f"/{name}" for name in names}, overrides
        for name in names:
            if name != "[Content_Types].xml":
                assert f"/{name}" in overrides or name.rsplit(".", 1)[-1] in defaults, name
        for name in names:
            if not name.endswith(".rels"):
                continue
            base = posixpath.dirname(posixpath.dirname(name))
            for rel in xml[name].iter(f"{RELATIONSHIPS}Relationship"):
                target = posixpath.normpath(posixpath.join(base, rel.get("Target")))
                assert target in names, (name, target)
        worksheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        sheets = [n for n, kind in overrides.items() if kind == worksheet]
        book = xml["xl/workbook.xml"]
        assert len(book.findall(".//{*}sheet")) == len(sheets) >= 1


def sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def sheet_dicts(sheet) -> list[dict]:
    header, *rows = sheet_rows(sheet)
    return [dict(zip(header, row, strict=True)) for row in rows]


@contextmanager
def counted():
    """Every SQL statement run inside, with its parameters."""
    statements = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def batch_reads(statements, table: str = "service_requests") -> list[str]:
    """The keyset batch reads among ``statements``: the SELECTs that order by filing (or
    assignment) time and id with a LIMIT."""
    return [s for s, _ in statements
            if s.lstrip().upper().startswith("SELECT") and "LIMIT" in s.upper()
            and f"ORDER BY {table}.created_at, {table}.id" in s]


def many_requests(count: int, slug: str = "acme", start: datetime | None = None,
                  title: str = "Pedido masivo", unit: str | None = None,
                  apart: timedelta = timedelta(minutes=1)) -> list[int]:
    """``count`` requests written straight to the rows (no workflow: a list of what was
    filed), filed ``apart`` from each other from ``start`` (zero: all at once); their ids."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    category = db.session.scalar(select(Category).where(Category.tenant_id == tenant.id)
                                 .order_by(Category.name))
    requester = db.session.scalar(select(User).where(User.tenant_id == tenant.id)
                                  .order_by(User.id))
    units = select(Unit).where(Unit.tenant_id == tenant.id, Unit.is_service_unit.is_(False))
    if unit is not None:
        units = units.where(Unit.name == unit)
    unit_row = db.session.scalar(units.order_by(Unit.id))
    start = start or datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    prefix = f"B-{slug}-{start:%Y%m%d%H%M}-"
    rows = [{"tenant_id": tenant.id, "number": f"{prefix}{i:06d}",
             "title": f"{title} {i}", "description": "", "category_id": category.id,
             "priority": "normal", "location": "", "requester_id": requester.id,
             "unit_id": unit_row.id, "service_unit_id": category.service_unit_id,
             "status": "pending_authorization", "created_at": start + apart * i,
             "updated_at": start + apart * i}
            for i in range(count)]
    db.session.execute(insert(ServiceRequest), rows)
    db.session.commit()
    return list(db.session.scalars(
        select(ServiceRequest.id).where(ServiceRequest.number.like(f"{prefix}%"))
        .order_by(ServiceRequest.id)))


def many_tickets(request_ids: list[int], worker_email: str = "tecnico1@acme.test",
                 at: datetime | None = None) -> None:
    """A ticket for each request, all assigned at the same instant ``at`` (ties in the
    keyset order)."""
    worker = db.session.scalar(select(User).where(User.email == worker_email))
    at = at or datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
    requests = db.session.execute(
        select(ServiceRequest.id, ServiceRequest.service_unit_id)
        .where(ServiceRequest.id.in_(request_ids))).all()
    db.session.execute(insert(Ticket), [
        {"tenant_id": worker.tenant_id, "number": f"BULK-TKT-{i:06d}", "request_id": rid,
         "service_unit_id": unit_id, "worker_id": worker.id, "status": "pending",
         "planned_start": at.date(), "planned_end": at.date(), "created_at": at}
        for i, (rid, unit_id) in enumerate(requests)])
    db.session.commit()
