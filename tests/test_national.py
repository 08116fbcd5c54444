"""The national tree (issue 22, item 1): the Central Committee above the provinces, the
central role, ``/national`` and its export, drill-down, and settings inherited from the top."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso import clock
from coso.checklists.service import create_default_template
from coso.dashboard.rules import previous_month
from coso.evaluations import service
from coso.extensions import db
from coso.judging import flags
from coso.judging.queries import settings_for_path
from coso.judging.scoring import DEFAULT_SETTINGS
from coso.models import BranchStatus, Evaluation, Unit, UnitSettings, User, Visit
from coso.visits.queries import ledger
from tests.builders import make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions


def _evaluate(
    app: Flask, branch: Unit, template_id: int, cadre: User, day: date, **values: str
) -> int:
    item = payload(branch.id, template_id, None, meeting_date=day.isoformat(), values=values)
    with app.test_request_context():
        result = service.submit(item, cadre)
    assert result.id is not None, result.errors
    return result.id


@pytest.fixture
def nation(app: Flask) -> dict[str, Any]:
    """A Central Committee over two provinces: the test province (4 branches) and a second
    one (3 branches), with evaluations last month and the month before, and visits."""
    with app.app_context():
        top = make_unit("TW", "central", name="Trung ương Đoàn")
        data = with_checklist(small_province(top))
        second = make_unit("TINH-2", "province", top, name="Tỉnh đoàn Hai")
        commune = make_unit("XA-2", "commune", second, name="Đoàn xã Hai")
        others = [
            make_unit(f"CD-2{i}", "branch", commune, name=f"Chi đoàn Hai {i}", member_count=20)
            for i in range(1, 4)
        ]
        template2 = create_default_template(second)
        central = make_user("central", "central", top)
        cadre2 = make_user("cadre2", "cadre", second)
        db.session.commit()
        month = previous_month(clock.today())
        before = month.start - timedelta(days=10)
        cadre = data["users"]["cadre"]
        b1, b2, b3, _b4 = data["branches"]
        tid = data["template"].id
        # The test province: last month 2 compliant, 1 not (P10 failed, critical); the month
        # before 1 not compliant.
        _evaluate(app, b1, tid, cadre, month.start + timedelta(days=2))
        _evaluate(app, b2, tid, cadre, month.start + timedelta(days=3))
        _evaluate(app, b3, tid, cadre, month.start + timedelta(days=4), P10="fail")
        _evaluate(app, b1, tid, cadre, before, P10="fail", P8="partial")
        # The second province: last month 1 compliant, 1 failed on P1 and P10.
        _evaluate(app, others[0], template2.id, cadre2, month.start + timedelta(days=5))
        _evaluate(
            app,
            others[1],
            template2.id,
            cadre2,
            month.start + timedelta(days=6),
            P1="fail",
            P10="fail",
        )
        today = clock.today()
        for user, days in ((cadre, 3), (cadre2, 5)):
            for n in range(days):
                day = date(today.year, 1, 1) + timedelta(days=n * 2)
                db.session.add(
                    Visit(
                        user_id=user.id,
                        unit_id=user.unit_id,
                        form="inspection",
                        start_date=day,
                        end_date=day,
                    )
                )
        db.session.commit()
        return {
            "top": top.id,
            "province": data["province"].id,
            "second": second.id,
            "month": month,
            "central": central.id,
        }


def _oracle(app: Flask, province_id: int, month: Any) -> dict[str, Any]:
    """A province's figures by plain scans and the province pages' own reads."""
    from coso.dashboard import analysis
    from coso.judging.queries import count_states
    from coso.models import EvaluationAnswer

    province = db.session.get(Unit, province_id)
    branches = set(
        db.session.scalars(
            sa.select(Unit.id).where(province.subtree_clause(), Unit.kind == "branch")
        )
    )
    standing = [
        ev
        for ev in db.session.scalars(sa.select(Evaluation))
        if ev.branch_id in branches and month.start <= ev.meeting_date <= month.end
    ]
    fails: dict[str, int] = {}
    for answer in db.session.scalars(sa.select(EvaluationAnswer)):
        if answer.evaluation_id in {ev.id for ev in standing} and answer.value == "fail":
            fails[answer.item_code] = fails.get(answer.item_code, 0) + 1
    rows = ledger(province, clock.today().year, clock.today())
    _rates, total = analysis.child_rates(province, month)
    return {
        "counts": count_states(province),
        "evaluations": len(standing),
        "compliant": sum(ev.compliant for ev in standing),
        "evaluated": len({ev.branch_id for ev in standing}),
        "where_total": (total.evaluations, total.compliant, total.evaluated),
        "fails": fails,
        "goers": len(rows),
        "days": sum(r.days.total for r in rows),
        "behind": sum(r.behind for r in rows),
    }


def test_rollup_figures_match_each_province(app: Flask, nation: dict[str, Any]) -> None:
    from coso.judging.queries import thresholds
    from coso.national import queries, rules

    with app.app_context():
        top = db.session.get(Unit, nation["top"])
        today = clock.today()
        rows = queries.rollup(top, nation["month"], today.year, today, thresholds(top), "vi")
        by_id = {row.unit.id: row for row in rows}
        assert set(by_id) == {nation["province"], nation["second"]}
        for province_id in (nation["province"], nation["second"]):
            row, expected = by_id[province_id], _oracle(app, province_id, nation["month"])
            assert row.counts == expected["counts"]
            assert (row.evaluations, row.compliant, row.evaluated) == expected["where_total"]
            assert row.evaluations == expected["evaluations"]
            assert row.compliant == expected["compliant"]
            assert row.evaluated == expected["evaluated"]
            assert row.trend[-1].evaluations == expected["evaluations"]
            assert {i.code: i.fail for i in row.items} == {
                code: n
                for code, n in expected["fails"].items()
                if code in {i.code for i in row.items}
            }
            assert (row.ledger.goers, row.ledger.days, row.ledger.behind) == (
                expected["goers"],
                expected["days"],
                expected["behind"],
            )
        # The figures of the fixture, counted by hand.
        first, second = by_id[nation["province"]], by_id[nation["second"]]
        assert (first.evaluations, first.compliant, first.branches) == (3, 2, 4)
        assert (second.evaluations, second.compliant, second.branches) == (2, 1, 3)
        assert first.trend[-2].evaluations == 1 and first.trend[-2].compliant == 0
        assert first.items[0].code == "P10" and first.items[0].fail == 1
        assert {i.code for i in second.items} >= {"P1", "P10"}
        assert second.counts[flags.NEVER] == 1 and first.counts[flags.NEVER] == 1
        total = rules.total(top, rows)
        assert total.evaluations == 5 and total.compliant == 3 and total.branches == 7


def test_the_central_user_sees_every_province(
    client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    auth.login("central")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/national")
    page = client.get("/national")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Tỉnh đoàn Thử nghiệm" in text and "Tỉnh đoàn Hai" in text
    for province_id in (nation["province"], nation["second"]):
        assert f'<tr data-unit-id="{province_id}">' in text
        assert f"/dashboard?unit={province_id}" in text
    assert 'id="nav-national"' in text
    # The drill-down of either province is open to the centre.
    for province_id in (nation["province"], nation["second"]):
        assert client.get(f"/dashboard?unit={province_id}").status_code == 200
        assert client.get(f"/dashboard/where?unit={province_id}").status_code == 200
        assert client.get(f"/visits/ledger?unit={province_id}").status_code == 200
        assert client.get(f"/units/{province_id}").status_code == 200
    # An htmx request gets the fragment only.
    fragment = client.get("/national", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith("{#") is False and "<html" not in fragment
    assert 'id="national-view"' in fragment


def _rows(page: str) -> list[str]:
    return re.findall(r'data-branch-id="(\d+)"', page) or re.findall(r'href="/units/(\d+)"', page)


def test_drill_down_shows_the_province_as_its_users_see_it(
    client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    auth.login("province")
    own = client.get("/dashboard").get_data(as_text=True)
    auth.logout()
    auth.login("central")
    drilled = client.get(f"/dashboard?unit={nation['province']}").get_data(as_text=True)
    assert _rows(own) and _rows(own) == _rows(drilled)
    assert re.search(r'id="state-counts".*?</ul>', own, re.S).group(0) == re.search(  # type: ignore[union-attr]
        r'id="state-counts".*?</ul>', drilled, re.S
    ).group(0)  # type: ignore[union-attr]
    # The unit filter offers the province's own communes, not another province's.
    select = re.search(r'<select[^>]*name="unit".*?</select>', drilled, re.S)
    assert select is not None
    assert "Đoàn xã An Bình" in select.group(0) and "Đoàn xã Bình Minh" in select.group(0)
    assert "Đoàn xã Hai" not in select.group(0)
    assert "Tỉnh đoàn Hai" in select.group(0)  # the other province, one step away


def test_a_province_cannot_see_the_nation_nor_another_province(
    client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    auth.login("province")
    assert client.get("/national").status_code == 403
    assert client.get("/national.csv").status_code == 403
    assert client.get(f"/dashboard?unit={nation['second']}").status_code == 403
    assert client.get(f"/dashboard?unit={nation['top']}").status_code == 403
    assert client.get("/").status_code == 200
    assert "nav-national" not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("admin")  # an administrator of the province is no Central Committee either
    assert client.get("/national").status_code == 403


def test_the_export_holds_what_the_page_shows(
    client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    auth.login("central")
    month = nation["month"].month
    response = client.get(f"/national.csv?month={month}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    body = [line for line in lines if line and line[0] in ("Tỉnh đoàn Thử nghiệm", "Tỉnh đoàn Hai")]
    assert len(body) == 2
    first = next(line for line in body if line[0] == "Tỉnh đoàn Thử nghiệm")
    assert first[1] == "TINH" and first[2] == "4"
    assert "3" in first and "P10" in " ".join(first)
    assert any(line and line[0] == "Trung ương Đoàn" for line in lines)  # the total
    xlsx = client.get(f"/national.xlsx?month={month}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/national.csv?month=13-2026").status_code == 422


def test_settings_inherit_from_the_top(
    app: Flask, client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    from coso.judging.schema import form_values

    with app.app_context():
        province = db.session.get(Unit, nation["province"])
        assert settings_for_path(province.path) == DEFAULT_SETTINGS  # the app's default
        values = form_values(DEFAULT_SETTINGS)
    auth.login("central")
    page = client.get(f"/admin/settings/{nation['top']}").get_data(as_text=True)
    assert 'id="national-default"' in page
    token = auth.csrf_token()
    response = client.post(
        f"/admin/settings/{nation['top']}",
        data={**values, "overdue_days": "30", "csrf_token": token},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        for unit_id in (nation["province"], nation["second"]):
            unit = db.session.get(Unit, unit_id)
            assert settings_for_path(unit.path).overdue_days == 30  # the national default
            assert settings_for_path(unit.path).score_threshold == 70
    shown = client.get(f"/admin/settings/{nation['province']}").get_data(as_text=True)
    assert "Theo Trung ương Đoàn: 30" in shown or "Inherited from Trung ương Đoàn: 30" in shown
    auth.logout()
    auth.login("province")  # the province sets its own, which wins in its subtree only
    response = client.post(
        f"/admin/settings/{nation['province']}",
        data={**values, "overdue_days": "20", "csrf_token": auth.csrf_token()},
    )
    assert response.status_code == 303
    with app.app_context():
        first = db.session.get(Unit, nation["province"])
        second = db.session.get(Unit, nation["second"])
        assert settings_for_path(first.path).overdue_days == 20
        assert settings_for_path(second.path).overdue_days == 30
        assert db.session.get(UnitSettings, nation["province"]).values == {"overdue_days": 20}
    own = client.get(f"/admin/settings/{nation['province']}").get_data(as_text=True)
    assert own.count("Theo mặc định của phần mềm") + own.count("the app's default") >= 8
    # The province may not change the national default.
    assert client.get(f"/admin/settings/{nation['top']}").status_code == 403


def test_seed_demo_national(app: Flask, runner: Any) -> None:
    result = runner.invoke(
        args=["seed-demo", "--provinces", "2", "--branches", "10", "--months", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "central" in result.output
    with app.app_context():
        kinds = dict(
            db.session.execute(sa.select(Unit.kind, sa.func.count()).group_by(Unit.kind)).all()
        )
        assert kinds["central"] == 1 and kinds["province"] == 2 and kinds["branch"] == 20
        top = db.session.scalar(sa.select(Unit).where(Unit.kind == "central"))
        assert top is not None and top.parent_id is None
        central = db.session.scalar(sa.select(User).where(User.username == "central"))
        assert central is not None and central.role_list == ["central"]
        assert central.unit_id == top.id
        names = set(db.session.scalars(sa.select(User.username)))
        assert {"admin", "province", "cadre", "commune", "secretary"} <= names
        assert {"hn.admin", "hn.province", "hn.cadre", "hn.commune", "hn.secretary"} <= names
        statuses = db.session.scalar(sa.select(sa.func.count()).select_from(BranchStatus))
        assert statuses == 20
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login("central", "coso-demo").status_code == 302
    page = client.get("/national").get_data(as_text=True)
    assert "Tỉnh đoàn Đồng Nai" in page and "Thành đoàn Hà Nội" in page


def test_the_default_demo_keeps_one_province(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=["seed-demo", "--branches", "10", "--months", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        kinds = set(db.session.scalars(sa.select(Unit.kind).distinct()))
        assert "central" not in kinds
        root = db.session.scalar(sa.select(Unit).where(Unit.parent_id.is_(None)))
        assert root is not None and root.kind == "province"


def test_central_kind_and_role_words() -> None:
    from coso.models.units import UNIT_KINDS
    from coso.units.rules import kind_of
    from coso.users.rules import ROLES, parse_roles

    assert UNIT_KINDS[0] == "central" and "central" in ROLES
    assert kind_of("Trung ương Đoàn") == "central"
    assert parse_roles("trung ương đoàn, cán bộ") == ["central", "cadre"]


def test_the_central_unit_is_only_ever_the_root(
    client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    from coso.units.imports import check

    auth.login("admin")
    response = client.post(
        f"/admin/units/{nation['province']}/add",
        data={
            "code": "TW-2",
            "name": "Trung ương 2",
            "kind": "central",
            "csrf_token": auth.csrf_token(),
        },
    )
    assert response.status_code == 422
    assert "cấp cao nhất" in response.get_data(as_text=True)
    with client.application.app_context():
        report = check(
            [
                {
                    "code": "TW-3",
                    "name": "Trung ương 3",
                    "kind": "Trung ương Đoàn",
                    "parent_code": "TINH",
                }
            ],
            db.session.get(Unit, nation["province"]),
        )
        assert any(
            "cấp cao nhất" in str(e) or "top of the tree" in str(e)
            for r in report.rows
            for e in r.errors
        )


def test_the_centre_carries_no_field_pack_of_the_country(
    client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    auth.login("central")
    pack = client.get("/api/v1/field-pack")
    assert pack.status_code == 200
    assert pack.get_json()["branches"] == []


def test_the_export_names_its_file_one_way(
    client: FlaskClient, auth: AuthActions, nation: dict[str, Any]
) -> None:
    from tests.test_exports import ONE_WAY

    auth.login("central")
    for url in ("/national.csv", "/national.xlsx", "/national.csv?sep=semicolon"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert ONE_WAY.fullmatch(response.headers["Content-Disposition"]), url
        assert response.headers.get("Cache-Control") == "private, no-store", url


def test_current_templates_picks_each_units_own_checklist_as_current_template_does(
    app: Flask, nation: dict[str, Any]
) -> None:
    """The roll-up reads every province's checklist in one query; each the nearest issuer's
    newest published version, as a branch's own page reads it — and none above nothing."""
    from coso.checklists.queries import current_template, current_templates
    from coso.checklists.service import create_default_template

    with app.app_context():
        units = db.session.scalars(sa.select(Unit).order_by(Unit.id)).all()
        create_default_template(units[0])  # the centre issues one too: provinces keep theirs
        db.session.commit()
        found = current_templates(units)
        assert set(found) == {u.id for u in units}
        for unit in units:
            expected = current_template(unit)
            assert found[unit.id] is expected, unit.name
        assert current_templates([]) == {}


