"""Every CSV and XLSX file in and out: reports, list exports, the imports' files.

One writer (``coso.spreadsheets.writing``: the XLSX a spreadsheet user uses as it
is, CSV for scripts and a CSV for Excel under Vietnamese regional settings), one rule
for formula-like cells (``safe_text``, undone on the way in by ``unquote``), one
``Content-Disposition`` (``attachment``), one reader of uploaded tables
(``read_records``) with one error for a file that cannot be read (``SheetError``).

Column headers are Vietnamese (the reports go up the Union's hierarchy in
Vietnamese, whatever language the exporting user reads); the title line above them
(``Heading``: what, which unit, which filters, when) is in the reader's language.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, request, stream_with_context
from itsdangerous import BadSignature, URLSafeTimedSerializer

from coso import clock
from coso.i18n import gettext as _
from coso.spreadsheets.cells import safe_text, unquote
from coso.spreadsheets.reading import Limits, SheetError, read_records, read_table
from coso.spreadsheets.writing import (
    DATE_FORMAT,
    PLAIN,
    VIETNAMESE,
    Column,
    CsvStyle,
    csv_chunks,
    headers,
    listed,
    to_csv,
    to_xlsx,
    xlsx_to_file,
)

__all__ = [
    "DATE_FORMAT",
    "FORMATS",
    "PLAIN",
    "VIETNAMESE",
    "XLSX_MIMETYPE",
    "Column",
    "CsvStyle",
    "Heading",
    "Limits",
    "SheetError",
    "attachment",
    "file_name",
    "headers",
    "listed",
    "read_records",
    "read_table",
    "response",
    "safe_text",
    "sign_rows",
    "streamed_response",
    "to_csv",
    "to_xlsx",
    "unquote",
    "unsign_rows",
]

FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: ``?sep=`` of a CSV download: the comma file scripts read (the default), or the
#: semicolon file Excel opens in columns under Vietnamese regional settings.
CSV_STYLES = {"": PLAIN, "comma": PLAIN, "semicolon": VIETNAMESE}


@dataclass(frozen=True)
class Heading:
    """The title line of a file: what it holds, for which unit, through which filters.

    Built by the view in the reader's language; ``line`` adds when the file was made.
    """

    what: str
    unit: str = ""
    filters: Sequence[str] = ()

    def line(self, made: datetime) -> str:
        parts = [self.what]
        if self.unit:
            parts.append(_("Unit: %(unit)s", unit=self.unit))
        if self.filters:
            parts.append(_("Filters: %(filters)s", filters="; ".join(self.filters)))
        else:
            parts.append(_("No filters"))
        parts.append(_("Made on %(when)s", when=made.strftime("%d/%m/%Y %H:%M")))
        return " — ".join(parts)


def made_at() -> datetime:
    """Now, on the app's clock and in its time zone (a pinned day in tests and demos)."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    now = datetime.now(zone).replace(tzinfo=None)
    return datetime.combine(clock.today(), now.time())


def file_name(*parts: Any) -> str:
    """``coso-<parts>`` joined by dashes, empty parts left out (no extension)."""
    return "-".join(["coso", *(str(part) for part in parts if part not in ("", None))])


def _ascii(text: str) -> str:
    """Vietnamese letters without their marks (``Đ`` as ``D``), other non-ASCII dropped."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def attachment(name: str) -> str:
    """The ``Content-Disposition`` of a download named ``name``.

    An ASCII ``filename`` for old clients (Vietnamese letters without their marks; quotes,
    controls and other characters dropped, so a name can never break out of it) and the
    exact name as RFC 6266 / RFC 5987 ``filename*``.
    """
    ascii_name = "".join(c for c in _ascii(name) if 32 <= ord(c) < 127 and c not in '"\\;')
    ascii_name = ascii_name or "export" + (name[name.rfind(".") :] if "." in name else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def csv_style() -> CsvStyle:
    """The CSV style the request asks for (``?sep=``); a 422 for an unknown one."""
    style = CSV_STYLES.get(request.args.get("sep", ""))
    if style is None:
        abort(422, description=_("Unknown separator: use sep=comma or sep=semicolon."))
    return style


def response(
    fmt: str,
    columns: Sequence[Column],
    rows: Iterable[Any],
    filename: str,
    sheet_name: str,
    heading: Heading | None = None,
) -> Response:
    """A download of ``rows`` as ``fmt`` (``csv`` or ``xlsx``) named ``filename``.``fmt``.

    The XLSX and the semicolon CSV start with ``heading``'s line; the plain CSV does not.
    """
    title = heading.line(made_at()) if heading is not None else ""
    if fmt == "xlsx":
        body, mimetype = to_xlsx(columns, rows, sheet_name, title), XLSX_MIMETYPE
    else:
        body, mimetype = to_csv(columns, rows, csv_style(), title), "text/csv; charset=utf-8"
    result = Response(body, mimetype=mimetype)
    result.headers["Content-Disposition"] = attachment(f"{filename}.{fmt}")
    result.headers["Cache-Control"] = "private, no-store"
    return result


#: Bytes read per chunk when a finished XLSX file is streamed out.
FILE_CHUNK = 64 * 1024


def streamed_response(
    fmt: str,
    columns: Sequence[Column],
    rows: Iterable[Any],
    filename: str,
    sheet_name: str,
    heading: Heading | None = None,
) -> Response:
    """Like :func:`response`, for files too large to hold: ``rows`` is read lazily, once.

    CSV is written while it is sent (a streaming response; ``rows`` is consumed inside
    the request's context, after the view returned). XLSX cannot be sent before it is
    finished (a zip file's directory comes last): it is written by openpyxl's write-only
    mode to an anonymous temporary file, then streamed from it and the file closed (and
    so deleted). Either way memory holds one chunk of rows, never the file.
    """
    title = heading.line(made_at()) if heading is not None else ""
    if fmt == "xlsx":
        spool = tempfile.TemporaryFile(prefix="coso-export-")  # noqa: SIM115 (closed once sent)
        try:
            xlsx_to_file(columns, rows, sheet_name, title, spool)
            size = spool.tell()
            spool.seek(0)
        except BaseException:
            spool.close()
            raise

        def read() -> Iterator[bytes]:
            try:
                while chunk := spool.read(FILE_CHUNK):
                    yield chunk
            finally:
                spool.close()

        result = Response(read(), mimetype=XLSX_MIMETYPE, direct_passthrough=True)
        result.call_on_close(spool.close)
        result.content_length = size
    else:
        style = csv_style()
        result = Response(
            stream_with_context(csv_chunks(columns, rows, style, title)),
            mimetype="text/csv; charset=utf-8",
        )
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
