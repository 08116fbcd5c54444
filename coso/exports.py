"""CSV and XLSX files for the province's reports, shared by every export.

Headers are always Vietnamese (the reports go up the Union's hierarchy in
Vietnamese, whatever language the exporting user reads). In XLSX, dates are
real date cells and shares real numbers formatted as percentages, so a
spreadsheet can sort and sum them; in CSV, dates are ISO 8601 (which every
spreadsheet reads as a date) and the file starts with a UTF-8 byte-order mark
so Excel shows the Vietnamese correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response
from flask_babel import force_locale

FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD/MM/YYYY"
#: Cells that start like a formula are prefixed, so a spreadsheet never runs them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column: its header (a lazy msgid, translated at export time) and how to read a row.

    ``kind`` is ``text``, ``int``, ``number`` (one decimal), ``percent`` (a 0..1 share)
    or ``date``.
    """

    header: Any
    value: Callable[[Any], Any]
    kind: str = "text"
    width: int = 14


def headers(columns: Sequence[Column]) -> list[str]:
    """The columns' headers in Vietnamese."""
    with force_locale("vi"):
        return [str(column.header) for column in columns]


def _safe_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _values(columns: Sequence[Column], rows: Iterable[Any]) -> Iterable[list[Any]]:
    """Each row's values, computed in Vietnamese (texts in words are part of the report)."""
    with force_locale("vi"):
        for row in rows:
            yield [column.value(row) for column in columns]


def to_csv(columns: Sequence[Column], rows: Iterable[Any]) -> bytes:
    """The rows as UTF-8 CSV with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers(columns))
    for values in _values(columns, rows):
        writer.writerow(
            [_csv_cell(column, value) for column, value in zip(columns, values, strict=True)]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if column.kind == "percent":
        return f"{value * 100:.1f}"
    if column.kind == "number":
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return _safe_text(value)


def to_xlsx(columns: Sequence[Column], rows: Iterable[Any], title: str) -> bytes:
    """The rows as an XLSX workbook of one sheet: bold frozen headers, typed cells.

    Written in openpyxl's write-only mode: rows stream out, so a province's
    thousands of branches cost one pass.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header_cells = []
    for text in headers(columns):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    formats = {"date": DATE_FORMAT, "percent": "0.0%", "number": "0.0", "int": "0"}
    for values in _values(columns, rows):
        cells = []
        for column, value in zip(columns, values, strict=True):
            if isinstance(value, datetime):
                value = value.date()
            if isinstance(value, bool):
                value = "Có" if value else "Không"
            cell = WriteOnlyCell(sheet, value=_safe_text(value))
            if column.kind in formats and value is not None:
                cell.number_format = formats[column.kind]
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def response(
    fmt: str, columns: Sequence[Column], rows: Iterable[Any], filename: str, title: str
) -> Response:
    """A download of ``rows`` as ``fmt`` (``csv`` or ``xlsx``) named ``filename``.``fmt``."""
    if fmt == "xlsx":
        body, mimetype = to_xlsx(columns, rows, title), XLSX_MIMETYPE
    else:
        body, mimetype = to_csv(columns, rows), "text/csv; charset=utf-8"
    name = f"{filename}.{fmt}"
    ascii_name = name.encode("ascii", "ignore").decode() or f"export.{fmt}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    result = Response(body, mimetype=mimetype)
    result.headers["Content-Disposition"] = disposition
    result.headers["Cache-Control"] = "private, no-store"
    return result
