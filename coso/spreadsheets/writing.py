"""Writing a table out: an XLSX a spreadsheet user uses as it is, CSV for scripts and for Excel.

XLSX: a title line (what the file holds, which unit, which filters, when it was made,
in the reader's language) above a bold header row; the header row carries the
autofilter and both lines stay frozen; columns are as wide as their contents (up to
``MAX_WIDTH``), long texts wrap; dates are date cells shown dd/mm/yyyy, counts and
shares real numbers, so a spreadsheet can sort, filter and sum them.

CSV comes in two styles, both UTF-8 with a byte-order mark (Excel needs it for Vietnamese):

* ``PLAIN`` (the ``.csv`` URLs, unchanged for scripts): comma, ISO 8601 dates,
  decimal point, the header first;
* ``VIETNAMESE`` (``?sep=semicolon``): what Excel under Vietnamese regional settings
  (list separator ``;``, decimal symbol ``,``) opens in columns: semicolons,
  dd/mm/yyyy dates, decimal commas, and the title line above the header.

Every text cell, the title included, goes through ``safe_text`` (never a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import IO, Any

from flask_babel import force_locale

from coso.spreadsheets.cells import safe_text

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM:SS"
NUMBER_FORMATS = {
    "date": DATE_FORMAT,
    "datetime": DATETIME_FORMAT,
    "percent": "0.0%",
    "number": "0.0",
    "int": "0",
}
#: The widest a column grows to fit its contents (in characters); longer text wraps.
MAX_WIDTH = 50
#: A header wider than this wraps onto two lines rather than widen its column.
HEADER_WIDTH = 24


@dataclass(frozen=True)
class Column:
    """One column: its header (a lazy msgid, translated at export time) and how to read a row.

    ``kind`` is ``text``, ``long`` (text that wraps), ``int``, ``number`` (one decimal),
    ``percent`` (a 0..1 share), ``date`` or ``datetime``.
    """

    header: Any
    value: Callable[[Any], Any]
    kind: str = "text"


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV file writes its cells (see the module's docstring)."""

    delimiter: str
    decimal: str
    date: str
    datetime: str
    titled: bool