def test_the_ledger_counts_exactly_who_goes_out_whatever_their_unit(
    app: Flask, nation: dict[str, Any]
) -> None:
    """The roll-up reads who goes out through two partial indexes; it must count the same
    people as ``goes_out`` over every user: a secretary above a branch goes, a branch's own
    does not, a cadre or a province user goes wherever they sit, an inactive one never."""
    from coso.judging.queries import thresholds
    from coso.national.queries import ledgers
    from coso.visits.rules import goes_out

    with app.app_context():
        province = db.session.get(Unit, nation["province"])
        commune = db.session.scalars(
            sa.select(Unit).where(province.subtree_clause(), Unit.kind == "commune")
        ).first()
        branch = db.session.scalars(
            sa.select(Unit).where(province.subtree_clause(), Unit.kind == "branch")
        ).first()
        make_user("x-branch-sec", "secretary", branch)
        make_user("x-commune-sec", "secretary", commune)
        make_user("x-branch-cadre", "cadre", branch)
        make_user("x-branch-both", "cadre secretary", branch)
        make_user("x-commune-province", "province", commune)
        make_user("x-none", "", commune)
        make_user("x-inactive", "cadre", commune).active = False
        db.session.commit()
        top = db.session.get(Unit, nation["top"])
        today = clock.today()
        found = ledgers(top, today.year, today, thresholds(top), {nation["province"]})
        expected = [
            u.username
            for u in db.session.scalars(sa.select(User))
            if u.active
            and u.unit.path.startswith(province.path)
            and goes_out(u.roles.split(), u.unit.kind)
        ]
        assert {"x-commune-sec", "x-branch-cadre", "x-branch-both", "x-commune-province"} <= set(
            expected
        )
        assert found[nation["province"]].goers == len(expected)
