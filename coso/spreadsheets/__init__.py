"""Every CSV and XLSX file in and out: reports, list exports, the imports' files.

One rule for formula-like cells (``safe_text``, undone on the way in by ``unquote``),
one ``Content-Disposition`` (``attachment``), one reader of uploaded tables
(``read_records``) with one error for a file that cannot be read (``SheetError``).

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any
from urllib.parse import quote

from flask import Response, current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeTimedSerializer

from coso.spreadsheets.cells import safe_text, unquote
from coso.spreadsheets.reading import Limits, SheetError, read_records, read_table

__all__ = [
    "FORMATS",
    "XLSX_MIMETYPE",
    "Column",
    "Limits",
    "SheetError",
    "attachment",
    "headers",
    "listed",
    "read_records",
    "read_table",
    "response",
    "safe_text",
    "sign_rows",
    "to_csv",
    "to_xlsx",
    "unquote",
    "unsign_rows",
]

FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD/MM/YYYY"


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


def attachment(name: str) -> str:
    """The ``Content-Disposition`` of a download named ``name``.

    An ASCII ``filename`` for old clients (quotes and controls dropped, so a name can never
    break out of it) and the exact name as RFC 6266 / RFC 5987 ``filename*``.
    """
    ascii_name = "".join(c for c in name if 32 <= ord(c) < 127 and c not in '"\\;')
    ascii_name = ascii_name or "export" + (name[name.rfind(".") :] if "." in name else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


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
    return safe_text(value)


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
            cell = WriteOnlyCell(sheet, value=safe_text(value))
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
    result = Response(body, mimetype=mimetype)
    result.headers["Content-Disposition"] = attachment(f"{filename}.{fmt}")
    result.headers["Cache-Control"] = "private, no-store"
    return result


#: How long a dry-run report may be applied after it was shown (seconds).
DRY_RUN_MAX_AGE = 2 * 3600


# --- Dry run, then apply: the checked rows travel signed in the page, nothing is kept on a server.


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign_rows(rows: list[dict[str, str]], salt: str) -> str:
    """The rows of a checked file as a token the apply form carries back."""
    return _serializer(salt).dumps(rows)


def unsign_rows(token: str, salt: str) -> list[dict[str, str]] | None:
    """The rows a dry run showed, or None when the token is forged, corrupt or too old."""
    try:
        rows = _serializer(salt).loads(token, max_age=DRY_RUN_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return None
    return rows
