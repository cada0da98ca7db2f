"""Exports written as CSV or XLSX and streamed to the browser or the API caller.

- **CSV**: a generator that writes the header, then the rows as the batches arrive, handing
  the server a chunk every ``CHUNK`` bytes: the first bytes leave before the second batch is
  read and memory holds one batch whatever the number of rows. UTF-8 with a byte-order mark,
  so that Excel reads accents right; comma-separated (RFC 4180), numbers with a decimal point,
  date-times ``YYYY-MM-DD HH:MM`` in the company's zone.
- **XLSX**: streamed too (``exports_xlsx`` writes the workbook as a zip written as it goes):
  the parts that open the workbook leave at once, each sheet's rows as they are compressed
  (a chunk every ``CHUNK`` bytes), the parts that list the sheets last; memory holds a batch
  and the compressor's window whatever the number of rows. A sheet holds 1,048,576 rows at
  most (and its XML 2 GB): the rows past that go on to another sheet ("Requests (2)"), so no
  row is ever dropped. Text is an inline string, never a formula, numbers are numbers
  (money and hours formatted ``#,##0.00`` and ``0.00``), dates and date-times Excel's dates
  (``yyyy-mm-dd``, ``yyyy-mm-dd hh:mm``, the company's wall clock); the header is bold and
  frozen. A cell holds at most 32,767 characters: a longer text (a comment) is cut there in
  the XLSX (the CSV has it whole); control characters XML cannot hold are left out.

CSV injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (or the fullwidth ``＝＋－＠``, which spreadsheets read as the same) is what a
spreadsheet would run as a formula; in CSV it gets a leading apostrophe (``'=cmd|...``), shown
but not run. An XLSX cell written as a string is never a formula, so it keeps the text as
typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from flask import Response, stream_with_context
from werkzeug.utils import secure_filename

from app.indicators import exports_xlsx
from app.indicators.exports import Table
from app.indicators.exports_columns import DATE, DATETIME, HOURS, INT, MONEY, TEXT, VALUE

CHUNK = 64 * 1024
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
XLSX_MAX_ROWS = exports_xlsx.MAX_ROWS  # rows of a sheet, the header included
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def neutralised(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe: one
    that starts with a formula's sign, also after spaces (a spreadsheet that trims them on
    import, as LibreOffice can, would otherwise read ' =1+1' as a formula)."""
    trimmed = text.lstrip(" \u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                          "\u2008\u2009\u200a\u202f\u205f\u3000\n")
    return "'" + text if trimmed.startswith(FORMULA_STARTS) else text


# --- CSV ------------------------------------------------------------------------------------

def kind_of(value) -> str:
    """The kind of a value of a column of mixed values (``VALUE``)."""
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, Decimal):
        return MONEY
    if isinstance(value, int | float) and not isinstance(value, bool):
        return INT
    return TEXT


def csv_cell(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == VALUE:
        kind = kind_of(value)
    if kind == DATETIME:
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == DATE:
        return value.isoformat()
    if kind == TEXT or isinstance(value, str):
        return neutralised(str(value))
    return str(value)


def _csv_formatter(kind: str):
    """How a column's values are written (None: as they are; the csv module writes None as
    an empty field and numbers with ``str``)."""
    if kind == TEXT:
        return lambda value: neutralised(value) if isinstance(value, str) else value
    if kind == INT:
        return None
    return lambda value: csv_cell(kind, value)


def csv_chunks(table: Table) -> Iterator[bytes]:
    """The table as CSV bytes: the header first, then a chunk every ``CHUNK`` bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    formatters = [_csv_formatter(c.kind) for c in table.columns]
    writer.writerow([neutralised(h) for h in table.headers])
    yield (BOM + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for row in table.rows():
        writer.writerow([value if write is None or value is None else write(value)
                         for write, value in zip(formatters, row, strict=True)])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


# --- XLSX -----------------------------------------------------------------------------------

WIDTHS = {TEXT: 24, INT: 10, MONEY: 14, HOURS: 10, DATE: 12, DATETIME: 17, VALUE: 16}
CELLS = {
    TEXT: exports_xlsx.text_cell, INT: exports_xlsx.number_cell,
    MONEY: partial(exports_xlsx.number_cell, style=exports_xlsx.MONEY_STYLE),
    HOURS: partial(exports_xlsx.number_cell, style=exports_xlsx.HOURS_STYLE),
    DATE: exports_xlsx.date_cell, DATETIME: exports_xlsx.datetime_cell,
    VALUE: exports_xlsx.any_cell,
}


def _sheet(book: exports_xlsx.Workbook, table: Table, title: str) -> exports_xlsx.Sheet:
    widths = [max(WIDTHS.get(c.kind, 12), min(len(c.header) + 2, 40)) for c in table.columns]
    return book.sheet(title, table.headers, widths, [CELLS[c.kind] for c in table.columns],
                      max_rows=XLSX_MAX_ROWS)


def xlsx_chunks(tables: Iterable[Table]) -> Iterator[bytes]:
    """The workbook's bytes as they are written: the parts that open it at once, then a
    chunk whenever ``CHUNK`` bytes are compressed, the parts that close it last. A table is a
    sheet, continued on more sheets past a sheet's limits ("Requests (2)"...)."""
    out = exports_xlsx.Buffer()
    book = exports_xlsx.Workbook(out)
    yield out.take()
    for table in tables:
        part, sheet = 1, _sheet(book, table, table.title)
        with closing(table.rows()) as rows:
            for values in rows:
                if not sheet.add(values):
                    part += 1
                    sheet = _sheet(book, table, f"{table.title[:25]} ({part})")
                    sheet.add(values)
                if len(out) >= CHUNK:
                    yield out.take()
    book.close()
    yield out.take()


def write_xlsx(out, tables: Iterable[Table]) -> None:
    """Write ``tables`` as a workbook into the binary file ``out`` (the report's)."""
    for chunk in xlsx_chunks(tables):
        out.write(chunk)


# --- the response ---------------------------------------------------------------------------

def filename(stem: str, fmt: str) -> str:
    return f"{secure_filename(stem) or 'export'}.{fmt}"


def response(tables: list[Table], fmt: str, stem: str, single: Table | None = None) -> Response:
    """A streamed download of ``tables`` as ``fmt`` (csv or xlsx). CSV has one table:
    ``single`` when given (the figures' all-in-one), else the first."""
    if fmt == "csv":
        body, mimetype = csv_chunks(single or tables[0]), "text/csv"  # (charset added)
    else:
        body, mimetype = xlsx_chunks(tables), XLSX_TYPE
    return Response(stream_with_context(body), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename(stem, fmt)}"',
        "Cache-Control": "no-store"})
