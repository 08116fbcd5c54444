"""The province's flagged-branches list against the demo province, checked against the database."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso import demo
from coso.extensions import db
from coso.judging import flags
from coso.judging.queries import settings_for_path
from coso.models import BranchStatus, CorrectiveAction, Evaluation, Feedback, Unit, User
from tests.builders import make_unit, make_user
from tests.conftest import AuthActions
from tests.snapshots import seeded

TODAY = date(2025, 11, 20)
OVERDUE_DAYS = 90


def seed_demo(app: Flask) -> dict[str, Any]:
    """The demo province at 40 branches and 6 months as of ``TODAY``, with the app's clock there."""
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        seeded(("demo", 40, 6, TODAY), lambda: demo.seed(branches=40, months=6, today=TODAY))
        communes = db.session.scalars(
            sa.select(Unit).where(Unit.kind.in_(("commune", "ward"))).order_by(Unit.id)
        ).all()
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        return {
            "province": db.session.scalar(sa.select(Unit.id).where(Unit.kind == "province")),
            "communes": [c.id for c in communes],
            "secretary_branch": users["secretary"].unit_id,
            "users": {name: u.id for name, u in users.items()},
        }


def login(auth: AuthActions, username: str) -> None:
    response = auth.login(username, demo.DEMO_PASSWORD)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def expected_states(unit_id: int) -> dict[int, str]:
    """Every active branch under the unit with its effective state, computed in Python."""
    unit = db.session.get(Unit, unit_id)
    rows = {row.branch_id: row for row in db.session.scalars(sa.select(BranchStatus))}
    branches = db.session.scalars(
        sa.select(Unit).where(unit.subtree_clause(), Unit.kind == "branch", Unit.active.is_(True))
    ).all()
    return {b.id: flags.effective_state(rows.get(b.id), TODAY, OVERDUE_DAYS)[0] for b in branches}


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-branch-id="(\d+)"', page)]


def all_listed(client: FlaskClient, query: str) -> list[int]:
    """Branch ids over every page of the list."""
    ids: list[int] = []
    for number in range(1, 20):
        page = client.get(f"/dashboard?{query}&page={number}").get_data(as_text=True)
        ids += listed(page)
        if 'rel="next"' not in page:
            return ids
    raise AssertionError("too many pages")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    return seed_demo(app)


@pytest.fixture
def province(client: FlaskClient, auth: AuthActions, world: dict[str, Any]) -> FlaskClient:
    login(auth, "province")
    return client


def _counts(page: str) -> dict[str, int]:
    found = re.findall(r'data-state="(\w+)"><strong>(\d+)</strong>', page)
    return {state: int(n) for state, n in found}


def test_counts_add_up_to_the_branches(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    page = province.get("/dashboard").get_data(as_text=True)
    counts = _counts(page)
    with app.app_context():
        expected = expected_states(world["province"])
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(Unit).where(Unit.kind == "branch")
        )
    assert set(counts) == set(flags.STATES)
    assert sum(counts.values()) == total == 40
    for state in flags.STATES:
        assert counts[state] == sum(1 for s in expected.values() if s == state), state
    assert all(counts[state] for state in flags.STATES)  # the demo plants every state


