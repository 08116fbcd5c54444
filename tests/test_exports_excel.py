"""Exports a spreadsheet user uses as they are (issue 16, item 12).

The XLSX: a title line (unit, filters, when) above the header, the autofilter on the
header row, both frozen, long text wrapped, columns that fit, typed cells; file names
that say what they hold; the ``;`` / decimal-comma CSV Excel opens in columns under
Vietnamese regional settings (the ``,`` CSV unchanged for scripts); the audit export
in the reader's language.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from coso import spreadsheets as exports
from coso.spreadsheets.reading import read_records
from tests.conftest import AuthActions
from tests.test_dashboard import TODAY, login, seed_demo
from tests.test_exports import FLAGGED_HEADERS

DAY = TODAY.strftime("%d/%m/%Y")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    return seed_demo(app)


@pytest.fixture
def province(client: FlaskClient, auth: AuthActions, world: dict[str, Any]) -> FlaskClient:
    login(auth, "province")
    return client


def _unit(client: FlaskClient, unit_id: int) -> tuple[str, str]:
    from coso.extensions import db
    from coso.models import Unit

    with client.application.app_context():
        unit = db.session.get(Unit, unit_id)
        return unit.code, unit.name


def _sheet(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    return load_workbook(io.BytesIO(response.data)).active


def _file_name(client: FlaskClient, url: str) -> str:
    header = client.get(url).headers["Content-Disposition"]
    plain = header.split('filename="', 1)[1].split('"', 1)[0]
    assert header.endswith("filename*=UTF-8''" + quote(plain, safe=""))  # ASCII names agree
    return plain


def test_the_flagged_xlsx_is_ready_to_filter_and_read(
    province: FlaskClient,
    world: dict[str, Any],
) -> None:
    _code, name = _unit(province, world["province"])
    sheet = _sheet(province, "/dashboard/flagged.xlsx?state=all&serious=1")
    rows = list(sheet.iter_rows(values_only=True))
    title = rows[0][0]
    assert not any(rows[0][1:])  # one cell: the title line
    assert "Danh sách chi đoàn cần chú ý" in title and f"Đơn vị: {name}" in title
    assert "Tình trạng: Tất cả chi đoàn" in title and "Chỉ trường hợp nghiêm trọng" in title
    assert re.search(rf"Xuất lúc {DAY} \d\d:\d\d", title)
    assert list(rows[1]) == FLAGGED_HEADERS  # the header under it
    assert sheet.auto_filter.ref == f"A2:M{len(rows)}"  # the header row, every data row
    assert sheet.freeze_panes == "A3"
    reasons = FLAGGED_HEADERS.index("Lý do") + 1
    assert all(row[reasons - 1].alignment.wrap_text for row in sheet.iter_rows(min_row=3))
    assert not sheet.cell(3, 1).alignment.wrap_text  # short text stays on one line
    widths = {col: sheet.column_dimensions[col].width for col in "ABEF"}
    longest_name = max(len(str(row[0])) for row in rows[2:])
    assert widths["A"] == min(longest_name + 2, 50)  # as wide as the longest branch name
    assert widths["E"] == 12 and widths["F"] <= 50  # a date; the wrapped reasons
    assert all(sheet.cell(r, 5).is_date for r in range(3, len(rows) + 1))
    assert sheet.cell(3, 5).number_format == "DD/MM/YYYY"
    assert all(isinstance(sheet.cell(r, 11).value, int) for r in range(3, len(rows) + 1))


def test_the_title_line_speaks_the_readers_language(
    app: Flask,
    province: FlaskClient,
    world: dict[str, Any],
) -> None:
    from coso.extensions import db
    from coso.models import User

    with app.app_context():
        db.session.get(User, world["users"]["province"]).locale = "en"
        db.session.commit()
    commune = world["communes"][0]
    _code, name = _unit(province, commune)
    title = _sheet(province, f"/dashboard/flagged.xlsx?unit={commune}&state=repeat")["A1"].value
    assert title.startswith(f"Branches on the flagged list — Unit: {name} — Filters: State: ")
    assert "Repeat offender" in title and f"Made on {DAY}" in title
    rates = _sheet(province, "/dashboard/rates.xlsx?month=2025-10")
    assert "Period: 01/10/2025 – 31/10/2025" in rates["A1"].value
    assert rates["A2"].value == "Đơn vị"  # the column headers stay Vietnamese
    ledger = _sheet(province, "/visits/ledger.xlsx?behind=1")["A1"].value
    assert "Year: 2025" in ledger and "Only those behind the pace" in ledger


def test_file_names_say_what_they_hold(
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
) -> None:
    login(auth, "admin")
    code, _name = _unit(client, world["province"])
    day = TODAY.isoformat()
    names = {
        "/dashboard/flagged.xlsx": f"coso-flagged-{code}-{day}.xlsx",
        "/dashboard/flagged.csv?state=repeat&serious=1": (
            f"coso-flagged-{code}-repeat-serious-{day}.csv"
        ),
        "/dashboard/rates.xlsx?month=2025-10": f"coso-rates-{code}-2025-10.xlsx",
        "/dashboard/rates.csv?from=2025-09-01&to=2025-10-31": (
            f"coso-rates-{code}-2025-09-01_2025-10-31.csv"
        ),
        "/visits/ledger.xlsx?behind=1": f"coso-visits-{code}-2025-behind-{day}.xlsx",
        "/admin/audit.xlsx": f"coso-audit-{code}-{day}.xlsx",
        "/admin/units/export?format=xlsx": f"coso-units-{code}-{day}.xlsx",
    }
    for url, expected in names.items():
        assert _file_name(client, url) == expected, url


def test_a_vietnamese_name_keeps_its_letters_in_the_ascii_file_name() -> None:
    header = exports.attachment("coso-units-ĐN-Bình Thạnh-Ω.xlsx")
    assert header.startswith('attachment; filename="coso-units-DN-Binh Thanh-.xlsx"; ')
    assert header.endswith(quote("coso-units-ĐN-Bình Thạnh-Ω.xlsx", safe=""))


def _semicolon_csv(client: FlaskClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel reads the Vietnamese right
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def _number(text: str) -> float:
    assert "." not in text  # a decimal comma, never a point
    return float(text.replace(",", "."))


def test_the_semicolon_csv_opens_in_columns_with_vietnamese_settings(
    province: FlaskClient,
    world: dict[str, Any],
) -> None:
    rows = _semicolon_csv(province, "/dashboard/flagged.csv?state=all&sep=semicolon")
    assert len(rows[0]) == 1 and f"Xuất lúc {DAY}" in rows[0][0]  # the title line first
    assert rows[1] == FLAGGED_HEADERS
    plain = list(
        csv.reader(
            io.StringIO(province.get("/dashboard/flagged.csv?state=all").data.decode("utf-8-sig"))
        )
    )
    assert plain[0] == FLAGGED_HEADERS  # the comma file is unchanged: header first
    assert [row[1] for row in rows[2:]] == [row[1] for row in plain[1:]]
    scored = [(row, old) for row, old in zip(rows[2:], plain[1:], strict=True) if old[8]]
    assert scored
    for row, old in scored:
        assert _number(row[8]) == float(old[8])  # "7,5" where the comma file has "7.5"
        assert datetime.strptime(row[4], "%d/%m/%Y").date() == date.fromisoformat(old[4])
    assert any("," in row[8] for row, _old in scored)
    rates = _semicolon_csv(province, "/dashboard/rates.csv?month=2025-10&sep=semicolon")
    assert rates[1][0] == "Đơn vị" and rates[2][7:] == ["01/10/2025", "31/10/2025"]
    assert 0 <= _number(rates[-1][6]) <= 100  # the total's rate, as a percentage


def test_an_unknown_separator_is_a_clear_error(province: FlaskClient) -> None:
    response = province.get("/dashboard/flagged.csv?sep=tab")
    assert response.status_code == 422
    assert "sep=semicolon" in response.get_data(as_text=True)


def test_formula_like_text_stays_text_in_every_style(app: Flask) -> None:
    columns = [
        exports.Column("Tên", lambda r: r[0]),
        exports.Column("Điểm", lambda r: r[1], "number"),
    ]
    rows = [('=HYPERLINK("x")', 7.5), ("@SUM(A1)", None)]
    with app.test_request_context():
        text = exports.to_csv(columns, rows, exports.VIETNAMESE, "=cmd|' /C calc'!A0")
        book = exports.to_xlsx(columns, rows, "Thử", "+1+cmd")
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    assert lines == [
        ["'=cmd|' /C calc'!A0"],
        ["Tên", "Điểm"],
        ['\'=HYPERLINK("x")', "7,5"],
        ["'@SUM(A1)", ""],
    ]
    sheet = load_workbook(io.BytesIO(book)).active
    assert sheet["A1"].value == "'+1+cmd" and sheet["A3"].value.startswith("'=")
    assert sheet["A4"].value == "'@SUM(A1)" and sheet.auto_filter.ref == "A2:B4"


def test_an_export_with_its_title_line_imports_again(app: Flask) -> None:
    columns = exports.listed(["code", "name"])
    with app.test_request_context():
        book = exports.to_xlsx(columns, [["CD-1", "=Một"], ["CD-2", "Hai"]], "units", "Cây đơn vị")
        records = read_records("units.xlsx", io.BytesIO(book), ["code", "name"], 10)
    # The header is row 2: the first record stands for it, so row numbers stay the sheet's.
    assert records == [{}, {"code": "CD-1", "name": "=Một"}, {"code": "CD-2", "name": "Hai"}]


def test_a_semicolon_csv_imports_as_a_comma_one(app: Flask) -> None:
    """Excel under Vietnamese settings saves CSV with ';': the importer reads it, as it reads
    this app's own ';' export with its title line (a title holding commas and semicolons)."""
    from coso.spreadsheets.writing import VIETNAMESE

    columns = exports.listed(["code", "name"])
    rows = [["CD-1", "Chi đoàn ấp 1, xã An Bình"], ["CD-2", "=Hai; ba"]]
    expected = [{"code": "CD-1", "name": rows[0][1]}, {"code": "CD-2", "name": "=Hai; ba"}]
    with app.test_request_context():
        own = exports.to_csv(columns, rows, VIETNAMESE, title="Cây đơn vị, xã A; B")
        assert read_records("units.csv", io.BytesIO(own), ["code", "name"], 10) == [{}, *expected]
        typed = 'code;name\r\nCD-1;Chi đoàn ấp 1, xã An Bình\r\nCD-2;"=Hai; ba"\r\n'
        records = read_records("units.csv", io.BytesIO(typed.encode()), ["code", "name"], 10)
        assert records == expected
        # A comma file whose cells hold semicolons stays a comma file.
        comma = b"code,name\r\nCD-1,a;b;c\r\n"
        assert read_records("units.csv", io.BytesIO(comma), ["code", "name"], 10) == [
            {"code": "CD-1", "name": "a;b;c"}
        ]


