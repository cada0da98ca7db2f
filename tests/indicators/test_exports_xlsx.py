"""The XLSX exports as a package and as cells: written streaming (``exports_xlsx``), the file
opens in openpyxl (both its modes) with text as typed (never a formula, control characters
left out), numbers as numbers, dates as dates, headers in the reader's language, and checks
as a zip and as OPC parts (``exports_helpers.valid_package``); an empty export is a workbook
with its header; sheets past their limits go on in others."""

import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.indicators import exports_formats, exports_xlsx
from app.indicators.exports import Table
from app.indicators.exports_columns import DATE, DATETIME, HOURS, INT, MONEY, TEXT, VALUE, Column
from tests import factories
from tests.indicators.exports_helpers import (
    csv_rows,
    download,
    many_requests,
    read_xlsx,
    sheet_dicts,
    sheet_rows,
    xlsx_book,
)
from tests.sla.sla_walks import in_english

ADMIN = "admin@acme.test"
BOGOTA = ZoneInfo("America/Bogota")
KINDS = [("Text", TEXT), ("Whole", INT), ("Money", MONEY), ("Hours", HOURS), ("Day", DATE),
         ("When", DATETIME), ("Any", VALUE)]
INJECTIONS = ["=cmd|' /C calc'!A0", "+1 llamar", "-2+3", "@SUM(1)", "\tcon tabulador",
              "\r=1+1", "\uff1dHYPERLINK(1)"]


def _table(rows: list[tuple], title: str = "Hoja", kinds=KINDS) -> Table:
    columns = [Column(header, kind, itemgetter(i)) for i, (header, kind) in enumerate(kinds)]
    return Table("stem", title, columns, lambda: iter([rows]), 1, BOGOTA)


def _body(*tables: Table) -> bytes:
    return b"".join(exports_formats.xlsx_chunks(list(tables)))


def test_cells_are_typed_and_formatted(app):
    at = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # 09:30 in Bogotá
    rows = [("Cambiar bombillo", 42, Decimal("15000.5"), Decimal("2.25"), date(2026, 12, 9), at,
             Decimal("7.10")),
            ("", -7, Decimal("0"), Decimal("0.333"), date(2027, 1, 1), at, 3),
            (None, None, None, None, None, None, datetime(2026, 1, 2, 13, 5, tzinfo=UTC)),
            ("x", 0, Decimal("-1.005"), None, None, None, date(2026, 2, 3)),
            ("y", 1, None, None, None, None, 0.25),
            ("z", 2, None, None, None, None, "texto")]
    sheet = read_xlsx(_body(_table(rows)))["Hoja"]
    header, *values = sheet_rows(sheet)
    assert header == [name for name, _kind in KINDS]
    assert values[0] == ["Cambiar bombillo", 42, 15000.5, 2.25, datetime(2026, 12, 9),
                         datetime(2026, 12, 7, 9, 30), 7.1]
    assert values[1][1:6] == [-7, 0, 0.33, datetime(2027, 1, 1), datetime(2026, 12, 7, 9, 30)]
    assert values[1][0] in ("", None) and values[1][6] == 3
    assert values[2] == [None] * 6 + [datetime(2026, 1, 2, 8, 5)]
    assert values[3][2] == -1.0  # (Decimal quantizes half to even: -1.00)
    assert values[3][6] == datetime(2026, 2, 3)
    assert [row[6] for row in values[4:]] == [0.25, "texto"]
    second = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert [cell.data_type for cell in second] == ["s", "n", "n", "n", "d", "d", "n"]
    assert [cell.number_format for cell in second[2:6]] == [
        "#,##0.00", "0.00", "yyyy-mm-dd", "yyyy-mm-dd hh:mm"]
    assert second[6].number_format == "#,##0.00"  # a Decimal among any values: money
    assert [cell.is_date for cell in list(sheet.iter_rows(min_row=4, max_row=4))[0]][6]


def test_the_header_is_bold_frozen_and_the_columns_have_widths(app):
    book = read_xlsx(_body(_table([("a", 1, None, None, None, None, None)])))
    sheet = book["Hoja"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 24  # text
    assert sheet.column_dimensions["F"].width == 17  # a date-time
    assert book.active.title == "Hoja"


def as_excel_reads(text: str) -> str:
    """A cell's text with Excel's ``_xHHHH_`` escapes read (openpyxl reads them only in
    shared strings)."""
    return re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), text)


