"""Exports written as CSV or XLSX and streamed to the browser or the API caller.

- **CSV**: a generator that writes the header, then the rows as the batches arrive, handing
  the server a chunk every ``CHUNK`` bytes: the first bytes leave before the second batch is
  read and memory holds one batch whatever the number of rows. UTF-8 with a byte-order mark,
  so that Excel reads accents right; comma-separated (RFC 4180), numbers with a decimal point,
  date-times ``YYYY-MM-DD HH:MM`` in the company's zone.
- **XLSX**: XlsxWriter in ``constant_memory`` mode, which writes each row to a temporary file
  as it comes (memory stays flat), into a spooled temporary file; a zip (an .xlsx is one) is
  only complete when closed, and XlsxWriter cannot write one progressively, so the file is
  written whole first and then streamed in chunks. A sheet holds 1,048,576 rows at most: the
  rows past that go on to a second sheet ("Requests (2)"), so no row is ever dropped.
  Text is written with ``write_string``, never as a formula, numbers as numbers, dates as
  dates (cells formatted ``yyyy-mm-dd hh:mm``). A cell holds at most 32,767 characters: a
  longer text (a comment) is cut there in the XLSX (the CSV has it whole).

CSV injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (or the fullwidth ``＝＋－＠``, which spreadsheets read as the same) is what a
spreadsheet would run as a formula; in CSV it gets a leading apostrophe (``'=cmd|...``), shown
but not run. An XLSX cell written as a string is never a formula, so it keeps the text as
typed.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from flask import Response, stream_with_context
from werkzeug.utils import secure_filename

from app.indicators.exports import Table
from app.indicators.exports_columns import DATE, DATETIME, HOURS, INT, MONEY, TEXT, VALUE

CHUNK = 64 * 1024
SPOOL = 4 * 1024 * 1024  # an XLSX file under this stays in memory, a larger one on disk
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
XLSX_MAX_ROWS = 1_048_576  # rows of a sheet, the header included
XLSX_MAX_TEXT = 32_767
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def neutralised(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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

class _Formats:
    def __init__(self, workbook):
        self.header = workbook.add_format({"bold": True, "bg_color": "#E8ECF1",
                                           "bottom": 1})
        self.by_kind = {
            DATETIME: workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            DATE: workbook.add_format({"num_format": "yyyy-mm-dd"}),
            MONEY: workbook.add_format({"num_format": "#,##0.00"}),
            HOURS: workbook.add_format({"num_format": "0.00"}),
        }


WIDTHS = {TEXT: 24, INT: 10, MONEY: 14, HOURS: 10, DATE: 12, DATETIME: 17, VALUE: 16}


def _sheet(workbook, formats: _Formats, table: Table, title: str):
    sheet = workbook.add_worksheet(title[:31])
    for col, column in enumerate(table.columns):
        width = max(WIDTHS.get(column.kind, 12), min(len(column.header) + 2, 40))
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, column.header, formats.header)
    sheet.freeze_panes(1, 0)
    return sheet


def _cell_writer(formats: _Formats, kind: str):
    """How a column's cells are written: (sheet, row, col, value), value not None."""
    number_format = formats.by_kind.get(kind)
    if kind in (DATETIME, DATE):
        return lambda sheet, row, col, value: sheet.write_datetime(row, col, value,
                                                                   number_format)
    if kind in (MONEY, HOURS):
        return lambda sheet, row, col, value: sheet.write_number(row, col, float(value),
                                                                 number_format)
    if kind == INT:
        return lambda sheet, row, col, value: sheet.write_number(row, col, value)
    if kind == VALUE:
        by_kind = {k: _cell_writer(formats, k) for k in (DATETIME, DATE, MONEY, INT, TEXT)}
        return lambda sheet, row, col, value: by_kind[kind_of(value)](sheet, row, col, value)
    return lambda sheet, row, col, value: sheet.write_string(row, col,
                                                             str(value)[:XLSX_MAX_TEXT])


def write_xlsx(target, tables: Iterable[Table]) -> None:
    """Write ``tables`` (a sheet each, continued on more sheets past a sheet's row limit)
    into ``target`` (a path or a binary file object)."""
    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False})
    formats = _Formats(workbook)
    for table in tables:
        writers = [_cell_writer(formats, c.kind) for c in table.columns]
        part, sheet, row_number = 1, _sheet(workbook, formats, table, table.title), 0
        for values in table.rows():
            row_number += 1
            if row_number >= XLSX_MAX_ROWS:
                part += 1
                sheet = _sheet(workbook, formats, table, f"{table.title[:25]} ({part})")
                row_number = 1
            for col, (write, value) in enumerate(zip(writers, values, strict=True)):
                if value is not None:
                    write(sheet, row_number, col, value)
    workbook.close()


def xlsx_chunks(tables: Iterable[Table]) -> Iterator[bytes]:
    """The workbook's bytes: written whole to a spooled temporary file, then read back in
    chunks."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as out:
        write_xlsx(out, tables)
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk


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
