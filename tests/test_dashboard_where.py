"""Where to act, good practices and the drill-down (unit and branch pages), against the database."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.judging import flags
from coso.models import (
    BranchStatus,
    CorrectiveAction,
    Evaluation,
    EvaluationAnswer,
    Feedback,
    SecretaryTerm,
    Unit,
)
from tests.conftest import AuthActions
from tests.test_dashboard import OVERDUE_DAYS, TODAY, login, seed_demo

OCTOBER = (date(2025, 10, 1), date(2025, 10, 31))


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    return seed_demo(app)


@pytest.fixture
def province(client: FlaskClient, auth: AuthActions, world: dict[str, Any]) -> FlaskClient:
    login(auth, "province")
    return client


def _standing(start: date, end: date) -> list[Evaluation]:
    """Evaluations in the period that no correction replaced (a plain scan: this is the oracle)."""
    replaced = set(
        db.session.scalars(
            sa.select(Evaluation.supersedes_id).where(Evaluation.supersedes_id.is_not(None))
        )
    )
    return [
        ev
        for ev in db.session.scalars(sa.select(Evaluation))
        if start <= ev.meeting_date <= end and ev.id not in replaced
    ]


def _under(unit_id: int) -> set[int]:
    unit = db.session.get(Unit, unit_id)
    return set(
        db.session.scalars(
            sa.select(Unit.id).where(
                unit.subtree_clause(), Unit.kind == "branch", Unit.active.is_(True)
            )
        )
    )


def percent(part: int, whole: int) -> str:
    """A share as the pages print it: whole per cent, halves to even (as Babel rounds)."""
    return f"{round(part / whole * 100)}\u00a0%"  # a non-breaking space, as fmt_percent writes it


def table_rows(page: str, table_id: str) -> dict[int, list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert table, table_id
    rows = {}
    for unit_id, body in re.findall(r'<tr data-unit-id="(\d+)">(.*?)</tr>', table.group(0), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        rows[int(unit_id)] = [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
    return rows


def test_rates_per_commune_match_the_evaluations(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    page = province.get("/dashboard/where?month=2025-10").get_data(as_text=True)
    rows = table_rows(page, "rates-table")
    with app.app_context():
        evaluations = _standing(*OCTOBER)
        assert set(rows) == set(world["communes"])
        totals = Counter()
        for commune in world["communes"]:
            branches = _under(commune)
            mine = [ev for ev in evaluations if ev.branch_id in branches]
            compliant = sum(ev.compliant for ev in mine)
            evaluated = len({ev.branch_id for ev in mine})
            cells = rows[commune]
            assert cells[1] == str(len(branches))
            assert cells[2].startswith(f"{evaluated} (")
            assert cells[3] == str(len(mine))
            assert cells[4] == str(compliant)
            assert cells[5] == percent(compliant, len(mine))
            totals.update(branches=len(branches), evaluations=len(mine), compliant=compliant)
    assert totals["branches"] == 40
    total = re.search(r'id="rates-total">(.*?)</tr>', page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", total)]
    assert cells[1:] == [
        str(totals["branches"]),
        cells[2],
        str(totals["evaluations"]),
        str(totals["compliant"]),
        percent(totals["compliant"], totals["evaluations"]),
    ]
    # Weakest first.
    shares = [int(cells[5].split()[0]) for cells in rows.values() if cells[5] != "—"]
    assert shares == sorted(shares)


def test_rates_of_a_commune_are_per_branch_and_a_range_works(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    commune = world["communes"][0]
    page = province.get(f"/dashboard/where?unit={commune}&from=2025-08-01&to=2025-11-20").get_data(
        as_text=True
    )
    rows = table_rows(page, "rates-table")
    with app.app_context():
        branches = _under(commune)
        evaluations = _standing(date(2025, 8, 1), date(2025, 11, 20))
        assert set(rows) == branches
        for branch_id in branches:
            mine = [ev for ev in evaluations if ev.branch_id == branch_id]
            assert rows[branch_id][3] == str(len(mine))
            assert rows[branch_id][4] == str(sum(ev.compliant for ev in mine))


def test_monthly_trend_counts_every_standing_evaluation(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    page = province.get("/dashboard/where?month=2025-10").get_data(as_text=True)
    table = re.search(r'id="trend-table".*?</table>', page, re.S).group(0)
    rows = re.findall(
        r"<tr><td>(\d\d/\d\d)</td><td[^>]*>(\d+)</td><td[^>]*>([^<]*)</td></tr>", table
    )
    assert len(rows) == 12 and rows[0][0] == "10/25" and rows[-1][0] == "11/24"
    with app.app_context():
        evaluations = _standing(date(2024, 11, 1), date(2025, 10, 31))
    per_month = Counter(ev.meeting_date.strftime("%m/%y") for ev in evaluations)
    assert {label: int(n) for label, n, _ in rows} == {
        label: per_month.get(label, 0) for label, _, _ in rows
    }
    assert (
        '<svg class="chart" id="trend-chart"' in page
        and '<svg class="chart" id="rates-chart"' in page
    )


def test_failing_items_match_the_answers(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    page = province.get("/dashboard/where?month=2025-10").get_data(as_text=True)
    found = re.findall(
        r'<tr data-item="(\w+)">.*?<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>', page, re.S
    )
    with app.app_context():
        ids = {ev.id for ev in _standing(*OCTOBER)}
        counted: Counter[tuple[str, str]] = Counter()
        for answer in db.session.scalars(sa.select(EvaluationAnswer)):
            if answer.evaluation_id in ids and answer.value in ("fail", "partial"):
                counted[(answer.item_code, answer.value)] += 1
    assert found
    for code, fail, partial in found:
        assert (int(fail), int(partial)) == (counted[(code, "fail")], counted[(code, "partial")])
    fails = [int(f) for _, f, _ in found]
    assert fails == sorted(fails, reverse=True)
    assert int(found[0][1]) == max(counted[(code, "fail")] for code, _ in counted)


@pytest.mark.parametrize(
    "query",
    [
        "month=2025-13",
        "month=abc",
        "from=2025-10-10&to=2025-10-01",
        "from=2020-01-01&to=2025-01-01",
        "unit=x",
        # Outside the years 2000-2100, ISO weeks, the basic form (issue 17, items 9 and 16).
        "from=0001-01-01&to=0001-12-31",
        "from=0002-01-01&to=0002-01-31",
        "from=0001-01-01",
        "to=0001-01-01",
        "from=9999-12-01&to=9999-12-31",
        "month=0000-01",
        "month=0001-01",
        "month=9999-12",
        "from=2026-W49-1",
        "from=20261201",
        "month=202612",
    ],
)
def test_where_refuses_bad_periods_with_a_message(province: FlaskClient, query: str) -> None:
    response = province.get(f"/dashboard/where?{query}")
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "query", ["from=0001-01-01&to=0001-12-31", "month=0001-01", "from=9999-12-01"]
)
def test_rates_download_refuses_dates_out_of_bounds(
    province: FlaskClient, fmt: str, query: str
) -> None:
    response = province.get(f"/dashboard/rates.{fmt}?{query}")
    assert response.status_code == 422


def test_where_fragment_for_htmx(province: FlaskClient) -> None:
    response = province.get("/dashboard/where?month=2025-09", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text and 'id="where-view"' in text


def test_good_practices_are_the_recommended_ones(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    page = province.get("/dashboard/practices").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'<li class="practice" data-evaluation-id="(\d+)"', page)]
    with app.app_context():
        expected = db.session.scalars(
            sa.select(Evaluation)
            .where(Evaluation.recommend_practice.is_(True))
            .order_by(Evaluation.meeting_date.desc(), Evaluation.id.desc())
        ).all()
        assert shown == [ev.id for ev in expected] and shown
        for ev in expected:
            assert ev.good_practice in page and ev.branch.name in page
    commune = world["communes"][0]
    narrowed = province.get(f"/dashboard/practices?unit={commune}").get_data(as_text=True)
    with app.app_context():
        under = _under(commune)
        wanted = [ev.id for ev in expected if ev.branch_id in under]
    assert [int(i) for i in re.findall(r'data-evaluation-id="(\d+)"', narrowed)] == wanted


def test_commune_page_lists_its_branches_with_states_and_profile(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    commune = world["communes"][0]
    page = province.get(f"/units/{commune}").get_data(as_text=True)
    rows = table_rows(page, "children")
    with app.app_context():
        branches = db.session.scalars(sa.select(Unit).where(Unit.parent_id == commune)).all()
        assert set(rows) == {b.id for b in branches}
        for branch in branches:
            state = flags.effective_state(
                db.session.get(BranchStatus, branch.id), TODAY, OVERDUE_DAYS
            )[0]
            assert f'class="state state-{state}"' in re.search(
                rf'<tr data-unit-id="{branch.id}">(.*?)</tr>', page, re.S
            ).group(1)
    assert f"/dashboard?unit={commune}" in page  # the province can jump to the list


def test_province_page_rolls_up_states_and_secretaries_per_commune(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    page = province.get(f"/units/{world['province']}").get_data(as_text=True)
    rows = table_rows(page, "children")
    year_ago = TODAY - timedelta(days=365)
    with app.app_context():
        assert set(rows) == set(world["communes"])
        for commune in world["communes"]:
            branches = db.session.scalars(sa.select(Unit).where(Unit.id.in_(_under(commune)))).all()
            party = sum(1 for b in branches if b.secretary_party_member)
            changes = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(SecretaryTerm)
                .where(
                    SecretaryTerm.branch_id.in_([b.id for b in branches]),
                    SecretaryTerm.role == "secretary",  # turnover counts secretaries, not deputies
                    SecretaryTerm.ended_on > year_ago,
                    SecretaryTerm.ended_on <= TODAY,
                )
            )
            cells = rows[commune]
            assert cells[2] == str(len(branches))
            assert cells[3] == percent(party, len(branches))
            assert cells[4] == str(changes)
            states = Counter(
                flags.effective_state(db.session.get(BranchStatus, b.id), TODAY, OVERDUE_DAYS)[0]
                for b in branches
            )
            html = re.search(rf'<tr data-unit-id="{commune}">(.*?)</tr>', page, re.S).group(1)
            for state in (flags.REPEAT, flags.FLAGGED, flags.OVERDUE, flags.NEVER):
                tag = f'data-state="{state}" data-count="{states[state]}"'
                assert (tag in html) == bool(states[state]), (state, states[state])


def test_branch_page_tells_its_story(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    branch_id = world["secretary_branch"]
    page = province.get(f"/units/{branch_id}").get_data(as_text=True)
    with app.app_context():
        branch = db.session.get(Unit, branch_id)
        evaluations = db.session.scalars(
            sa.select(Evaluation).where(Evaluation.branch_id == branch_id)
        ).all()
        feedback = db.session.scalars(
            sa.select(Feedback).where(Feedback.evaluation_id.in_([e.id for e in evaluations]))
        ).all()
        actions = db.session.scalars(
            sa.select(CorrectiveAction).where(CorrectiveAction.branch_id == branch_id)
        ).all()
        terms = db.session.scalars(
            sa.select(SecretaryTerm).where(SecretaryTerm.branch_id == branch_id)
        ).all()
        shown = [
            int(i) for i in re.findall(r'<li class="ev [^"]+" data-evaluation-id="(\d+)"', page)
        ]
        assert sorted(shown) == sorted(e.id for e in evaluations)
        dates = [db.session.get(Evaluation, i).meeting_date for i in shown]
        assert dates == sorted(dates, reverse=True)
        for ev in evaluations:
            assert f"/evaluations/{ev.id}" in page
        for item in feedback:
            if item.reply:
                assert item.reply in page
        for action in actions:
            assert action.description in page
        for term in terms:
            assert term.name in page
        assert branch.secretary_name in page
    assert page.count("state-repeat") == 1  # one badge: the branch's own state
    assert 'id="branch-reasons"' in page


def test_unit_pages_for_other_roles_hide_province_links(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "commune")
    page = client.get(f"/units/{world['communes'][0]}").get_data(as_text=True)
    assert "/dashboard?" not in page and 'id="children"' in page
    assert client.get(f"/units/{world['communes'][1]}").status_code == 403
    login(auth, "secretary")
    assert client.get(f"/units/{world['secretary_branch']}").status_code == 200
    assert client.get(f"/units/{world['communes'][0]}").status_code == 403


def test_branch_page_offers_a_cadre_to_evaluate_and_log_a_visit(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "cadre")
    page = client.get(f"/units/{world['secretary_branch']}").get_data(as_text=True)
    assert f"/evaluate/{world['secretary_branch']}" in page
    assert f"/visits/new?unit_id={world['secretary_branch']}" in page


def test_show_all_evaluations_of_a_long_history(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    from coso import demo

    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        demo.seed(branches=6, months=30, today=TODAY)
        branch_id, total = db.session.execute(
            sa.select(Evaluation.branch_id, sa.func.count())
            .group_by(Evaluation.branch_id)
            .order_by(sa.func.count().desc())
        ).first()
    assert total > 24
    login(auth, "province")
    recent = client.get(f"/units/{branch_id}").get_data(as_text=True)
    every = client.get(f"/units/{branch_id}?all=1").get_data(as_text=True)
    assert recent.count("data-evaluation-id=") == 24
    assert every.count("data-evaluation-id=") == total
    assert f"/units/{branch_id}?all=1" in recent
