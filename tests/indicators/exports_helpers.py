"""What the export tests share: reading a CSV or XLSX back, many requests and tickets written
straight to the rows, and a statement counter."""

import csv
import io
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

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
    return load_workbook(io.BytesIO(response.get_data()), read_only=False)


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
