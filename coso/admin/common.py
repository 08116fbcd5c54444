"""What the administration pages share: the blueprint, htmx-aware rendering, exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from coso import scope
from coso.extensions import db
from coso.htmx import wants_fragment
from coso.models import Unit

#: How long a dry-run report may be applied after it was shown (seconds).
DRY_RUN_MAX_AGE = 2 * 3600
#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAGE_SIZE = 50


def render_page(full: str, partial: str, status: int = 200, /, **context: Any) -> Any:
    """The full page when opened directly, the partial it includes when htmx asks."""
    return render_template(partial if wants_fragment() else full, **context), status


def user_now() -> Any:
    """The signed-in user as a model instance (not the proxy), for the domain functions."""
    return current_user._get_current_object()


def unit_in_scope(unit_id: int, action: str) -> Unit:
    """Load a unit the signed-in user may ``action`` on: 404 unknown, 403 outside."""
    return scope.unit_or_403(current_user, unit_id, action)


def unit_by_code(code: str, user: Any, action: str) -> tuple[Unit | None, str | None]:
    """A unit chosen by its code in a form, with the message to show when it cannot be used."""
    code = (code or "").strip()
    if not code:
        return None, _("Enter a unit code.")
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        return None, _("No unit has the code %(code)s.", code=code)
    if not scope.may(user, action, unit):
        return None, _("The unit %(code)s is outside your area.", code=code)
    return unit, None


def int_arg(name: str) -> int | None:
    """A positive integer query argument, or None when absent or not a number."""
    text = request.args.get(name, "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def page_arg() -> int:
    return max(1, min(int_arg("page") or 1, 10_000))


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


# --- Exports


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text with a UTF-8 byte-order mark, so Excel opens Vietnamese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download (built in memory: exports are bounded by the caller)."""
    body = "".join(csv_stream(header, rows))
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """An XLSX download; text cells stay text even when they start with "="."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(header))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
