"""Reading an uploaded table (CSV or XLSX) without trusting it: streamed, bounded, one error.

A spreadsheet is small on the wire and can be huge inside: a 333 KB XLSX held 500,000
rows, and reading it whole took 42 s and 100 MB before the row limit was even looked
at (issue 17, item 5). So nothing here reads a whole file first:

* an XLSX's parts are checked against their declared unpacked size before openpyxl
  opens it (a zip bomb is refused unopened; ``zipfile`` enforces the declared sizes);
  the sheet's own ``dimension`` is checked next (a refusal costs milliseconds), then
  rows stream out of openpyxl's read-only reader and reading stops at the limit
  (the dimension may be missing or lie);
* a CSV is decoded as it is read, through a byte limit, and stops at the row limit;
* every row, cell and the whole text have a ceiling.

Whatever goes wrong is a :class:`SheetError` with a message for the person who
uploaded the file (in their language): nothing is stored and nothing answers 500.
The reader touches no database, so a view can parse with no transaction open (on
SQLite an upload must never hold the write lock a cadre's sync is waiting for).
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _

from coso.spreadsheets.cells import unquote


class SheetError(ValueError):
    """The file as a whole cannot be read (not a per-row problem); ``str`` is the message."""


@dataclass(frozen=True)
class Limits:
    """The ceilings of one upload. ``rows`` counts the rows under the header."""

    rows: int
    columns: int = 50
    cell_chars: int = 2_000
    #: Bytes read from a file (an upload is also capped by ``MAX_CONTENT_LENGTH``).
    file_bytes: int = 8 * 1024 * 1024
    #: Unpacked bytes of any one part of an XLSX (a sheet, the shared strings).
    unpacked_bytes: int = 32 * 1024 * 1024
    #: Characters of all cells together.
    total_chars: int = 8_000_000


def read_records(
    filename: str, stream: IO[bytes], required: Sequence[str], max_rows: int
) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by lower-case header, values stripped.

    Blank rows are kept as empty dicts so that row numbers match the spreadsheet's
    (the header is row 1, or row 2 under the title line of this app's own exports).
    The apostrophe an export puts before formula-like text is taken off again.

    :raise SheetError: unknown format, unreadable file, missing columns, or a limit passed.
    """
    rows = read_table(filename, stream, Limits(rows=max_rows))
    if not rows:
        raise SheetError(_("The file is empty."))
    titled = _titled(rows, required)
    header = [name.strip().lower() for name in rows[titled]]
    missing = [name for name in required if name not in header]
    if missing:
        raise SheetError(_("Missing columns: %(cols)s", cols=", ".join(missing)))
    # Under an export's title line the header is row 2: one blank record keeps the numbering.
    records: list[dict[str, str]] = [{}] if titled else []
    for values in rows[1 + titled :]:
        if not any(value.strip() for value in values):
            records.append({})  # keep numbering; blank rows are skipped later
            continue
        records.append(
            {
                name: unquote(values[i].strip()) if i < len(values) else ""
                for i, name in enumerate(header)
                if name
            }
        )
    return records


def _titled(rows: list[list[str]], required: Sequence[str]) -> int:
    """1 when the file starts with an export's title line (one cell) above its header, else 0."""
    if len(rows) < 2 or sum(1 for value in rows[0] if value.strip()) != 1:
        return 0
    first, second = ({name.strip().lower() for name in row} for row in rows[:2])
    return int(not set(required) <= first and set(required) <= second)


def read_table(filename: str, stream: IO[bytes], limits: Limits) -> list[list[str]]:
    """Every row of the file's first sheet as text, the header included; stops at the limits.

    :raise SheetError: as :func:`read_records`.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        source = _csv_rows(stream, limits)
    elif suffix in (".xlsx", ".xlsm"):
        source = _xlsx_rows(stream, limits)
    else:
        raise SheetError(_("Use a .csv or .xlsx file."))
    table: list[list[str]] = []
    chars = 0
    for values in source:
        while values and not values[-1]:
            values.pop()  # trailing empty cells (formatting) are not columns
        if len(table) > limits.rows:
            raise SheetError(_("At most %(n)s rows per file.", n=limits.rows))
        if len(values) > limits.columns:
            raise SheetError(
                _("Row %(row)s has more than %(n)s columns.", row=len(table) + 1, n=limits.columns)
            )
        for value in values:
            if len(value) > limits.cell_chars:
                raise SheetError(_cell_too_long(len(table) + 1, limits))
            chars += len(value)
        if chars > limits.total_chars:
            raise SheetError(_("The file holds too much text to import at once."))
        table.append(values)
    while table and not any(table[-1]):
        table.pop()  # trailing blank rows count for nothing
    return table


def _cell_too_long(row: int, limits: Limits) -> str:
    return _("Row %(row)s has a cell longer than %(n)s characters.", row=row, n=limits.cell_chars)


# --- CSV


class _Capped(io.RawIOBase):
    """A binary stream that refuses to give more than ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__()
        self._stream, self._left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise SheetError(_("The file is too large to import."))
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _csv_rows(stream: IO[bytes], limits: Limits) -> Iterator[list[str]]:
    """The CSV's rows, decoded as UTF-8 (a byte-order mark allowed) while it is read."""
    text = io.TextIOWrapper(
        io.BufferedReader(_Capped(stream, limits.file_bytes)), encoding="utf-8-sig", newline=""
    )
    try:
        lines = _checked_lines(text, limits)
        head = list(itertools.islice(lines, 2))
        yield from csv.reader(itertools.chain(head, lines), delimiter=_delimiter(head))
    except UnicodeDecodeError as exc:
        raise SheetError(_("The CSV file must be encoded as UTF-8.")) from exc
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise SheetError(_line_too_long(limits)) from exc
        raise SheetError(_("The CSV file could not be read.")) from exc
    finally:
        text.detach()  # the caller's stream stays open


