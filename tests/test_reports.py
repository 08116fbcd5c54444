"""The half-year and year report (issue 21, item 3): the Word document opens, and its tables
hold the pages' figures for the same unit and period (the rates export of "where to act",
the items failing most, the visit ledger's export, plan against done, the unit page's
secretaries)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from docx import Document
from flask import Flask
from flask.testing import FlaskClient

from coso.dashboard import analysis
from coso.dashboard.rules import Period
from coso.extensions import db
from coso.judging.queries import thresholds
from coso.models import Unit
from coso.plans import queries as plan_queries
from coso.plans import rules as plan_rules
from coso.reports.document import BAR
from tests.conftest import AuthActions
from tests.test_dashboard import TODAY, login, seed_demo

H2 = Period(date(2025, 7, 1), date(2025, 12, 31))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    return seed_demo(app)


def _document(client: FlaskClient, unit_id: int, query: str) -> Any:
    response = client.get(f"/reports/{unit_id}.docx?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == DOCX
    assert "attachment" in response.headers["Content-Disposition"]
    return Document(io.BytesIO(response.data))


def _rows(table: Any) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _number(text: str) -> int:
    return int(text.replace(".", "").replace(",", ""))


def _csv(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_half_year_report_holds_the_pages_figures(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    province = world["province"]
    doc = _document(client, province, "year=2025&part=h2")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "01/07/2025" in text and "31/12/2025" in text
    assert "Báo cáo" in doc.paragraphs[0].text  # Vietnamese by default
    rates, chart, items, cadres, plans, actions = doc.tables[:6]
    (secretaries,) = [t for t in doc.tables if "Tỷ lệ bí thư là đảng viên" in _rows(t)[0]]
    (difficulties,) = [t for t in doc.tables if _rows(t)[0][0] == "Loại"]

    # Compliance by unit: the rates export of "where to act" for the same unit and period.
    page = _csv(client, f"/dashboard/rates.csv?unit={province}&from=2025-07-01&to=2025-12-31")
    got = _rows(rates)[1:]
    assert len(got) == len(page)
    assert got[-1][0].startswith("Toàn ")  # the total row, last as on the page
    for row, line in zip(got[:-1], page[:-1], strict=True):
        assert row[0] == line["Đơn vị"]
    for row, line in zip(got, page, strict=True):
        assert _number(row[1]) == int(line["Chi đoàn"])
        assert _number(row[2]) == int(line["Chi đoàn được đánh giá"])
        assert _number(row[4]) == int(line["Lượt đánh giá"])
        assert _number(row[5]) == int(line["Đạt yêu cầu"])
    # The chart: one bar per unit, as long as its rate.
    with app.app_context():
        unit = db.session.get(Unit, province)
        found, total = analysis.child_rates(unit, H2)
        assert total.evaluations > 100
        bars = [row[2] for row in _rows(chart)[1:]]
        assert bars == ["█" * round((r.rate or 0) * BAR) for r in found]
        # The items failing most: as "where to act" lists them.
        failing = analysis.failing_items(unit, H2, total.evaluations, "vi", limit=10)
        assert [(r[0], _number(r[2]), _number(r[3])) for r in _rows(items)[1:]] == [
            (i.code, i.fail, i.partial) for i in failing
        ]
        # Plan against done: the plans page's tally for the area.
        period = plan_queries.area_period(unit, H2.start, H2.end, TODAY)
        tally = plan_rules.report(period.facts, period.visits, H2.start, H2.end, TODAY).total
        assert [_number(v) for v in _rows(plans)[-1][1:]] == [
            tally.planned,
            tally.done,
            tally.missed,
            tally.upcoming,
            tally.replanned,
            tally.unplanned,
        ]
        # Secretaries: the unit page's summary (the half is not over: as of today).
        _children, summary = analysis.child_summaries(unit, TODAY, thresholds(unit))
        last = _rows(secretaries)[-1]
        assert (_number(last[1]), _number(last[2]), _number(last[4])) == (
            summary.branches,
            summary.party_secretaries,
            summary.secretary_changes,
        )
    assert len(_rows(cadres)) > 1 and len(_rows(actions)) >= 2
    # Difficulties (issue 19): the area's, per category, as the rules count them in the half.
    with app.app_context():
        from coso.reports.queries import difficulties as difficulty_summary

        named, times = difficulty_summary(db.session.get(Unit, province), H2)
    got = _rows(difficulties)[1:]
    assert [row[0] for row in got[:-1]] == [name for name, _c in named]
    assert [_number(v) for v in got[-1][1:]] == [
        sum(c.raised for _n, c in named),
        sum(c.answered for _n, c in named),
        sum(c.closed for _n, c in named),
        sum(c.open_at_end for _n, c in named),
    ]
    assert sum(c.raised for _n, c in named) > 0
    assert times.answered > 0
    assert f"({times.answered} khó khăn được trả lời trong kỳ)" in text


def test_the_year_report_counts_the_ledgers_days(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    province = world["province"]
    doc = _document(client, province, "year=2025&part=year")
    cadres = _rows(doc.tables[3])[1:]
    ledger = _csv(client, f"/visits/ledger.csv?unit={province}&year=2025")
    days = {line["Cán bộ"]: int(line["Tổng số ngày"]) for line in ledger}
    targets = {line["Cán bộ"]: int(line["Chỉ tiêu"]) for line in ledger}
    assert {row[0] for row in cadres} == set(days)
    for row in cadres:
        assert _number(row[2]) == days[row[0]]
        assert float(row[3].replace(",", ".")) == targets[row[0]]
    assert "chưa kết thúc" in "\n".join(p.text for p in doc.paragraphs)  # as of 20/11/2025


def test_the_report_page_links_the_document(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "commune")
    commune = world["communes"][0]
    page = client.get(f"/reports?unit={commune}&year=2025&part=h2")
    assert page.status_code == 200
    assert f"/reports/{commune}.docx?year=2025&amp;part=h2" in page.get_data(as_text=True)
    doc = _document(client, commune, "year=2025&part=h2")
    assert doc.tables
    assert client.get(f"/reports/{world['province']}.docx").status_code == 403


@pytest.mark.parametrize(
    "query", ["year=abc", "year=1999", "year=2031", "part=q3", "year=2025&part=<b>", "year=20255"]
)
def test_hostile_periods_get_a_clear_error(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], query: str
) -> None:
    login(auth, "province")
    assert client.get(f"/reports/{world['province']}.docx?{query}").status_code == 422
    page = client.get(f"/reports?{query}")
    assert page.status_code == 422 and "field-error" in page.get_data(as_text=True)


def test_who_may_have_the_report(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    for username in ("secretary", "cadre"):
        login(auth, username)
        assert client.get("/reports").status_code == 403
        assert client.get(f"/reports/{world['communes'][0]}.docx").status_code == 403
        auth.logout()
    login(auth, "province")
    assert client.get("/reports/999999.docx").status_code == 404


def test_the_report_command_writes_the_document(
    app: Flask, world: dict[str, Any], tmp_path: Any
) -> None:
    runner = app.test_cli_runner()
    with app.app_context():
        code = db.session.get(Unit, world["province"]).code
    out = tmp_path / "report.docx"
    result = runner.invoke(
        args=[
            "report",
            "--unit",
            code,
            "--year",
            "2025",
            "--part",
            "h2",
            "--lang",
            "en",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    doc = Document(str(out))
    assert doc.paragraphs[0].text == "Report on branch meetings"
    assert "Second half of 2025" in doc.paragraphs[1].text
    bad = runner.invoke(args=["report", "--unit", "NOPE", "--year", "2025", "--out", str(out)])
    assert bad.exit_code != 0 and "NOPE" in bad.output
    old = runner.invoke(args=["report", "--unit", code, "--year", "1990", "--out", str(out)])
    assert old.exit_code != 0