def test_one_commune_and_repeat_shows_exactly_the_seeded_branches(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    commune = world["communes"][0]
    page = province.get(f"/dashboard?unit={commune}&state=repeat").get_data(as_text=True)
    with app.app_context():
        unit = db.session.get(Unit, commune)
        in_db = set(
            db.session.scalars(
                sa.select(Unit.id)
                .join(BranchStatus, BranchStatus.branch_id == Unit.id)
                .where(
                    unit.subtree_clause(),
                    Unit.kind == "branch",
                    BranchStatus.state == flags.REPEAT,
                    BranchStatus.last_meeting_date >= TODAY - timedelta(days=OVERDUE_DAYS),
                )
            )
        )
    assert in_db and world["secretary_branch"] in in_db  # the demo plants it there
    assert set(listed(page)) == in_db and len(listed(page)) == len(in_db)
    assert _counts(page)["repeat"] == len(in_db)


@pytest.mark.parametrize("state", [*flags.STATES, "attention", "all"])
def test_each_state_filter_matches_the_database(
    app: Flask, province: FlaskClient, world: dict[str, Any], state: str
) -> None:
    ids = all_listed(province, f"state={state}")
    with app.app_context():
        expected = expected_states(world["province"])
    wanted = {
        "attention": set(flags.STATES) - {flags.OK},
        "all": set(flags.STATES),
    }.get(state, {state})
    assert sorted(ids) == sorted(b for b, s in expected.items() if s in wanted)


@pytest.mark.parametrize("commune_index", [0, 1, 2, 3])
def test_every_commune_filter_lists_only_its_subtree(
    app: Flask, province: FlaskClient, world: dict[str, Any], commune_index: int
) -> None:
    commune = world["communes"][commune_index]
    ids = all_listed(province, f"unit={commune}&state=all")
    with app.app_context():
        assert sorted(ids) == sorted(expected_states(commune))


def _reasons_of(branch_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    return {
        row.branch_id: row.reasons
        for row in db.session.scalars(
            sa.select(BranchStatus).where(BranchStatus.branch_id.in_(branch_ids))
        )
    }


@pytest.mark.parametrize(
    ("reason", "matches"),
    [
        ("item:P10", lambda r: any("P10" in (x.get("items") or []) for x in r)),
        ("item:P1", lambda r: any("P1" in (x.get("items") or []) for x in r)),
        ("item:P4", lambda r: any("P4" in (x.get("items") or []) for x in r)),
        ("rule:critical", lambda r: any(x["rule"] == "critical" for x in r)),
        ("rule:attendance", lambda r: any(x["rule"] == "attendance" for x in r)),
        ("rule:score", lambda r: any(x["rule"] == "score" for x in r)),
        ("rule:content", lambda r: any(x["rule"] == "content" for x in r)),
    ],
)
def test_reason_filter(
    app: Flask, province: FlaskClient, world: dict[str, Any], reason: str, matches: Any
) -> None:
    ids = all_listed(province, f"state=all&reason={reason}")
    with app.app_context():
        every = _reasons_of(list(expected_states(world["province"])))
    assert sorted(ids) == sorted(b for b, reasons in every.items() if matches(reasons or []))


def test_serious_and_since_filters(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    serious = all_listed(province, "state=all&serious=1")
    since = all_listed(province, "state=attention&from=2025-09-01&to=2025-10-31")
    with app.app_context():
        rows = {r.branch_id: r for r in db.session.scalars(sa.select(BranchStatus))}
        assert sorted(serious) == sorted(b for b, r in rows.items() if r.serious)
        expected = []
        for branch_id in expected_states(world["province"]):
            shown, on = flags.effective_state(rows.get(branch_id), TODAY, OVERDUE_DAYS)
            if shown != flags.OK and on and date(2025, 9, 1) <= on <= date(2025, 10, 31):
                expected.append(branch_id)
    assert serious and since
    assert sorted(since) == sorted(expected)


def test_pages_cover_every_row_once_in_a_stable_order(
    province: FlaskClient, world: dict[str, Any]
) -> None:
    first = province.get("/dashboard?state=all&sort=name").get_data(as_text=True)
    second = province.get("/dashboard?state=all&sort=name&page=2").get_data(as_text=True)
    assert len(listed(first)) == 25 and len(listed(second)) == 15
    assert 'rel="next"' in first and 'rel="next"' not in second
    assert not set(listed(first)) & set(listed(second))
    beyond = province.get("/dashboard?state=all&sort=name&page=99").get_data(as_text=True)
    assert listed(beyond) == listed(second)  # past the end: the last page


@pytest.mark.parametrize("sort", ["state", "since", "-since", "score", "-score", "name", "-name"])
def test_sorting(app: Flask, province: FlaskClient, world: dict[str, Any], sort: str) -> None:
    ids = all_listed(province, f"state=all&sort={sort}")
    with app.app_context():
        units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}
        rows = {r.branch_id: r for r in db.session.scalars(sa.select(BranchStatus))}
    assert len(ids) == 40 and len(set(ids)) == 40
    key = sort.lstrip("-")
    if key == "name":  # the database's collation decides; ask it
        with app.app_context():
            name = Unit.name.desc() if sort.startswith("-") else Unit.name.asc()
            assert ids == list(
                db.session.scalars(
                    sa.select(Unit.id).where(Unit.kind == "branch").order_by(name, Unit.id)
                )
            )
        return
    order = {"repeat": 0, "flagged": 1, "overdue": 2, "never": 3, "ok": 4}

    def value(branch_id: int) -> Any:
        row = rows.get(branch_id)
        shown, since = flags.effective_state(row, TODAY, OVERDUE_DAYS)
        return {
            "state": order[shown],
            "since": since,
            "score": row.score if row else None,
            "name": units[branch_id].name,
        }[key]

    values = [value(i) for i in ids]
    present = [v for v in values if v is not None]
    assert values[: len(present)] == present  # no value sorts last whatever the direction
    assert present == sorted(present, reverse=sort.startswith("-"))


def test_row_shows_parent_since_reasons_cadre_and_alerts(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    branch_id = world["secretary_branch"]
    page = province.get(f"/dashboard?unit={world['communes'][0]}&state=repeat")
    text = page.get_data(as_text=True)
    row = re.search(rf'<tr data-branch-id="{branch_id}">(.*?)</tr>', text, re.S)
    assert row
    html = row.group(1)
    with app.app_context():
        branch = db.session.get(Unit, branch_id)
        st = db.session.get(BranchStatus, branch_id)
        evaluation = db.session.get(Evaluation, st.evaluation_id)
        actions = db.session.scalars(
            sa.select(CorrectiveAction).where(CorrectiveAction.branch_id == branch_id)
        ).all()
        acknowledged = set(db.session.scalars(sa.select(Feedback.evaluation_id)))
        evaluations = db.session.scalars(
            sa.select(Evaluation.id).where(Evaluation.branch_id == branch_id)
        ).all()
        assert branch.parent.name in html
        assert st.since.strftime("%d/%m/%Y") in html
        assert evaluation.cadre.display_name in html
        assert f"/evaluations/{evaluation.id}" in html
        opened = [a for a in actions if a.status == "open"]
        overdue = [a for a in opened if a.due_date < TODAY]
        unacknowledged = [e for e in evaluations if e not in acknowledged]
    assert opened and overdue and unacknowledged  # the demo leaves all three here
    assert f'data-alert="open" data-count="{len(opened)}"' in html
    assert f'data-alert="overdue" data-count="{len(overdue)}"' in html
    assert f'data-alert="unacknowledged" data-count="{len(unacknowledged)}"' in html
    assert "P" in html  # the critical items in words


def test_htmx_gets_the_fragment_and_history_restore_the_page(province: FlaskClient) -> None:
    fragment = province.get("/dashboard?state=repeat", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in text and 'id="flagged-view"' in text and 'id="flagged-filters"' in text
    assert "HX-Request" in fragment.headers["Vary"]
    restored = province.get(
        "/dashboard?state=repeat",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restored.get_data(as_text=True)


def test_filters_work_without_javascript(province: FlaskClient) -> None:
    page = province.get("/dashboard").get_data(as_text=True)
    assert 'method="get" action="/dashboard"' in page
    assert 'hx-push-url="true"' in page
    assert "<script>" not in page and "onclick" not in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=bogus", "state"),
        ("from=31/02/2025", "from"),
        ("from=2025-10-10&to=2025-10-01", "to"),
        ("sort=colour", "sort"),
        ("reason=item:%25%25", "reason"),
        ("reason=rule:serious_score", "reason"),
        ("unit=abc", "unit"),
    ],
)
def test_bad_filters_say_why_and_never_fail(province: FlaskClient, query: str, field: str) -> None:
    response = province.get(f"/dashboard?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="err-{field}"' in page
    assert "error-summary" in page


def test_unit_filter_is_scoped(client: FlaskClient, auth: AuthActions, app: Flask, world) -> None:  # type: ignore[no-untyped-def]
    """A province-role user of one commune sees its subtree only."""
    with app.app_context():
        home = db.session.get(Unit, world["communes"][0])
        make_user("xa", "province", home, password=demo.DEMO_PASSWORD)
        db.session.commit()
        expected = expected_states(home.id)
    login(auth, "xa")
    ids = all_listed(client, "state=all")
    assert sorted(ids) == sorted(expected)
    page = client.get("/dashboard").get_data(as_text=True)
    assert sum(_counts(page).values()) == len(expected)
    for other in [*world["communes"][1:], world["province"]]:
        assert client.get(f"/dashboard?unit={other}").status_code == 403
        assert client.get(f"/dashboard/flagged.csv?unit={other}").status_code == 403
        assert client.get(f"/dashboard/where?unit={other}").status_code == 403
        assert client.get(f"/dashboard/practices?unit={other}").status_code == 403
        assert client.get(f"/visits/ledger?unit={other}").status_code == 403
    assert client.get("/dashboard?unit=999999").status_code == 404


PROVINCE_PAGES = [
    "/dashboard",
    "/dashboard/flagged.csv",
    "/dashboard/flagged.xlsx",
    "/dashboard/where",
    "/dashboard/rates.csv",
    "/dashboard/rates.xlsx",
    "/dashboard/practices",
    "/visits/ledger",
    "/visits/ledger.csv",
    "/visits/ledger.xlsx",
]


@pytest.mark.parametrize("url", PROVINCE_PAGES)
@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("province", True),
        ("admin", True),
        ("cadre", False),
        ("secretary", False),
        ("commune", False),
    ],
)
def test_province_pages_by_role(
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    url: str,
    username: str,
    allowed: bool,
) -> None:
    login(auth, username)
    assert client.get(url).status_code == (200 if allowed else 403)


@pytest.mark.parametrize("url", PROVINCE_PAGES)
def test_province_pages_need_a_login(client: FlaskClient, world: dict[str, Any], url: str) -> None:
    assert client.get(url).status_code in (302, 401)


def test_unknown_export_format_is_404(province: FlaskClient) -> None:
    assert province.get("/dashboard/flagged.pdf").status_code == 404
    assert province.get("/dashboard/rates.json").status_code == 404
    assert province.get("/visits/ledger.txt").status_code == 404


def test_home_shows_the_province_panel(province: FlaskClient, world: dict[str, Any]) -> None:
    page = province.get("/").get_data(as_text=True)
    assert 'id="province-panel"' in page
    assert "/dashboard?state=repeat" in page and "/visits/ledger" in page


def test_list_reads_status_rows_not_evaluations(
    app: Flask, province: FlaskClient, world: dict[str, Any]
) -> None:
    """Drawing the list touches ``evaluation`` only for the page's rows (by id or branch id)."""
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", capture)
        try:
            assert province.get("/dashboard?state=all").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", capture)
    touching = [s for s in statements if re.search(r"\bevaluation\b", s)]
    assert touching
    for statement in touching:
        # The page's deciding evaluations by id, or the page's branches' (alerts).
        assert re.search(r"evaluation\.(id|branch_id) (IN|= ANY)", statement), statement


def test_a_new_province_user_with_settings(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    """Overdue follows the province's own window (a setting), in the counts and the list."""
    from coso.models import UnitSettings

    with app.app_context():
        province = make_unit("P2", "province", name="Tỉnh thử")
        branch = make_unit("P2-1", "branch", province, name="Chi đoàn thử")
        make_user("p2", "province", province)
        db.session.add(
            BranchStatus(
                branch_id=branch.id,
                state="ok",
                since=date.today() - timedelta(days=40),
                last_meeting_date=date.today() - timedelta(days=40),
                streak=0,
                serious=False,
                reasons=[],
            )
        )
        db.session.add(UnitSettings(unit_id=province.id, values={"overdue_days": 30}))
        db.session.commit()
        assert settings_for_path(branch.path).overdue_days == 30
        branch_id = branch.id
    auth.login("p2")
    page = client.get("/dashboard").get_data(as_text=True)
    assert _counts(page)["overdue"] == 1
    assert listed(page) == [branch_id]


@pytest.mark.parametrize("state", ["attention", "all", *flags.STATES, "bogus"])
def test_a_list_narrowed_by_state_alone_takes_its_total_from_the_counts(
    app: Flask, world: dict[str, Any], state: str
) -> None:
    """The page's count without a count query (from the state counts) is the counted one."""
    from coso.dashboard import flagged
    from coso.judging.queries import count_states, thresholds

    with app.app_context():
        for unit_id in (world["province"], world["communes"][0]):
            unit = db.session.get(Unit, unit_id)
            resolved = thresholds(unit)
            counts = count_states(unit, TODAY, resolved)
            narrowed = flagged.Filters(unit=unit, state=state)
            counted = flagged.page(narrowed, TODAY, resolved)
            given = flagged.page(narrowed, TODAY, resolved, counts)
            assert given.total == counted.total, (unit.name, state)
            assert [r.branch_id for r in given.rows] == [r.branch_id for r in counted.rows]
            serious = flagged.page(replace(narrowed, serious=True), TODAY, resolved, counts)
            assert (
                serious.total
                == flagged.page(replace(narrowed, serious=True), TODAY, resolved).total
            )
