"""Every answer exportable (issue 21, item 4): the evaluations and answers files of a unit and
a period, streamed, checked row for row against the database; who may have them; bad input."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from coso import spreadsheets as exports
from coso.extensions import db
from coso.models import ChecklistItem, Evaluation, EvaluationAnswer, Unit, User
from tests.conftest import AuthActions
from tests.test_dashboard import TODAY, login, seed_demo

START, END = date(2025, 7, 1), TODAY
PERIOD = f"from={START.isoformat()}&to={END.isoformat()}"
VALUES = {"pass": "Đạt", "partial": "Đạt một phần", "fail": "Không đạt", "na": "Không áp dụng"}


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    return seed_demo(app)


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.is_streamed  # written while it is sent, never held whole
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _expected_answers(unit_id: int, start: date, end: date) -> list[tuple[Any, ...]]:
    """The answers of the unit's evaluations in the period, straight from the tables."""
    unit = db.session.get(Unit, unit_id)
    texts = {
        (i.template_id, i.code): i.text_vi for i in db.session.scalars(sa.select(ChecklistItem))
    }
    rows = db.session.execute(
        sa.select(EvaluationAnswer, Evaluation, Unit)
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(unit.subtree_clause(), Evaluation.meeting_date.between(start, end))
    ).all()
    out = [
        (
            str(e.id),
            branch.code,
            branch.name,
            a.item_code,
            texts[(e.template_id, a.item_code)],
            VALUES.get(a.value, a.value),
            a.note or "",
        )
        for a, e, branch in rows
    ]
    return sorted(out, key=lambda r: (int(r[0]), r[3]))


def test_answers_csv_matches_the_database_row_for_row(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    province = world["province"]
    rows = _csv(client.get(f"/exports/{province}/answers.csv?{PERIOD}"))
    assert rows[0] == [
        "Số phiếu",
        "Mã chi đoàn",
        "Chi đoàn",
        "Mã tiêu chí",
        "Tiêu chí",
        "Câu trả lời",
        "Ghi chú",
    ]
    with app.app_context():
        expected = _expected_answers(province, START, END)
        total = db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationAnswer))
    assert len(expected) > 1000 and len(expected) < total  # the period cuts the history
    assert [tuple(r) for r in rows[1:]] == expected


