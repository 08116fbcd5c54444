"""Hostile spreadsheets: formulas, NULs, absurd counts, odd files; and exports that cannot
be turned into formulas (CSV/formula injection).
"""

from __future__ import annotations

import csv
import gc
import html
import io
import warnings
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, Unit, User
from coso.models.units import UNIT_KINDS
from tests.admin_support import apply_token, csv_bytes, upload
from tests.builders import small_province
from tests.conftest import AuthActions

HEADER = ["code", "name", "kind", "parent_code", "member_count"]


@pytest.fixture
def admin(app: Flask, client: FlaskClient, auth: AuthActions) -> FlaskClient:
    with app.app_context():
        small_province()
    return client


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Unit, User, AuditEvent)
        }


def xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row(**changes: str) -> list[str]:
    values = {"code": "CD-NEW", "name": "Chi đoàn mới", "kind": "branch", "parent_code": "XA-A"}
    values["member_count"] = "12"
    values.update(changes)
    return [values[name] for name in HEADER]


UNIT_CASES: dict[str, tuple[str, bytes, tuple[str, str]]] = {
    "csv-with-nul": (
        "units.csv",
        csv_bytes([HEADER, row(name="Chi\x00đoàn")]),
        (
            "Tệp CSV có ký tự NUL nên không đọc được.",
            "The CSV file contains a NUL character and cannot be read.",
        ),
    ),
    "xlsx-formula-name": (
        "units.xlsx",
        xlsx([HEADER, row(name='=HYPERLINK("http://evil.example","bấm vào")')]),
        ("cột name đang để trống", "name is empty"),
    ),
    "sql-in-kind": (
        "units.csv",
        csv_bytes([HEADER, row(kind="branch'; DROP TABLE unit; --")]),
        (
            "kind phải là một trong các giá trị: " + ", ".join(UNIT_KINDS),
            "kind must be one of: " + ", ".join(UNIT_KINDS),
        ),
    ),
    "negative-member-count": (
        "units.csv",
        csv_bytes([HEADER, row(member_count="-5")]),
        (
            "member_count phải là số nguyên từ 0 đến 100000",
            "member_count must be a whole number from 0 to 100000",
        ),
    ),
    "absurd-member-count": (
        "units.csv",
        csv_bytes([HEADER, row(member_count="9" * 40)]),
        (
            "member_count phải là số nguyên từ 0 đến 100000",
            "member_count must be a whole number from 0 to 100000",
        ),
    ),
    "code-with-no-break-space": (
        "units.csv",
        csv_bytes([HEADER, row(code="CD\u00a0NEW")]),
        (
            "code phải gồm 1 đến 40 ký tự: chữ cái A-Z không dấu",
            "code must be 1 to 40 characters: letters A-Z without marks",
        ),
    ),
    "not-a-spreadsheet": (
        "units.exe",
        b"MZ\x90\x00",
        ("Hãy dùng tệp .csv hoặc .xlsx.", "Use a .csv or .xlsx file."),
    ),
    "corrupt-xlsx": (
        "units.xlsx",
        b"PK\x03\x04 not really a zip",
        ("Không mở được bảng tính.", "The spreadsheet could not be opened."),
    ),
}


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name", list(UNIT_CASES))
def test_hostile_unit_spreadsheet_is_refused_and_nothing_is_stored(
    app: Flask, admin: FlaskClient, auth: AuthActions, name: str, lang: str
) -> None:
    filename, content, messages = UNIT_CASES[name]
    with app.app_context():
        db.session.scalar(sa.select(User).where(User.username == "admin")).locale = lang
        db.session.commit()
    auth.login("admin")
    before = counts(app)
    response = upload(admin, "/admin/units/import", filename, content)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert html.escape(messages[0] if lang == "vi" else messages[1]) in page
    assert 'name="token"' not in page  # nothing to apply
    assert counts(app) == before


def test_user_spreadsheet_with_sql_in_roles_is_refused(
    app: Flask, admin: FlaskClient, auth: AuthActions
) -> None:
    auth.login("admin")
    before = counts(app)
    content = csv_bytes(
        [
            ["username", "display_name", "roles", "unit_code"],
            ["newbie", "Người mới", "admin' OR '1'='1", "XA-A"],
        ]
    )
    response = upload(admin, "/admin/users/import", "users.csv", content)
    assert response.status_code == 422
    assert "vai trò" in response.get_data(as_text=True).lower() or "admin&#39; or" in (
        response.get_data(as_text=True).lower()
    )
    assert counts(app) == before


def test_oversized_upload_is_a_clear_413(app: Flask, admin: FlaskClient, auth: AuthActions) -> None:
    auth.login("admin")
    before = counts(app)
    big = csv_bytes([HEADER] + [row(code=f"CD-{i}") for i in range(60_000)])
    assert len(big) > 2 * 1024 * 1024
    response = upload(admin, "/admin/units/import", "units.csv", big)
    status, page = response.status_code, response.get_data(as_text=True)
    # Werkzeug's form parser leaves its half-written temporary file to the garbage collector
    # when it stops at the limit; drop the response holding it and collect it here, quietly.
    del response
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert status == 413
    assert "Dữ liệu gửi lên quá lớn." in page
    assert counts(app) == before


def test_formula_text_is_stored_as_text_and_exported_neutralised(
    app: Flask, admin: FlaskClient, auth: AuthActions
) -> None:
    """A CSV cell that looks like a formula is plain text: kept, and exported with a quote."""
    auth.login("admin")
    formula = '=HYPERLINK("http://evil.example","x")'
    content = csv_bytes([HEADER, row(name=formula), row(code="CD-TWO", name="@SUM(A1:A9)")])
    dry = upload(admin, "/admin/units/import", "units.csv", content)
    assert dry.status_code == 200, dry.get_data(as_text=True)
    applied = admin.post(
        "/admin/units/import/apply",
        data={
            "token": apply_token(dry.get_data(as_text=True)),
            "filename": "units.csv",
            "csrf_token": auth.csrf_token(),
        },
    )
    assert applied.status_code == 303
    with app.app_context():
        names = set(db.session.scalars(sa.select(Unit.name).where(Unit.code.like("CD-%"))))
    assert formula in names and "@SUM(A1:A9)" in names

    exported = admin.get("/admin/units/export?format=csv")
    assert exported.status_code == 200
    cells = [
        cell for line in csv.reader(io.StringIO(exported.get_data(as_text=True))) for cell in line
    ]
    assert "'" + formula in cells and "'@SUM(A1:A9)" in cells
    assert formula not in cells and "@SUM(A1:A9)" not in cells

    audit = admin.get("/admin/audit.csv")
    assert audit.status_code == 200
    audit_cells = [
        c for line in csv.reader(io.StringIO(audit.get_data(as_text=True))) for c in line
    ]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in audit_cells)
