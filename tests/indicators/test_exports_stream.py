"""Exports stream and keep memory flat: rows are read in keyset batches (one query each, at
most ``BATCH`` rows), the first bytes of a CSV or an XLSX leave before the second batch is
read, a sheet past its row limit goes on in another, and a download dropped halfway leaves
nothing behind. Not timed: statements and allocations are counted."""

import math
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.indicators import exports, exports_formats, filters
from app.models import ServiceRequest
from app.tenancy import isolation
from tests import factories
from tests.indicators.exports_helpers import (
    batch_reads,
    counted,
    csv_dicts,
    download,
    many_requests,
    many_tickets,
    read_xlsx,
    sheet_dicts,
    xlsx_book,
)
from tests.sla.sla_walks import in_english

ADMIN = "admin@acme.test"
MARCH = "from=2026-03-01&to=2026-03-31"
MANY = 3100



@pytest.fixture
def many(demo):
    """3,100 requests filed in March 2026, a minute apart but for a run of 50 filed at the
    same instant (ties in the keyset order), and globex's 20 the same days. The admin reads
    English."""
    in_english(ADMIN)
    ids = many_requests(MANY - 50)
    ids += many_requests(50, start=datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
                         apart=timedelta(0))
    many_requests(20, slug="globex")
    return ids


def test_a_csv_of_3100_requests_streams_batch_by_batch(many, browser):
    client = browser(ADMIN)
    with counted() as statements:
        response = download(client, f"/indicators/export/requests.csv?{MARCH}")
        assert response.status_code == 200 and response.is_streamed
        # The header has left (the test client takes the first chunk) before any row is read
        assert batch_reads(statements) == []
        chunks = iter(response.response)
        header = next(chunks)
        assert header.startswith(b"\xef\xbb\xbf")
        first_rows = next(chunks)
        assert first_rows and len(batch_reads(statements)) == 1  # the first batch only
        body = header + first_rows + b"".join(chunks)
        response.close()
    reads = batch_reads(statements)
    assert len(reads) == math.ceil(MANY / exports.BATCH) == 4
    text = body.decode("utf-8-sig").splitlines()
    assert len(text) == MANY + 1
    numbers = [line.split(",", 1)[0] for line in text[1:]]
    expected = list(db.session.scalars(
        select_numbers().order_by(ServiceRequest.created_at, ServiceRequest.id)))
    assert numbers == expected  # every request once, in filing order (ties by id)


def select_numbers():
    return select(ServiceRequest.number).where(ServiceRequest.number.like("B-acme-%"))


def test_a_xlsx_of_3100_requests_has_every_row(many, browser):
    with counted() as statements:
        response = download(browser(ADMIN), f"/indicators/export/requests.xlsx?{MARCH}")
        assert response.is_streamed
        book = xlsx_book(response)
    assert len(batch_reads(statements)) == 4
    rows = sheet_dicts(book.worksheets[0])
    assert len(rows) == MANY
    assert len({row["Number"] for row in rows}) == MANY


def test_a_xlsx_of_3100_requests_streams_batch_by_batch(many, browser, monkeypatch):
    """The workbook's opening parts leave before any row is read, its rows as each batch is
    written, its closing parts at the end: the same file as read whole."""
    monkeypatch.setattr(exports_formats, "CHUNK", 1024)
    with counted() as statements:
        response = download(browser(ADMIN), f"/indicators/export/requests.xlsx?{MARCH}")
        assert response.status_code == 200 and response.is_streamed
        chunks = iter(response.response)
        head = next(chunks)
        assert head.startswith(b"PK\x03\x04") and batch_reads(statements) == []
        first_rows = next(chunks)  # compressed rows of the first batch
        assert first_rows and len(batch_reads(statements)) == 1
        while len(batch_reads(statements)) == 1:  # the rest of the first batch's rows
            first_rows += next(chunks)
        body = head + first_rows + b"".join(chunks)
        response.close()
    assert len(batch_reads(statements)) == 4
    rows = sheet_dicts(read_xlsx(body).worksheets[0])
    expected = list(db.session.scalars(
        select_numbers().order_by(ServiceRequest.created_at, ServiceRequest.id)))
    assert [row["Number"] for row in rows] == expected


