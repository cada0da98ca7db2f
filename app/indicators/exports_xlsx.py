"""A workbook (.xlsx) written as it streams: sheets of rows, each row sent on as it comes.

An .xlsx is a zip of XML parts (SpreadsheetML). ``Workbook`` writes that zip to any object
with a ``write`` method and no ``tell``: Python's zipfile then writes each part with a data
descriptor (its size and checksum after its data), so nothing is ever sought back and a part's
bytes leave as they are compressed. In the order written:

- ``_rels/.rels``, ``xl/styles.xml`` and an empty ``xl/sharedStrings.xml`` (a few readers
  expect one), when the workbook starts;
- each sheet (``xl/worksheets/sheetN.xml``): its header row, frozen, and its column widths,
  then its rows as they come;
- ``xl/workbook.xml``, its relationships and ``[Content_Types].xml`` at the end, when the
  sheets are known (a sheet continued past its limits is one more).

Cells: text as inline strings (``t="inlineStr"``, never a shared string, never a formula),
XML-escaped, without the characters XML 1.0 forbids (control characters but tab, line feed
and carriage return), a carriage return as ``&#13;`` so that it survives, ``_xHHHH_`` kept
literal (``_x005F_``: Excel would read it as an escaped character), at most 32,767 UTF-16
units (Excel's limit for a cell); whole numbers and Decimals as numbers; dates and date-times
(naive: the caller's wall clock) as Excel's serial days with a date format. A date before
1900-03-01 has no serial Excel reads right: it is written as text (``YYYY-MM-DD``).

No part uses ZIP64: a local header announcing ZIP64 for a small part is refused by some
Excels, and a part's size is not known when its header is written. So a sheet stops short of
zipfile's limit for a part without it (2 GiB): ``Sheet.add`` says when a row does not fit,
by rows (``MAX_ROWS``, Excel's 1,048,576 with the header) or by bytes (``MAX_BYTES``), and
the caller goes on in another sheet.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

MAX_ROWS = 1_048_576  # rows of a sheet, the header included
MAX_BYTES = 2_000_000_000  # a sheet's XML (zipfile needs ZIP64 past 2**31 - 1)
MAX_TEXT = 32_767  # UTF-16 units of a cell's text
PENDING = 64 * 1024  # rows' XML handed to the compressor in pieces of about this size
LEVEL = 3  # deflate: near the fastest, and a sixth smaller than 1 on these sheets

# Styles (indexes into cellXfs of ``STYLES``)
PLAIN, HEADER, DATE_STYLE, DATETIME_STYLE, MONEY_STYLE, HOURS_STYLE = range(6)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

STYLES = HEAD + f"""<styleSheet xmlns="{MAIN}">\
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>\
<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="3"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="FFE8ECF1"/><bgColor indexed="64"/>\
</patternFill></fill></fills>\
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>\
<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/>\
</border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" \
applyBorder="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
</cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""