def test_text_is_kept_as_typed_and_never_a_formula(app):
    texts = [*INJECTIONS, "  espacios a los lados  ", "línea 1\nlínea 2\r\nfin",
             'a & b < c > d "q" \'a\' ]]>', "_x0041_ literal, _x005F_ también",
             "emoji 🎉 y ñ", "\n"]
    rows = [(text, None, None, None, None, None, text) for text in texts]
    body = _body(_table(rows))
    sheet = read_xlsx(body)["Hoja"]
    assert [as_excel_reads(row[0]) for row in sheet_rows(sheet)[1:]] == texts
    assert [as_excel_reads(row[6]) for row in sheet_rows(sheet)[1:]] == texts
    for row in sheet.iter_rows(min_row=2):
        assert {cell.data_type for cell in row if cell.value is not None} == {"s"}
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    assert 't="inlineStr"' in xml and "sharedStrings" not in xml


def test_characters_xml_cannot_hold_are_left_out(app):
    controls = "".join(chr(c) for c in range(32) if c not in (9, 10, 13))
    text = f"Impresora{controls} sin\ufffe tinta\uffff"
    sheet = read_xlsx(_body(_table([(text, None, None, None, None, None, text)])))["Hoja"]
    assert sheet_rows(sheet)[1][0] == "Impresora sin tinta"
    assert sheet_rows(sheet)[1][6] == "Impresora sin tinta"