def test_the_batch_size_bounds_the_rows_each_query_reads(many, app, monkeypatch):
    """Every read of rows is a keyset query with LIMIT ``BATCH``: however many rows, an
    export holds one batch."""
    monkeypatch.setattr(exports, "BATCH", 500)
    admin = factories.user(ADMIN)
    with app.test_request_context(), counted() as statements:
        f = filters.parse(admin, {"from": "2026-03-01", "to": "2026-03-31"})
        table = exports.requests_table(admin, f)
        seen = 0
        for _values in table.rows():
            seen += 1
            assert len(batch_reads(statements)) == math.ceil(seen / 500)
    reads = batch_reads(statements)
    assert seen == MANY and len(reads) == math.ceil(MANY / 500)
    for statement, parameters in statements:
        if statement in reads:
            values = parameters.values() if isinstance(parameters, dict) else parameters
            assert 500 in list(values), statement  # the LIMIT


def _peak(app, admin, size: int) -> int:
    """The most memory Python held while writing March's CSV with batches of ``size``."""
    with app.test_request_context():
        f = filters.parse(admin, {"from": "2026-03-01", "to": "2026-03-31"})
        table = exports.requests_table(admin, f, size=size)
        tracemalloc.start()
        try:
            for _chunk in exports_formats.csv_chunks(table):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_memory_follows_the_batch_not_the_rows(many, app):
    admin = factories.user(ADMIN)
    _peak(app, admin, 250)  # warm: compiled statements, translations
    batched = _peak(app, admin, 250)
    whole = _peak(app, admin, MANY)  # one batch holding every row
    assert batched * 3 < whole, (batched, whole)


def test_tickets_stream_in_batches_with_ties(many, browser, monkeypatch):
    many_tickets(many[:1200])  # all assigned at the same instant
    monkeypatch.setattr(exports, "BATCH", 500)
    with counted() as statements:
        rows = csv_dicts(download(browser(ADMIN), f"/indicators/export/tickets.csv?{MARCH}"))
    assert len(batch_reads(statements, "tickets")) == 3
    assert len(rows) == 1200 and len({row["Ticket"] for row in rows}) == 1200
    # Helpers are read once per batch, not per ticket
    helper_reads = [s for s, _ in statements if "ticket_helpers" in s]
    assert len(helper_reads) == 3


def test_a_sheet_past_its_row_limit_goes_on_in_another(demo, browser, monkeypatch):
    in_english(ADMIN)
    many_requests(12)
    monkeypatch.setattr(exports_formats, "XLSX_MAX_ROWS", 6)  # a header and 5 rows
    book = xlsx_book(download(browser(ADMIN), f"/indicators/export/requests.xlsx?{MARCH}"))
    assert book.sheetnames == ["Requests", "Requests (2)", "Requests (3)"]
    counts = [len(sheet_dicts(sheet)) for sheet in book.worksheets]
    assert counts == [5, 5, 2]
    numbers = [row["Number"] for sheet in book.worksheets for row in sheet_dicts(sheet)]
    assert len(set(numbers)) == 12


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_download_dropped_halfway_leaves_nothing_behind(many, browser, monkeypatch, fmt):
    monkeypatch.setattr(exports_formats, "CHUNK", 1024)
    tenant_id = factories.user(ADMIN).tenant_id
    response = download(browser(ADMIN), f"/indicators/export/requests.{fmt}?{MARCH}")
    chunks = iter(response.response)
    next(chunks), next(chunks)
    assert isolation.current() == tenant_id  # inside the export: the company's scope
    response.close()  # the client went away
    assert isolation.current() == isolation.PLATFORM  # the test's scope again
    # No transaction left open: a write goes through
    db.session.rollback()
    factories.user(ADMIN).locale = "en"
    db.session.commit()
