"""Spreadsheet files too big or too odd to write with openpyxl in a test: built as zip parts.

A real workbook is written by openpyxl (so every other part is what Excel expects), then
its sheet is swapped for XML written here: half a million rows in a second, a dimension
that lies, a cell far to the right, a shared-strings part that unpacks to 40 MB.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence

SHEET = "xl/worksheets/sheet1.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _base() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["x"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(values: Sequence[str]) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
    return f"<row>{cells}</row>"


def xlsx_of(
    header: Sequence[str],
    row: Sequence[str],
    count: int,
    *,
    dimension: str | None = "auto",
    extra_parts: dict[str, bytes] | None = None,
    raw_rows: Iterable[str] = (),
) -> bytes:
    """A workbook: ``header``, then ``row`` ``count`` times (rows without ``r``: tiny zipped).

    ``dimension``: ``"auto"`` for the true one, None for none, or any ``ref`` (a lie).
    """
    if dimension == "auto":
        last = chr(ord("A") + max(len(header), len(row)) - 1)
        dimension = f"A1:{last}{count + 1}"
    one = _row(row)
    body = io.StringIO()
    body.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}">')
    if dimension:
        body.write(f'<dimension ref="{dimension}"/>')
    body.write("<sheetData>")
    body.write(_row(header))
    body.write(one * count)
    for raw in raw_rows:
        body.write(raw)
    body.write("</sheetData></worksheet>")
    source = zipfile.ZipFile(io.BytesIO(_base()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == SHEET:
                target.writestr(SHEET, body.getvalue())
            else:
                target.writestr(info, source.read(info))
        for name, data in (extra_parts or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def csv_of(header: Sequence[str], row: Sequence[str], count: int) -> bytes:
    """A CSV: ``header``, then ``row`` ``count`` times."""
    line = ",".join(row) + "\r\n"
    return (",".join(header) + "\r\n" + line * count).encode("utf-8")
