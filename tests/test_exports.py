"""Exports: CSV and XLSX of the flagged list, the per-unit rates and the visit ledger."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from coso import spreadsheets as exports
from tests.conftest import AuthActions
from tests.test_dashboard import all_listed, login, seed_demo
from tests.test_dashboard_where import table_rows


def world_name(client: FlaskClient, unit_id: int) -> str:
    from coso.extensions import db
    from coso.models import Unit

    with client.application.app_context():
        return db.session.get(Unit, unit_id).name


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    return seed_demo(app)


@pytest.fixture
def province(client: FlaskClient, auth: AuthActions, world: dict[str, Any]) -> FlaskClient:
    login(auth, "province")
    return client


def _xlsx(client: FlaskClient, url: str) -> list[tuple[Any, ...]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == exports.XLSX_MIMETYPE
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] and not any(rows[0][1:])  # the title line, one cell, above the header
    return rows[1:]


def _xlsx_sheet(client: FlaskClient, url: str):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(client.get(url).data)).active


def _csv(client: FlaskClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for Vietnamese
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


FLAGGED_HEADERS = [
    "Chi đoàn",
    "Mã",
    "Đơn vị cấp trên",
    "Tình trạng",
    "Từ ngày",
    "Lý do",
    "Nghiêm trọng",
    "Lần đánh giá gần nhất",
    "Điểm",
    "Cán bộ đánh giá",  # msgid "Evaluated by"
    "Việc khắc phục đang mở",
    "Việc khắc phục quá hạn",
    "Đánh giá chưa xác nhận",
]


@pytest.mark.parametrize(
    "query",
    ["", "state=all", "state=repeat&sort=-since", "reason=item:P10&state=all", "serious=1"],
)
def test_flagged_exports_hold_the_pages_rows(
    province: FlaskClient, world: dict[str, Any], query: str
) -> None:
    ids = all_listed(province, query or "state=attention")
    codes = _codes(province, ids)
    rows = _xlsx(province, f"/dashboard/flagged.xlsx?{query}")
    assert list(rows[0]) == FLAGGED_HEADERS
    assert [row[1] for row in rows[1:]] == codes  # same rows, same order
    text = _csv(province, f"/dashboard/flagged.csv?{query}")
    assert text[0] == FLAGGED_HEADERS
    assert [row[1] for row in text[1:]] == codes


def _codes(client: FlaskClient, ids: list[int]) -> list[str]:
    from coso.extensions import db
    from coso.models import Unit

    with client.application.app_context():
        by_id = {u.id: u.code for u in db.session.query(Unit).filter(Unit.id.in_(ids))}
    return [by_id[i] for i in ids]


def test_flagged_export_of_one_commune_and_repeat(
    province: FlaskClient, world: dict[str, Any]
) -> None:
    commune = world["communes"][0]
    query = f"unit={commune}&state=repeat"
    page = province.get(f"/dashboard?{query}").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'<tr data-branch-id="(\d+)"', page)]
    rows = _xlsx(province, f"/dashboard/flagged.xlsx?{query}")
    assert [row[1] for row in rows[1:]] == _codes(province, ids)
    assert all(row[3] for row in rows[1:])


def test_dates_are_dates_and_numbers_numbers(province: FlaskClient, world: dict[str, Any]) -> None:
    sheet = _xlsx_sheet(province, "/dashboard/flagged.xlsx?state=all")
    since, last, score, opened = sheet["E3"], sheet["H3"], sheet["I3"], sheet["K3"]
    assert since.is_date and isinstance(since.value, date)
    assert since.number_format == "DD/MM/YYYY"
    assert last.is_date
    assert isinstance(score.value, int | float) and score.number_format == "0.0"
    assert isinstance(opened.value, int)
    assert sheet.freeze_panes == "A3"  # the title line and the header stay in view
    text = _csv(province, "/dashboard/flagged.csv?state=all")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", text[1][4])  # ISO dates in CSV
    assert text[1][6] in ("Có", "Không")


def test_reasons_are_in_vietnamese_words(province: FlaskClient, world: dict[str, Any]) -> None:
    rows = _xlsx(province, "/dashboard/flagged.xlsx?state=repeat")
    reasons = " ".join(str(row[5]) for row in rows[1:])
    assert "P" in reasons and any(ord(ch) > 127 for ch in reasons)


def test_rates_export_holds_the_tables_rows_and_total(
    province: FlaskClient, world: dict[str, Any]
) -> None:
    page = province.get("/dashboard/where?month=2025-10").get_data(as_text=True)
    table = table_rows(page, "rates-table")
    total = re.search(r'id="rates-total">(.*?)</tr>', page, re.S).group(1)
    total_cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", total)
    ]
    expected = [*table.values(), total_cells]
    rows = _xlsx(province, "/dashboard/rates.xlsx?month=2025-10")
    assert rows[0][0] == "Đơn vị" and "Tỷ lệ đạt" in rows[0]
    assert [row[0] for row in rows[1:-1]] == [cells[0] for cells in table.values()]
    assert rows[-1][0] == world_name(province, world["province"])  # the total row last
    assert [[str(row[1]), str(row[4]), str(row[5])] for row in rows[1:]] == [
        [cells[1], cells[3], cells[4]] for cells in expected
    ]
    sheet = _xlsx_sheet(province, "/dashboard/rates.xlsx?month=2025-10")
    assert sheet["G2"].value == "Tỷ lệ đạt" and sheet["G3"].number_format == "0.0%"
    assert sheet["H3"].is_date and sheet["H3"].value.date() == date(2025, 10, 1)
    text = _csv(province, "/dashboard/rates.csv?from=2025-09-01&to=2025-10-31")
    assert text[1][7:] == ["2025-09-01", "2025-10-31"]


def test_ledger_export_holds_the_pages_rows(province: FlaskClient, world: dict[str, Any]) -> None:
    page = province.get("/visits/ledger").get_data(as_text=True)
    totals = re.findall(r'class="num total"><strong>(\d+)</strong>', page)
    rows = _xlsx(province, "/visits/ledger.xlsx")
    headers = list(rows[0])
    assert headers[0] == "Cán bộ" and "Tổng số ngày" in headers and "Chỉ tiêu" in headers
    assert [str(row[headers.index("Tổng số ngày")]) for row in rows[1:]] == totals
    behind = _xlsx(province, "/visits/ledger.xlsx?behind=1")
    assert len(behind) - 1 == page.count('class="is-behind"')
    assert {row[headers.index("Chậm tiến độ")] for row in behind[1:]} == {"Có"}
    text = _csv(province, "/visits/ledger.csv")
    assert [row[headers.index("Tổng số ngày")] for row in text[1:]] == totals


def test_bad_filters_do_not_export(province: FlaskClient) -> None:
    assert province.get("/dashboard/flagged.csv?state=nope").status_code == 422
    assert province.get("/dashboard/rates.xlsx?month=2025-99").status_code == 422
    assert province.get("/visits/ledger.csv?year=abc").status_code == 422


def test_text_that_looks_like_a_formula_stays_text(app: Flask) -> None:
    columns = [
        exports.Column("Tên", lambda r: r["name"]),
        exports.Column("Ngày", lambda r: r["d"], "date"),
    ]
    rows = [{"name": '=HYPERLINK("x")', "d": date(2025, 1, 2)}, {"name": "Bình thường", "d": None}]
    with app.test_request_context():
        text = exports.to_csv(columns, rows).decode("utf-8-sig")
        sheet = load_workbook(io.BytesIO(exports.to_xlsx(columns, rows, "Thử"))).active
    assert "'=HYPERLINK" in text and "2025-01-02" in text
    assert sheet["A2"].value.startswith("'=") and sheet["B2"].is_date and sheet["B3"].value is None
    assert sheet.title == "Thử"


@pytest.mark.parametrize(
    "name",
    ["ĐN-Ω1.csv", 'a"b; filename=evil.csv', "tab\there.xlsx", "Báo cáo tháng 12.xlsx", "ω.csv"],
)
def test_every_download_header_is_ascii_and_cannot_be_broken_out_of(name: str) -> None:
    header = exports.attachment(name)
    header.encode("latin-1")  # a WSGI server sends headers as Latin-1: never a 500
    assert header.isascii()
    plain = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in plain and "\t" not in plain and ";" not in plain
    assert header.endswith("filename*=UTF-8''" + quote(name, safe=""))


#: Every route that answers a file to download, and URLs that reach it (issue 15 item 2:
#: every download names its file one way, through ``spreadsheets.attachment``).
DOWNLOADS = {
    "admin.audit_export": [
        "/admin/audit.csv",
        "/admin/audit.xlsx",
        "/admin/audit.csv?sep=semicolon",
    ],
    "admin.units_export": ["/admin/units/export?format=csv", "/admin/units/export?format=xlsx"],
    "dashboard.export_flagged": ["/dashboard/flagged.csv", "/dashboard/flagged.xlsx"],
    "dashboard.export_rates": ["/dashboard/rates.csv", "/dashboard/rates.xlsx"],
    # The Central Committee's roll-up: the demo here has no central unit, so its header is
    # checked on a national tree by tests/test_national.py (test_the_export_names_its_file).
    "national.export": [],
    "visits.export_ledger": ["/visits/ledger.csv", "/visits/ledger.xlsx"],
    "meetings.export": ["/meetings/export.csv", "/meetings/export.xlsx?view=day"],
    "plans.export_report": [
        "/plans/report.csv",
        "/plans/report.xlsx?by=commune",
        "/plans/report.csv?sep=semicolon",
    ],
    "plans.export_next": ["/plans/next.csv", "/plans/next.xlsx"],
    "secretaries.export": ["/secretaries/export.csv", "/secretaries/export.xlsx"],
    "difficulties.export": ["/difficulties/export.csv", "/difficulties/export.xlsx"],
    "training.export": ["/training.csv", "/training.xlsx", "/training.csv?sep=semicolon"],
    "training.export_difficulties": ["/training/difficulties.csv", "/training/difficulties.xlsx"],
    # Issue 21: every answer (streamed) and the report document; ``{province}`` is filled in.
    "answers.download": [
        "/exports/{province}/answers.csv",
        "/exports/{province}/evaluations.xlsx",
        "/exports/{province}/answers.csv?sep=semicolon",
    ],
    "reports.download": ["/reports/{province}.docx?year=2025&part=h2"],
}
ONE_WAY = re.compile(r"attachment; filename=\"[ -!#-:<-\[\]-~]+\"; filename\*=UTF-8''[\w%.~-]+")


def test_every_download_route_is_in_the_list(app: Flask) -> None:
    """A new download is added to DOWNLOADS, so the test below checks its header too."""
    found = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if re.search(r"\.(<any\(csv, xlsx\):fmt>|<fmt>|csv|xlsx|docx)$|export", rule.rule)
        and rule.endpoint != "answers.index"  # the export page, whose links are the downloads
    }
    assert found == set(DOWNLOADS)


def test_every_download_names_its_file_one_way(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "admin")
    for urls in DOWNLOADS.values():
        for url in urls:
            response = client.get(url.format(province=world["province"]))
            assert response.status_code == 200, url
            header = response.headers["Content-Disposition"]
            assert ONE_WAY.fullmatch(header), (url, header)
            assert response.headers.get("Cache-Control") == "private, no-store", url