def _delimiter(head: list[str]) -> str:
    """``;`` when the header splits into more cells by it than by commas, else ``,``.

    Excel under Vietnamese (and most European) regional settings saves "CSV" with ``;``
    between cells, and this app's own ``?sep=semicolon`` exports do too. The first line
    that splits differently decides: the header (an export's title line, one quoted cell,
    splits alike and is passed over), not the data, whose texts may hold either sign.
    """
    for line in head:
        by_semicolon, by_comma = (len(next(csv.reader([line], delimiter=d))) for d in ";,")
        if by_semicolon != by_comma:
            return ";" if by_semicolon > by_comma else ","
    return ","


def _checked_lines(text: IO[str], limits: Limits) -> Iterator[str]:
    """The file's lines, refusing a NUL (a binary file, or a trick) and a huge line."""
    longest = _longest_line(limits)
    while True:
        line = text.readline(longest + 1)
        if not line:
            return
        if len(line) > longest:
            raise SheetError(_line_too_long(limits))
        if "\x00" in line:
            raise SheetError(_("The CSV file contains a NUL character and cannot be read."))
        yield line


def _longest_line(limits: Limits) -> int:
    """Every cell at its longest, quoted, with its comma."""
    return (limits.cell_chars + 3) * limits.columns + 2


def _line_too_long(limits: Limits) -> str:
    return _("A line of the file is longer than %(n)s characters.", n=_longest_line(limits))


# --- XLSX


def _xlsx_rows(stream: IO[bytes], limits: Limits) -> Iterator[list[str]]:
    """The first worksheet's rows, streamed by openpyxl's read-only reader."""
    source = _seekable(stream, limits)
    try:
        with zipfile.ZipFile(source) as archive:
            sizes = {part.filename: part.file_size for part in archive.infolist()}
        # Every part but the sheets is read whole by openpyxl (the shared strings above all):
        # a part that unpacks to more than the limit is refused before it is opened.
        if any(
            size > limits.unpacked_bytes
            for name, size in sizes.items()
            if not name.startswith("xl/worksheets/")
        ):
            raise SheetError(_("The file is too large to import."))
        source.seek(0)
        sheet = _first_sheet(source)
    except SheetError:
        raise
    except Exception as exc:  # zipfile, XML and openpyxl raise many kinds on a corrupt file
        raise SheetError(_("The spreadsheet could not be opened.")) from exc
    try:
        declared = _declared_rows(sheet)
        if declared is not None and declared > limits.rows + 1:
            raise SheetError(_("At most %(n)s rows per file.", n=limits.rows))
        # The sheet streams, but one cell is built whole: a sheet too big to be a real
        # upload (a zip bomb, or a cell of a gigabyte) is refused before its rows are read.
        if sizes.get(sheet._worksheet_path, 0) > limits.unpacked_bytes:
            raise SheetError(_("The file is too large to import."))
        # The dimension may be missing or lie: read the rows that are there, stop at the limit.
        rows = sheet.iter_rows(min_row=1, values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a part that breaks half-way through
                raise SheetError(_("The spreadsheet could not be opened.")) from exc
            yield [_text(value) for value in values]
    finally:
        sheet.parent._archive.close()


def _first_sheet(source: IO[bytes]) -> Any:
    """The workbook's first worksheet, opened read-only with cached values (never formulas).

    openpyxl's ``load_workbook`` is taken apart here for one reason: opening a read-only
    sheet scans it for its size, and a sheet without a ``<dimension>`` is parsed whole
    by that scan (35 s for 500,000 rows) before a single row is handed out. The sheet
    below skips the scan; :func:`_declared_rows` reads the dimension from the first bytes.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            """No size scan: rows are read until there are none, or until the limit."""

    reader = ExcelReader(source, read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    for entry, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return Sheet(reader.wb, entry.name, rel.target, reader.shared_strings)
    reader.archive.close()
    raise SheetError(_("The file is empty."))


def _declared_rows(sheet: Any) -> int | None:
    """The last row the sheet's ``<dimension>`` declares, read from the sheet's first bytes."""
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    with sheet._get_source() as src:
        for _event, element in iterparse(src, events=("start",)):
            if element.tag == f"{{{SHEET_MAIN_NS}}}dimension":
                try:
                    return range_boundaries(element.get("ref", ""))[3]
                except (TypeError, ValueError):
                    return None  # an unreadable dimension is no dimension
            if element.tag == f"{{{SHEET_MAIN_NS}}}sheetData":
                return None
    return None


def _seekable(stream: IO[bytes], limits: Limits) -> IO[bytes]:
    """The upload itself when it can seek (a zip is read from its end), else a bounded copy."""
    try:
        if stream.seekable():
            stream.seek(0, io.SEEK_END)
            size = stream.tell()
            stream.seek(0)
            if size > limits.file_bytes:
                raise SheetError(_("The file is too large to import."))
            return stream
    except (AttributeError, OSError):
        pass
    data = _Capped(stream, limits.file_bytes).read()
    return io.BytesIO(data)


def _text(value: Any) -> str:
    """A cell as the text a CSV would hold: dates in ISO 8601, whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