def test_evaluations_xlsx_matches_the_database(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    commune = world["communes"][0]
    response = client.get(f"/exports/{commune}/evaluations.xlsx?{PERIOD}")
    assert response.status_code == 200
    assert response.mimetype == exports.XLSX_MIMETYPE
    assert "attachment" in response.headers["Content-Disposition"]
    assert int(response.headers["Content-Length"]) == len(response.data)
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    title, header, body = rows[0], rows[1], rows[2:]
    assert title[0].startswith("Evaluations") or title[0].startswith("Lượt đánh giá")
    assert "01/07/2025" in title[0]
    assert sheet.auto_filter.ref == f"A2:T{len(rows)}"
    assert sheet.freeze_panes == "A3"
    column = {name: i for i, name in enumerate(header)}
    first = next(sheet.iter_rows(min_row=3, max_row=3))
    assert first[column["Ngày sinh hoạt"]].number_format == exports.DATE_FORMAT
    assert first[column["Tỷ lệ dự họp"]].number_format == "0.0%"
    with app.app_context():
        unit = db.session.get(Unit, commune)
        expected = db.session.scalars(
            sa.select(Evaluation)
            .join(Unit, Unit.id == Evaluation.branch_id)
            .where(unit.subtree_clause(), Evaluation.meeting_date.between(START, END))
            .order_by(Evaluation.id)
        ).all()
        assert len(body) == len(expected) > 0
        for row, evaluation in zip(body, expected, strict=True):
            assert row[column["Số phiếu"]] == evaluation.id
            assert row[column["Mã chi đoàn"]] == evaluation.branch.code
            assert unit.name in row[column["Thuộc"]]
            assert row[column["Cán bộ đánh giá"]] == evaluation.cadre.display_name
            assert row[column["Ngày sinh hoạt"]].date() == evaluation.meeting_date
            assert row[column["Số đoàn viên"]] == evaluation.members_total
            assert row[column["Số đoàn viên có mặt"]] == evaluation.members_present
            assert row[column["Đạt yêu cầu"]] == ("Có" if evaluation.compliant else "Không")
            assert row[column["Nghiêm trọng"]] == ("Có" if evaluation.serious else "Không")
            assert row[column["Sửa phiếu số"]] == evaluation.supersedes_id
            assert row[column["Ảnh"]] == 0  # the demo's evaluations carry no photos
            if evaluation.score is not None:
                assert row[column["Điểm"]] == pytest.approx(evaluation.score)
            assert bool(row[column["Lý do"]]) == bool(evaluation.reasons)


def test_semicolon_csv_has_the_title_line(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    text = client.get(
        f"/exports/{world['province']}/evaluations.csv?{PERIOD}&sep=semicolon"
    ).get_data(as_text=True)
    lines = text.lstrip("\ufeff").splitlines()
    assert "01/07/2025" in lines[0] and ";" not in lines[0].split("—")[0]
    assert lines[1].startswith("Số phiếu;Mã chi đoàn;")
    assert all("/" in line.split(";")[5] for line in lines[2:5])  # dates as dd/mm/yyyy


def test_the_page_shows_counts_and_links(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    assert client.get("/exports").status_code == 200
    commune = world["communes"][0]
    page = client.get(f"/exports?unit={commune}&{PERIOD}&format=csv-semicolon")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    with app.app_context():
        n = db.session.scalar(
            sa.select(sa.func.count(Evaluation.id))
            .join(Unit, Unit.id == Evaluation.branch_id)
            .where(
                db.session.get(Unit, commune).subtree_clause(),
                Evaluation.meeting_date.between(START, END),
            )
        )
    assert f"{n} lượt đánh giá trong kỳ" in html
    assert f"/exports/{commune}/answers.csv?" in html and "sep=semicolon" in html
    assert f"/exports/{commune}/evaluations.csv?" in html


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=31/02/2025", 422),
        ("from=2025-13-01", 422),
        ("from=2025-09-01&to=2025-08-01", 422),
        ("from=2023-01-01&to=2025-06-30", 422),  # longer than a year
        ("from=<script>", 422),
        (f"{PERIOD}&sep=tab", 422),
    ],
)
def test_hostile_periods_get_a_clear_error(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], query: str, status: int
) -> None:
    login(auth, "province")
    response = client.get(f"/exports/{world['province']}/answers.csv?{query}")
    assert response.status_code == status
    page = client.get(f"/exports?unit={world['province']}&{query}&format=nope")
    assert page.status_code == 422
    assert "field-error" in page.get_data(as_text=True)


def test_who_may_export(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    province, commune = world["province"], world["communes"][0]
    other_commune = world["communes"][1]
    login(auth, "commune")  # the first commune's secretary: its own subtree only
    assert client.get(f"/exports/{commune}/answers.csv?{PERIOD}").status_code == 200
    assert client.get(f"/exports/{province}/answers.csv?{PERIOD}").status_code == 403
    assert client.get(f"/exports/{other_commune}/evaluations.xlsx").status_code == 403
    assert client.get("/exports/999999/answers.csv").status_code == 404
    assert client.get(f"/exports?unit={province}").status_code == 403
    auth.logout()
    for username in ("secretary", "cadre"):
        login(auth, username)
        assert client.get("/exports").status_code == 403
        assert client.get(f"/exports/{commune}/answers.csv").status_code == 403
        auth.logout()
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "province")) is not None


def test_an_empty_period_is_a_file_with_its_header(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    rows = _csv(
        client.get(f"/exports/{world['province']}/answers.csv?from=2020-01-01&to=2020-02-01")
    )
    assert len(rows) == 1
    response = client.get(
        f"/exports/{world['province']}/answers.xlsx?from=2020-01-01&to=2020-02-01"
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == 2