PLAIN = CsvStyle(",", ".", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", titled=False)
VIETNAMESE = CsvStyle(";", ",", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S", titled=True)


def listed(header: Sequence[str], kinds: Mapping[str, str] | None = None) -> list[Column]:
    """Columns for rows that are already lists of values, in ``header``'s order.

    ``kinds`` gives a column's kind by its header (``text`` otherwise). The headers here
    are the file's own column names (an import reads them back), never translated.
    """
    kinds = kinds or {}
    return [Column(name, itemgetter(i), kinds.get(name, "text")) for i, name in enumerate(header)]


def headers(columns: Sequence[Column]) -> list[str]:
    """The columns' headers in Vietnamese."""
    with force_locale("vi"):
        return [str(column.header) for column in columns]


def _values(columns: Sequence[Column], rows: Iterable[Any]) -> Iterable[list[Any]]:
    """Each row's values, computed in Vietnamese (texts in words are part of the report)."""
    with force_locale("vi"):
        for row in rows:
            yield [column.value(row) for column in columns]


def _yes_no(value: bool) -> str:
    return "Có" if value else "Không"


# --- CSV


def to_csv(
    columns: Sequence[Column], rows: Iterable[Any], style: CsvStyle = PLAIN, title: str = ""
) -> bytes:
    """The rows as CSV in ``style``, with a byte-order mark; ``title`` first when it is titled."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")
    if style.titled and title:
        writer.writerow([safe_text(title)])
    writer.writerow(headers(columns))
    for values in _values(columns, rows):
        writer.writerow(
            [_csv_cell(column, value, style) for column, value in zip(columns, values, strict=True)]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(column: Column, value: Any, style: CsvStyle) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(style.datetime if column.kind == "datetime" else style.date)
    if isinstance(value, date):
        return value.strftime(style.date)
    if isinstance(value, bool):
        return _yes_no(value)
    if column.kind == "percent":
        return f"{value * 100:.1f}".replace(".", style.decimal)
    if column.kind == "number":
        return f"{value:.1f}".replace(".", style.decimal)
    return safe_text(value)


# --- XLSX


def _shown(column: Column, value: Any) -> str:
    """The text a cell shows, to measure its column by."""
    if value is None:
        return ""
    if isinstance(value, datetime) and column.kind == "datetime":
        return "00/00/0000 00:00:00"
    if isinstance(value, date):
        return "00/00/0000"
    if isinstance(value, bool):
        return _yes_no(value)
    if column.kind == "percent":
        return f"{value * 100:.1f}%"
    if column.kind == "number":
        return f"{value:.1f}"
    return str(value)


def fit(column: Column, header: str, shown: Iterable[str]) -> tuple[int, bool]:
    """A column's width (characters) and whether its cells wrap."""
    longest = max((len(line) for text in shown for line in text.splitlines() or [""]), default=0)
    word = max((len(part) for part in header.split()), default=0)
    width = max(longest, word, min(len(header), HEADER_WIDTH), 6) + 2
    return min(width, MAX_WIDTH), column.kind == "long" or longest > MAX_WIDTH


def to_xlsx(
    columns: Sequence[Column], rows: Iterable[Any], sheet_name: str, title: str = ""
) -> bytes:
    """The rows as an XLSX workbook of one sheet (see the module's docstring).

    ``title`` is the line above the header (none when empty). The rows are computed
    once, measured for the column widths, then streamed out by openpyxl's write-only
    mode (a province's thousands of branches cost one pass).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    names = headers(columns)
    data = list(_values(columns, rows))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])
    header_row = 2 if title else 1
    sheet.freeze_panes = f"A{header_row + 1}"
    aligned = []
    for index, (column, name) in enumerate(zip(columns, names, strict=True), start=1):
        width, wrap = fit(column, name, (_shown(column, values[index - 1]) for values in data))
        sheet.column_dimensions[get_column_letter(index)].width = width
        aligned.append(Alignment(wrap_text=wrap, vertical="top"))
    if title:
        cell = WriteOnlyCell(sheet, value=safe_text(title))
        cell.font = Font(bold=True, size=12)
        sheet.append([cell])
    bold = Font(bold=True)
    header_cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header_cells.append(cell)
    sheet.append(header_cells)
    for values in data:
        sheet.append(
            [
                _xlsx_cell(sheet, column, value, aligned[i])
                for i, (column, value) in enumerate(zip(columns, values, strict=True))
            ]
        )
    last = get_column_letter(max(len(columns), 1))
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(len(data), 1)}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, column: Column, value: Any, alignment: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime) and column.kind != "datetime":
        value = value.date()
    if isinstance(value, bool):
        value = _yes_no(value)
    cell = WriteOnlyCell(sheet, value=safe_text(value))
    if column.kind in NUMBER_FORMATS and value is not None:
        cell.number_format = NUMBER_FORMATS[column.kind]
    cell.alignment = alignment
    return cell


# --- Streaming: files too large to hold (every answer of a province's year)

#: Rows of CSV written per chunk of a streamed response.
CSV_CHUNK_ROWS = 500


def csv_chunks(
    columns: Sequence[Column], rows: Iterable[Any], style: CsvStyle = PLAIN, title: str = ""
) -> Iterator[bytes]:
    """The bytes of :func:`to_csv`, a few hundred rows at a time, never the whole file.

    ``rows`` is read lazily (a database cursor read in chunks), so memory stays bounded by
    one chunk whatever the number of rows.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")
    buffer.write("\ufeff")
    if style.titled and title:
        writer.writerow([safe_text(title)])
    writer.writerow(headers(columns))
    pending = 0
    for values in _values(columns, rows):
        writer.writerow(
            [_csv_cell(column, value, style) for column, value in zip(columns, values, strict=True)]
        )
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    tail = buffer.getvalue()
    if tail:
        yield tail.encode("utf-8")


#: Column widths of a streamed XLSX by kind (its rows are never all in memory to measure).
STREAM_WIDTHS = {"long": MAX_WIDTH, "date": 12, "datetime": 20, "int": 8, "number": 8}


def xlsx_to_file(
    columns: Sequence[Column],
    rows: Iterable[Any],
    sheet_name: str,
    title: str,
    out: IO[bytes],
) -> int:
    """The rows as an XLSX workbook written to ``out`` in openpyxl's write-only mode.

    Like :func:`to_xlsx` (title line, bold frozen header, autofilter, dates dd/mm/yyyy and
    number formats), but ``rows`` is read once, lazily, and never held: the widths come from
    the columns' kinds and headers, not from measuring the cells. For speed (a province's
    year is hundreds of thousands of rows) text and whole-number cells are written as plain
    values, without wrapping; only the cells that need a number format (dates, shares,
    decimals) carry a style, copied from one styled cell per column rather than resolved
    cell by cell. Returns the number of rows.
    """
    from copy import copy

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    names = headers(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])
    header_row = 2 if title else 1
    sheet.freeze_panes = f"A{header_row + 1}"
    styles: list[Any] = []
    for index, (column, name) in enumerate(zip(columns, names, strict=True), start=1):
        width = STREAM_WIDTHS.get(column.kind, 16)
        word = max((len(part) for part in name.split()), default=0)
        width = max(width, min(len(name), HEADER_WIDTH), word)
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
        if column.kind in NUMBER_FORMATS and column.kind != "int":
            model = WriteOnlyCell(sheet)
            model.number_format = NUMBER_FORMATS[column.kind]
            styles.append(model._style)
        else:
            styles.append(None)
    if title:
        cell = WriteOnlyCell(sheet, value=safe_text(title))
        cell.font = Font(bold=True, size=12)
        sheet.append([cell])
    bold = Font(bold=True)
    header_cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for values in _values(columns, rows):
        line: list[Any] = []
        for column, value, style in zip(columns, values, styles, strict=True):
            if isinstance(value, datetime) and column.kind != "datetime":
                value = value.date()
            elif isinstance(value, bool):
                value = _yes_no(value)
            if style is None or value is None:
                line.append(safe_text(value))
            else:
                cell = WriteOnlyCell(sheet, value=value)
                cell._style = copy(style)
                line.append(cell)
        sheet.append(line)
        count += 1
    last = get_column_letter(max(len(columns), 1))
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(count, 1)}"
    workbook.save(out)
    return count