ROOT_RELS = HEAD + f"""<Relationships xmlns="{PACKAGE_RELS}">\
<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""

SHARED_STRINGS = HEAD + f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"/>'
END = b"</sheetData></worksheet>"


# --- text ------------------------------------------------------------------------------------

# What a text cannot hold as is: markup, a carriage return (XML readers turn it into a line
# feed), the characters XML 1.0 forbids, and an underscore that starts an ``_xHHHH_``
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
                      "|_(?=x[0-9A-Fa-f]{4}_)")
_REPLACEMENT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", "_": "_x005F_"}


def _replace(match: re.Match) -> str:
    return _REPLACEMENT.get(match[0], "")


def clipped(text: str) -> str:
    """``text`` cut to a cell's ``MAX_TEXT`` UTF-16 units (a character past U+FFFF takes
    two), never halving a character."""
    if len(text) <= MAX_TEXT // 2:
        return text
    units = 0
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_TEXT:
            return text[:i]
    return text


def escaped(text: str) -> str:
    """``text`` as the content of an XML element of a cell (see the module's docstring)."""
    return _SPECIAL.sub(_replace, clipped(text) if len(text) > MAX_TEXT // 2 else text)


def attribute(text: str) -> str:
    return escaped(text).replace('"', "&quot;")


def column_letters(index: int) -> str:
    """``A`` for 0, ``Z`` for 25, ``AA`` for 26..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- cells -----------------------------------------------------------------------------------
# A cell writer takes a column's letters and gives a function of (row number as text, value
# not None) to the cell's XML.

Cell = Callable[[str, object], str]

EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (its day 60, 1900-02-29, never was)
EPOCH_ORDINAL = EPOCH.toordinal()
FIRST_SERIAL = 61  # 1900-03-01: from here on a serial means the same day in Excel
DAY = timedelta(days=1)


def text_cell(letters: str, style: int = PLAIN) -> Cell:
    s = f' s="{style}"' if style else ""

    def cell(row: str, value) -> str:
        text = value if isinstance(value, str) else str(value)
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return (f'<c r="{letters}{row}"{s} t="inlineStr"><is><t{space}>{escaped(text)}</t>'
                "</is></c>")

    return cell


def number_cell(letters: str, style: int = PLAIN) -> Cell:
    """An int or a Decimal (finite), written as it prints."""
    s = f' s="{style}"' if style else ""
    return lambda row, value: f'<c r="{letters}{row}"{s}><v>{value}</v></c>'


def date_cell(letters: str) -> Cell:
    as_text = text_cell(letters)

    def cell(row: str, value: date) -> str:
        serial = value.toordinal() - EPOCH_ORDINAL
        if serial < FIRST_SERIAL:
            return as_text(row, value.isoformat())
        return f'<c r="{letters}{row}" s="{DATE_STYLE}"><v>{serial}</v></c>'

    return cell


def datetime_cell(letters: str) -> Cell:
    as_text = text_cell(letters)

    def cell(row: str, value: datetime) -> str:
        serial = (value - EPOCH) / DAY
        if serial < FIRST_SERIAL:
            return as_text(row, value.isoformat(" ", "minutes"))
        return f'<c r="{letters}{row}" s="{DATETIME_STYLE}"><v>{serial}</v></c>'

    return cell


def any_cell(letters: str) -> Cell:
    """A value of any of the kinds above, told by its type; a number that is not finite (or
    a truth value) as text."""
    dated, timed, whole = date_cell(letters), datetime_cell(letters), number_cell(letters)
    money, written = number_cell(letters, MONEY_STYLE), text_cell(letters)

    def cell(row: str, value) -> str:
        if isinstance(value, datetime):
            return timed(row, value)
        if isinstance(value, date):
            return dated(row, value)
        if isinstance(value, Decimal) and value.is_finite():
            return money(row, value)
        if isinstance(value, int) and not isinstance(value, bool):
            return whole(row, value)
        if isinstance(value, float) and math.isfinite(value):
            return whole(row, repr(value))
        return written(row, value)

    return cell


# --- the package -----------------------------------------------------------------------------

def sheet_name(title: str, taken: set[str]) -> str:
    """A name Excel accepts for a sheet titled ``title``: none of ``[]:*?/\\``, no control
    character, no apostrophe at either end, at most 31 characters, not ``History``, and not
    one of ``taken`` (lower-cased; the name is added there)."""
    name = " ".join(re.sub(r"[\[\]:*?/\\\x00-\x1f]", " ", title).split()).strip("'").strip()
    name = name[:31] or "Sheet"
    candidate, n = name, 1
    while candidate.lower() in taken or candidate.lower() == "history":
        n += 1
        suffix = f" ({n})"
        candidate = name[:31 - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


class Sheet:
    """A sheet being written: its header row and column widths first, then ``add``."""

    def __init__(self, entry, headers: Sequence[str], widths: Sequence[float],
                 cells: Sequence[Callable[[str], Cell]], selected: bool,
                 max_rows: int | None = None, max_bytes: int | None = None):
        self._entry = entry
        self.max_rows = max_rows or MAX_ROWS
        self.max_bytes = (max_bytes or MAX_BYTES) - len(END)
        letters = [column_letters(i) for i in range(len(headers))]
        self._last = letters[-1] if letters else ""
        self._cells = [make(col) for make, col in zip(cells, letters, strict=True)]
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.rows = 0  # written, the header included
        self.size = 0  # bytes of XML written
        self._write(self._start(headers, widths, selected).encode("utf-8"))
        self._write(self._row([text_cell(col, HEADER) for col in letters], headers))
        self.rows = 1

    @staticmethod
    def _start(headers, widths, selected: bool) -> str:
        tab = ' tabSelected="1"' if selected else ""
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(widths, 1))
        return (f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
                f'<sheetViews><sheetView{tab} workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
                + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")

    def _row(self, cells, values) -> bytes:
        """A row's XML; its last cell is written even when empty, so that a reader that
        goes by the cells (no dimension is known ahead) sees every row as wide as the
        header."""
        number = str(self.rows + 1)
        xml = "".join([cell(number, value) for cell, value in zip(cells, values, strict=True)
                       if value is not None])
        last = f'<c r="{self._last}{number}"/>' if values and values[-1] is None else ""
        return f'<row r="{number}">{xml}{last}</row>'.encode()

    def add(self, values: Sequence) -> bool:
        """Write a row of ``values`` (None: an empty cell); False, and nothing written, when
        the sheet is full (its rows or its bytes; a sheet takes one row at least, so no row
        is ever left out)."""
        if self.rows >= self.max_rows:
            return False
        row = self._row(self._cells, values)
        if self.rows > 1 and self.size + len(row) > self.max_bytes:
            return False
        self._write(row)
        self.rows += 1
        return True

    def _write(self, data: bytes) -> None:
        self.size += len(data)
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= PENDING:
            self._flush()

    def _flush(self) -> None:
        self._entry.write(b"".join(self._pending))
        self._pending.clear()
        self._pending_size = 0

    def close(self) -> None:
        self._pending.append(END)
        self._flush()
        self._entry.close()


class Workbook:
    """A workbook written to ``out`` (an object with ``write``, and no ``tell``: see the
    module's docstring) sheet by sheet: ``sheet`` starts one (closing the one before),
    ``close`` ends the workbook. Dropped unclosed (the download was), it writes no more."""

    def __init__(self, out):
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                                    compresslevel=LEVEL)
        self._names: list[str] = []
        self._taken: set[str] = set()
        self._sheet: Sheet | None = None
        for name, text in (("_rels/.rels", ROOT_RELS), ("xl/styles.xml", STYLES),
                           ("xl/sharedStrings.xml", SHARED_STRINGS)):
            self._part(name, text)

    def _part(self, name: str, text: str) -> None:
        with self._zip.open(name, "w") as part:
            part.write(text.encode("utf-8"))

    def sheet(self, title: str, headers: Sequence[str], widths: Sequence[float],
              cells: Sequence[Callable[[str], Cell]], **limits) -> Sheet:
        """Start a sheet titled ``title`` (made a valid, unique sheet name) with a header row
        of ``headers`` and a cell writer per column (``text_cell``...)."""
        if self._sheet is not None:
            self._sheet.close()
        self._names.append(sheet_name(title, self._taken))
        entry = self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w")
        self._sheet = Sheet(entry, headers, widths, cells, len(self._names) == 1, **limits)
        return self._sheet

    def close(self) -> None:
        """Close the last sheet and write the parts that list the sheets."""
        if self._sheet is not None:
            self._sheet.close()
            self._sheet = None
        if not self._names:  # (a workbook holds a sheet at least)
            self.sheet("Sheet", [], [], []).close()
            self._sheet = None
        count = len(self._names)
        sheets = "".join(f'<sheet name="{attribute(name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, name in enumerate(self._names, 1))
        self._part("xl/workbook.xml", (
            f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
            "</workbook>"))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{DOC_RELS}/worksheet" '
                       f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, count + 1))
        rels += (f'<Relationship Id="rId{count + 1}" Type="{DOC_RELS}/styles" '
                 'Target="styles.xml"/>'
                 f'<Relationship Id="rId{count + 2}" Type="{DOC_RELS}/sharedStrings" '
                 'Target="sharedStrings.xml"/>')
        self._part("xl/_rels/workbook.xml.rels",
                   f'{HEAD}<Relationships xmlns="{PACKAGE_RELS}">{rels}</Relationships>')
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            f'ContentType="{CONTENT}.worksheet+xml"/>' for i in range(1, count + 1))
        self._part("[Content_Types].xml", (
            f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{CONTENT}.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{CONTENT}.sharedStrings+xml"/>{overrides}</Types>'))
        self._zip.close()


class Buffer:
    """Where a workbook streamed is written: its bytes wait here until taken. It has no
    ``tell`` nor ``seek``, so zipfile writes straight on (see the module's docstring)."""

    def __init__(self):
        self._data = bytearray()

    def write(self, data) -> int:
        self._data += data
        return len(data)

    def flush(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._data)

    def take(self) -> bytes:
        """What was written since the last take."""
        data = bytes(self._data)
        self._data.clear()
        return data
