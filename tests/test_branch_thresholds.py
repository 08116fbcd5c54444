"""A branch is judged by its own settings on every surface (issue 15, item 3).

Settings are inherited down the tree (province → commune → branch, the deepest
override wins). A commune with its own ``overdue_days`` once saw one branch in
two states on two pages: some pages applied the viewed unit's window, others the
branch's. ``coso.judging.queries.thresholds`` now resolves each branch's own
settings once per request, in Python and in SQL; these tests hold every surface
to it (the province list and its counts, the unit pages, the exports, the field
pack) and the SQL to the pure rule on generated trees. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from coso.dashboard import analysis
from coso.dashboard.words import state_label
from coso.extensions import db
from coso.feedback import rules as feedback_rules
from coso.judging import flags
from coso.judging.queries import Thresholds, count_states, settings_for_path, thresholds
from coso.models import BranchStatus, Evaluation, Unit, UnitSettings
from tests.builders import small_province
from tests.conftest import AuthActions

TODAY = date(2026, 6, 15)

#: Each branch's last meeting (days before TODAY) and the state it must show.
#: The province says 100 days, commune XA-B 30, and branch CD-B2 (under XA-B) 45.
LAST_MET = {"CD-A1": 60, "CD-A2": 110, "CD-B1": 60, "CD-B2": 40}
EXPECTED = {
    "CD-A1": flags.OK,  # 60 <= 100 (province)
    "CD-A2": flags.OVERDUE,  # 110 > 100 (province)
    "CD-B1": flags.OVERDUE,  # 60 > 30 (its commune): OK by the province's window
    "CD-B2": flags.OK,  # 40 <= 45 (its own): overdue by its commune's window
}
WINDOW = {"CD-A1": 100, "CD-A2": 100, "CD-B1": 30, "CD-B2": 45}


def _status(branch_id: int, last: date | None, state: str = flags.OK) -> BranchStatus:
    return BranchStatus(
        branch_id=branch_id,
        state=state if last is not None else flags.NEVER,
        since=last - timedelta(days=200) if last is not None else None,
        last_meeting_date=last,
        streak=0,
        serious=False,
        reasons=[],
    )


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """The small province with the three overrides and one OK status row per branch."""
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = small_province()
        province, (c1, c2) = data["province"], data["communes"]
        branches = {b.code: b for b in data["branches"]}
        db.session.add_all(
            [
                UnitSettings(unit_id=province.id, values={"overdue_days": 100}),
                UnitSettings(unit_id=c2.id, values={"overdue_days": 30}),
                UnitSettings(unit_id=branches["CD-B2"].id, values={"overdue_days": 45}),
            ]
        )
        for code, days in LAST_MET.items():
            db.session.add(_status(branches[code].id, TODAY - timedelta(days=days)))
        db.session.commit()
        return {
            "province": province.id,
            "communes": {"XA-A": c1.id, "XA-B": c2.id},
            "branches": {code: b.id for code, b in branches.items()},
        }


def _since(code: str) -> date | None:
    """Since when the expected state holds (``flags.effective_state``)."""
    last = TODAY - timedelta(days=LAST_MET[code])
    if EXPECTED[code] == flags.OVERDUE:
        return last + timedelta(days=WINDOW[code])
    return last - timedelta(days=200)


def _codes(world: dict[str, Any]) -> dict[int, str]:
    return {branch_id: code for code, branch_id in world["branches"].items()}


def _badge(html: str) -> str:
    found = re.search(r'class="state state-(\w+)"', html)
    assert found, html[:300]
    return found.group(1)


# ------------------------------------------------------------------ resolution


def test_thresholds_resolve_each_branchs_own_window(app: Flask, world: dict[str, Any]) -> None:
    with app.app_context():
        province = db.session.get(Unit, world["province"])
        commune = db.session.get(Unit, world["communes"]["XA-B"])
        assert province is not None and commune is not None
        by_unit, by_commune = thresholds(province), thresholds(commune)
        by_ids = thresholds(world["branches"].values())
        for code, branch_id in world["branches"].items():
            branch = db.session.get(Unit, branch_id)
            assert branch is not None
            own = settings_for_path(branch.path)
            assert own.overdue_days == WINDOW[code]
            assert by_unit.at(branch.path) == own == by_ids.at(branch.path)
            assert thresholds(branch).base == own
            if branch.path.startswith(commune.path):
                assert by_commune.at(branch.path) == own
        assert by_unit.base.overdue_days == 100 and by_commune.base.overdue_days == 30


def test_counts_and_summaries_use_each_branchs_window(app: Flask, world: dict[str, Any]) -> None:
    with app.app_context():
        province = db.session.get(Unit, world["province"])
        commune = db.session.get(Unit, world["communes"]["XA-B"])
        assert province is not None and commune is not None
        counts = count_states(province, TODAY)
        assert counts[flags.OVERDUE] == 2 and counts[flags.OK] == 2
        assert count_states(commune, TODAY)[flags.OVERDUE] == 1
        children, total = analysis.child_summaries(province, TODAY, thresholds(province))
        assert total.counts == counts
        by_code = {child.unit.code: child.counts for child in children}
        assert by_code["XA-B"][flags.OVERDUE] == 1 and by_code["XA-B"][flags.OK] == 1
        assert by_code["XA-A"][flags.OVERDUE] == 1 and by_code["XA-A"][flags.OK] == 1
        rows, _ = analysis.child_summaries(commune, TODAY, thresholds(commune))
        assert {row.unit.code: (row.state, row.since) for row in rows} == {
            code: (EXPECTED[code], _since(code)) for code in ("CD-B1", "CD-B2")
        }


# ---------------------------------------------------------------------- pages


def test_province_list_and_its_counts(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    codes = _codes(world)
    for state in (flags.OVERDUE, flags.OK):
        page = client.get(f"/dashboard?unit={world['province']}&state={state}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        listed = {codes[int(i)] for i in re.findall(r'<tr data-branch-id="(\d+)"', html)}
        assert listed == {code for code, st in EXPECTED.items() if st == state}
        count = re.search(rf'data-state="{state}"><strong>(\d+)</strong>', html)
        assert count and int(count.group(1)) == 2
    # The commune's own list says the same of its branches.
    html = client.get(f"/dashboard?unit={world['communes']['XA-B']}&state=all").get_data(
        as_text=True
    )
    rows = re.findall(r'<tr data-branch-id="(\d+)">(.*?)</tr>', html, re.S)
    assert {codes[int(i)]: _badge(row) for i, row in rows} == {
        "CD-B1": flags.OVERDUE,
        "CD-B2": flags.OK,
    }


def test_province_commune_and_branch_pages(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    html = client.get(f"/units/{world['province']}").get_data(as_text=True)
    commune_row = re.search(
        rf'<tr data-unit-id="{world["communes"]["XA-B"]}">(.*?)</tr>', html, re.S
    )
    assert commune_row and 'data-state="overdue" data-count="1"' in commune_row.group(1)
    html = client.get(f"/units/{world['communes']['XA-B']}").get_data(as_text=True)
    for code in ("CD-B1", "CD-B2"):
        row = re.search(rf'<tr data-unit-id="{world["branches"][code]}">(.*?)</tr>', html, re.S)
        assert row and _badge(row.group(1)) == EXPECTED[code], code
    for code, branch_id in world["branches"].items():
        html = client.get(f"/units/{branch_id}").get_data(as_text=True)
        section = html.split('id="branch-state"', 1)[1].split("</section>", 1)[0]
        assert _badge(section) == EXPECTED[code], code


def test_secretary_of_the_commune_sees_the_same(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    """A user whose own unit has another window still sees each branch by its own."""
    with app.app_context():
        # The commune user sits in XA-A (100 days); give XA-A 10 days, CD-A1 keeps 100.
        db.session.add(UnitSettings(unit_id=world["communes"]["XA-A"], values={"overdue_days": 10}))
        db.session.add(
            UnitSettings(unit_id=world["branches"]["CD-A1"], values={"overdue_days": 100})
        )
        db.session.commit()
    auth.login("commune")
    html = client.get(f"/units/{world['communes']['XA-A']}").get_data(as_text=True)
    for code in ("CD-A1", "CD-A2"):
        row = re.search(rf'<tr data-unit-id="{world["branches"][code]}">(.*?)</tr>', html, re.S)
        assert row and _badge(row.group(1)) == EXPECTED[code], code
    html = client.get(f"/units/{world['branches']['CD-A1']}").get_data(as_text=True)
    assert _badge(html.split('id="branch-state"', 1)[1]) == flags.OK


def test_home_counts(client: FlaskClient, auth: AuthActions, world: dict[str, Any]) -> None:
    """The home page's counts (branches under the province, each by its own window)."""
    auth.login("province")
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'class="count-overdue"><strong>2</strong>', html)
    assert re.search(r'class="count-ok"><strong>2</strong>', html)