def test_a_long_text_is_cut_at_a_cells_limit(app):
    long, wide = "a" * 40_000, "🎉" * 20_000  # (an emoji is two UTF-16 units)
    sheet = read_xlsx(_body(_table([(long, None, None, None, None, None, wide)])))["Hoja"]
    text, emojis = sheet_rows(sheet)[1][0], sheet_rows(sheet)[1][6]
    assert text == "a" * 32_767
    assert emojis == "🎉" * (32_767 // 2)


def test_values_excel_cannot_take_as_numbers_or_dates_are_text(app):
    rows = [("a", None, None, None, date(1899, 1, 1), None, date(1900, 2, 28)),
            ("b", None, None, None, None, None, True),
            ("c", None, None, None, None, None, Decimal("NaN")),
            ("d", None, None, None, None, None, float("inf"))]
    values = sheet_rows(read_xlsx(_body(_table(rows)))["Hoja"])[1:]
    assert values[0][4] == "1899-01-01" and values[0][6] == "1900-02-28"
    assert [row[6] for row in values[1:]] == ["True", "NaN", "inf"]
    before = exports_xlsx.datetime_cell("B")("2", datetime(1900, 2, 28, 8, 0))
    assert before == ('<c r="B2" t="inlineStr"><is><t>1900-02-28 08:00</t></is></c>')
    assert exports_xlsx.date_cell("C")("2", date(1900, 3, 1)) == \
        '<c r="C2" s="2"><v>61</v></c>'  # Excel's 1900-03-01


def test_sheet_names_are_valid_and_unique(app):
    tables = [_table([], title) for title in
              ("Costo: [por] unidad/mes?*", "Costo: [por] unidad/mes?*", "'Citado'",
               "Un título que pasa de los treinta y un caracteres", "History", "")]
    book = read_xlsx(_body(*tables))
    assert book.sheetnames == ["Costo por unidad mes", "Costo por unidad mes (2)",
                               "Citado", "Un título que pasa de los trein", "History (2)",
                               "Sheet"]


def test_a_sheet_past_its_bytes_goes_on_in_another(app, monkeypatch):
    monkeypatch.setattr(exports_xlsx, "MAX_BYTES", 4000)  # (about a dozen rows a sheet)
    rows = [(f"fila {i}", i, None, None, None, None, None) for i in range(100)]
    book = read_xlsx(_body(_table(rows, "Solicitudes")))
    assert len(book.sheetnames) > 2
    assert book.sheetnames[:3] == ["Solicitudes", "Solicitudes (2)", "Solicitudes (3)"]
    seen = []
    for sheet in book.worksheets:
        header, *values = sheet_rows(sheet)
        assert header == [name for name, _kind in KINDS]
        seen += [row[1] for row in values]
    assert seen == list(range(100))  # every row once, in order
    with zipfile.ZipFile(io.BytesIO(_body(_table(rows)))) as package:
        for info in package.infolist():
            assert info.file_size <= 4000, info.filename
    monkeypatch.setattr(exports_xlsx, "MAX_BYTES", 10)  # less than a row: a row a sheet
    book = read_xlsx(_body(_table(rows[:3], "S")))
    assert book.sheetnames == ["S", "S (2)", "S (3)"]
    assert [sheet_rows(sheet)[1][1] for sheet in book.worksheets] == [0, 1, 2]


def test_the_package_is_written_as_it_streams(app):
    """Each part sizes after its data (a data descriptor), nothing written back; the parts
    that open the workbook come first, those that list the sheets last."""
    body = _body(_table([("a", 1, None, None, None, None, None)]), _table([], "Otra"))
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        infos = package.infolist()
    assert [info.filename for info in infos] == [
        "_rels/.rels", "xl/styles.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml"]
    assert all(info.flag_bits & 0x08 for info in infos)
    book = read_xlsx(body, read_only=True)
    assert book.sheetnames == ["Hoja", "Otra"]
    assert [list(r) for r in book["Hoja"].iter_rows(values_only=True)][1] == [
        "a", 1, None, None, None, None, None]  # read-only too: rows as wide as the header


def test_no_table_is_still_a_workbook(app):
    assert read_xlsx(_body()).sheetnames == ["Sheet"]


# --- through the downloads ------------------------------------------------------------------

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def samples(demo):
    """Requests of March titled with formula-looking text and with control characters (no
    NUL: PostgreSQL's text holds none)."""
    start = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    for i, title in enumerate([*INJECTIONS, "Impresora\x07 sin\x01 tinta\x1b"]):
        many_requests(1, title=title, start=start.replace(hour=13 + i))


@pytest.mark.parametrize("locale, number, title", [("en", "Number", "Title"),
                                                   ("es", "Número", "Título")])
def test_a_download_in_either_language(samples, browser, locale, number, title):
    factories.user(ADMIN).locale = locale
    db.session.commit()
    as_csv = csv_rows(download(browser(ADMIN), f"/indicators/export/requests.csv?{MARCH}"))
    response = download(browser(ADMIN), f"/indicators/export/requests.xlsx?{MARCH}")
    assert response.is_streamed and response.mimetype == exports_formats.XLSX_TYPE
    book = xlsx_book(response)
    sheet = book.worksheets[0]
    header = sheet_rows(sheet)[0]
    assert header == as_csv[0] and header[:2] == [number, title]
    filed = header[10]  # when the request was filed (after the kind of work)
    rows = sheet_dicts(sheet)
    titles = [row[title] for row in rows]
    assert titles == [f"{text} 0" for text in INJECTIONS] + ["Impresora sin tinta 0"]
    column = header.index(title) + 1
    for cell in list(sheet.iter_cols(min_col=column, max_col=column, min_row=2))[0]:
        assert cell.data_type == "s"  # as typed: no apostrophe, no formula
    assert rows[0][filed] == datetime(2026, 3, 2, 8, 0)  # 13:00 UTC, Bogotá's wall clock
    when = header.index(filed) + 1
    assert sheet.cell(2, when).is_date and sheet.cell(2, when).number_format == \
        "yyyy-mm-dd hh:mm"


def test_an_empty_export_is_a_workbook_with_its_header(demo, browser):
    in_english(ADMIN)
    for what in ("requests", "tickets"):
        url = f"/indicators/export/{what}.{{}}?from=2001-01-01&to=2001-01-31"
        header = csv_rows(download(browser(ADMIN), url.format("csv")))
        response = download(browser(ADMIN), url.format("xlsx"))
        body = response.get_data()
        for read_only in (False, True):
            book = read_xlsx(body, read_only)
            assert book.sheetnames == [what.capitalize()]
            assert [list(r) for r in book.worksheets[0].iter_rows(values_only=True)] == header