def test_the_audit_export_reads_in_the_users_language(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
) -> None:
    from coso.extensions import db
    from coso.models import User

    with app.app_context():
        db.session.get(User, world["users"]["admin"]).locale = "en"
        db.session.commit()
    login(auth, "admin")
    sheet = _sheet(client, "/admin/audit.xlsx?kind=login")
    title, header = sheet["A1"].value, [cell.value for cell in sheet[2]]
    assert title.startswith("Audit log — Unit: ") and "Filters: Kind: Sign-in" in title
    assert header[:3] == ["Time", "User", "Event"] and header[-1] == "Details"
    assert sheet["A3"].is_date and sheet["A3"].number_format == "DD/MM/YYYY HH:MM:SS"
    assert sheet["C3"].value in ("Signed in", "Sign-in failed", "Signed out")
    assert sheet["I3"].alignment.wrap_text  # the details wrap
    assert sheet.auto_filter.ref == f"A2:I{sheet.max_row}"
    plain = client.get("/admin/audit.csv?kind=login").data.decode("utf-8-sig")
    assert re.match(r"Time,.*\r\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,", plain)  # scripts' file as before


def test_every_page_offers_excel_first(
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
) -> None:
    login(auth, "admin")
    for page in ("/dashboard?state=all", "/dashboard/where", "/visits/ledger", "/admin/audit"):
        html = client.get(page).get_data(as_text=True)
        links = re.findall(
            r'<a class="button[^"]*" href="([^"]+)" download data-download="([^"]+)"', html
        )
        assert [kind for _url, kind in links] == ["xlsx", "csv-semicolon", "csv"], page
        assert 'class="button primary"' in html and "Tải về cho Excel (.xlsx)" in html
        for url, _kind in links:
            assert client.get(url.replace("&amp;", "&")).status_code == 200, url