# -------------------------------------------------------------------- exports


def _export_states(app: Flask, header: list[str], rows: list[list[Any]]) -> dict[str, str]:
    with app.test_request_context(), force_locale("vi"):
        by_label = {state_label(state): state for state in flags.STATES}
        code_at, state_at = header.index(_vi("Code")), header.index(_vi("State"))
    return {row[code_at]: by_label[row[state_at]] for row in rows}


def _vi(text: str) -> str:
    return gettext(text)


def test_csv_and_xlsx_exports(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    query = f"unit={world['province']}&state=all"
    response = client.get(f"/dashboard/flagged.csv?{query}")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert _export_states(app, table[0], table[1:]) == EXPECTED
    response = client.get(f"/dashboard/flagged.xlsx?{query}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = [str(cell) for cell in values[1]]  # under the title line
    assert _export_states(app, header, values[2:]) == EXPECTED


# ----------------------------------------------------------------- field pack


@pytest.mark.parametrize("username", ["cadre", "cadre_b"])
def test_field_pack(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], username: str
) -> None:
    """The phone's pack, for a cadre at the province and one at the commune with 30 days."""
    auth.login(username)
    response = client.get("/api/v1/field-pack")
    assert response.status_code == 200
    states = {b["code"]: b["state"] for b in response.get_json()["branches"]}
    assert states == {code: EXPECTED[code] for code in states}
    assert len(states) == (4 if username == "cadre" else 2)


def test_evaluation_start_page(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    """The cadre's branch picker orders and badges branches by the same states."""
    auth.login("cadre")
    html = client.get("/evaluate").get_data(as_text=True)
    items = re.findall(r'<li>\s*<a href="/evaluate/(\d+)">(.*?)</li>', html, re.S)
    assert {_codes(world)[int(i)]: _badge(item) for i, item in items} == EXPECTED


# ------------------------------------------------------------ SQL == Python


OVERRIDE = st.one_of(st.none(), st.integers(1, 120))


def test_sql_states_equal_python_on_generated_trees(app: Flask) -> None:
    """On random override trees and status rows, the SQL state and since of every branch,
    its alert cutoff, and the Python resolutions all agree with ``flags.effective_state``
    under the branch's own settings (``settings_for_path``)."""
    with app.app_context():
        data = small_province()
        province, communes, branches = data["province"], data["communes"], data["branches"]
        units = [province, *communes, *branches]
        ids = [unit.id for unit in units]

        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            overdue=st.lists(OVERRIDE, min_size=len(units), max_size=len(units)),
            unack=st.lists(OVERRIDE, min_size=len(units), max_size=len(units)),
            rows=st.lists(
                st.one_of(
                    st.none(),
                    st.tuples(st.sampled_from(flags.STATES), st.integers(0, 130)),
                ),
                min_size=len(branches),
                max_size=len(branches),
            ),
        )
        def check(overdue: list[int | None], unack: list[int | None], rows: list[Any]) -> None:
            try:
                for unit_id, days, late in zip(ids, overdue, unack, strict=True):
                    values = {"overdue_days": days, "unack_days": late}
                    values = {key: value for key, value in values.items() if value}
                    if values:
                        db.session.add(UnitSettings(unit_id=unit_id, values=values))
                stored: dict[int, BranchStatus | None] = {}
                for branch, row in zip(branches, rows, strict=True):
                    stored[branch.id] = None
                    if row is not None:
                        state, days = row
                        last = None if state == flags.NEVER else TODAY - timedelta(days=days)
                        stored[branch.id] = _status(branch.id, last, state)
                        db.session.add(stored[branch.id])
                db.session.flush()
                for scope in (province, communes[1]):
                    resolved = thresholds(scope)
                    _check_scope(resolved, scope, stored)
                _check_scope(thresholds(list(stored)), province, stored)
            finally:
                db.session.rollback()

        check()


def _check_scope(resolved: Thresholds, scope: Unit, stored: dict[int, BranchStatus | None]) -> None:
    cutoff = resolved.per_branch(
        lambda s: feedback_rules.unack_cutoff(TODAY, s.unack_days),
        lambda value: sa.literal(value, Evaluation.received_at.type),
    )
    found = db.session.execute(
        sa.select(
            Unit.id,
            Unit.path,
            resolved.state_expr(TODAY),
            resolved.since_expr(TODAY),
            cutoff,
        )
        .select_from(Unit)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
        .where(scope.subtree_clause(), Unit.kind == "branch")
    ).all()
    assert {row[0] for row in found} <= set(stored)
    for branch_id, path, state, since, late in found:
        own = settings_for_path(path)
        assert resolved.at(path) == own
        expected = flags.effective_state(stored[branch_id], TODAY, own.overdue_days)
        assert (
            (state, since) == expected == resolved.effective_state(stored[branch_id], path, TODAY)
        )
        assert _utc(late) == feedback_rules.unack_cutoff(TODAY, own.unack_days)


def _utc(value: Any) -> Any:
    """A literal read back: naive on some drivers, then meant as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
