"""The demo province: every state planted, stored through the sync service, reproducible."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from coso import demo
from coso.checklists.rules import DEFAULT_ITEMS
from coso.checklists.service import create_default_template
from coso.evaluations import service as evaluation_service
from coso.extensions import db
from coso.judging import flags, queries, scoring
from coso.judging import service as judging_service
from coso.models import (
    AuditEvent,
    BranchStatus,
    ChecklistTemplate,
    CorrectiveAction,
    Evaluation,
    EvaluationAnswer,
    Feedback,
    Guidance,
    SecretaryTerm,
    Unit,
    User,
    Visit,
)
from tests import snapshots
from tests.builders import make_unit, payload, small_province, with_checklist
from tests.conftest import AuthActions

TODAY = date(2025, 11, 20)
BRANCHES = 40


@pytest.fixture
def seeded(app: Flask) -> str:
    """The demo at 40 branches and 6 months, as of ``TODAY``."""
    with app.app_context():
        return snapshots.seeded(
            ("demo", BRANCHES, 6, TODAY),
            lambda: demo.seed(branches=BRANCHES, months=6, today=TODAY),
        )


def _first_commune() -> Unit:
    return db.session.scalars(
        sa.select(Unit).where(Unit.kind.in_(("commune", "ward"))).order_by(Unit.id)
    ).first()


def _counts() -> dict[str, int]:
    models = (Unit, User, Evaluation, EvaluationAnswer, Visit, BranchStatus, Guidance)
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in models
    }


def _uuids() -> list[str]:
    return list(db.session.scalars(sa.select(Evaluation.uuid).order_by(Evaluation.id)))


def test_default_checklist_is_domain_md() -> None:
    assert len(DEFAULT_ITEMS) == 21
    assert [item["code"] for item in DEFAULT_ITEMS] == [f"P{i}" for i in range(1, 13)] + [
        f"C{i}" for i in range(1, 10)
    ]
    assert sum(item["weight"] for item in DEFAULT_ITEMS) == 100
    by_section = Counter()
    for item in DEFAULT_ITEMS:
        by_section[item["section"]] += item["weight"]
    assert by_section == {"procedure": 54, "content": 46}
    assert {item["code"] for item in DEFAULT_ITEMS if item["critical"]} == {
        "P1",
        "P2",
        "P4",
        "P10",
        "C1",
        "C8",
    }
    assert [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "computed"] == ["P4"]


def test_create_default_template_versions(app_ctx: Flask) -> None:
    unit = make_unit("T", "province")
    first = create_default_template(unit)
    second = create_default_template(unit, published=False)
    assert (first.version, first.status) == (1, "published")
    assert first.published_at is not None
    assert [item.position for item in first.items] == list(range(1, 22))
    assert (second.version, second.status, second.published_at) == (2, "draft", None)


def test_every_state_overall_and_in_first_commune(app: Flask, seeded: str) -> None:
    with app.app_context():
        first = _first_commune()
        overall: Counter[str] = Counter()
        in_first: Counter[str] = Counter()
        rows = db.session.execute(
            sa.select(Unit, BranchStatus)
            .join(BranchStatus, BranchStatus.branch_id == Unit.id)
            .where(Unit.kind == "branch")
        ).all()
        assert len(rows) == BRANCHES
        for unit, row in rows:
            state = flags.effective_state(row, TODAY, 90)[0]
            overall[state] += 1
            if unit.parent_id == first.id:
                in_first[state] += 1
        assert set(overall) == set(flags.STATES)
        assert set(in_first) == set(flags.STATES)
        # The summary reports the same counts.
        for state, n in overall.items():
            assert f"{state} {n}" in seeded
        assert f"{BRANCHES} branches" in seeded


def test_units_are_a_realistic_tree(app: Flask, seeded: str) -> None:
    with app.app_context():
        units = db.session.scalars(sa.select(Unit)).all()
        by_id = {unit.id: unit for unit in units}
        assert len({unit.code for unit in units}) == len(units)
        assert len({unit.name for unit in units}) == len(units)
        provinces = [unit for unit in units if unit.kind == "province"]
        assert [unit.name for unit in provinces] == ["Tỉnh đoàn Đồng Nai"]
        for unit in units:
            parent = by_id.get(unit.parent_id) if unit.parent_id else None
            assert unit.path == f"{parent.path if parent else '/'}{unit.id}/"
            if unit.kind == "branch":
                assert parent is not None and parent.kind in ("commune", "ward")
                assert unit.code.startswith(parent.code + "-")
                assert unit.name.startswith("Chi đoàn ")
                assert 10 <= (unit.member_count or 0) <= 40
                if unit.secretary_name:  # a few branches wait for a new secretary
                    assert unit.secretary_since and unit.secretary_party_member is not None
                else:
                    assert unit.secretary_since is None and unit.secretary_party_member is None
        terms = db.session.scalars(sa.select(SecretaryTerm)).all()
        secretaries = [term for term in terms if term.role == "secretary"]
        current = {term.branch_id: term for term in secretaries if term.ended_on is None}
        vacant = [u for u in units if u.kind == "branch" and not u.secretary_name]
        assert len(current) + len(vacant) == BRANCHES
        assert not {u.id for u in vacant} & set(current)
        for branch_id, term in current.items():  # the branch row and its open term agree
            unit = by_id[branch_id]
            assert (unit.secretary_name, unit.secretary_party_member) == (
                term.name,
                term.party_member,
            )
            assert (term.guided_to_party is None) == term.party_member
        assert any(term.ended_on and term.ended_on > TODAY - timedelta(days=365) for term in terms)
        deputies = [term for term in terms if term.role == "deputy" and term.ended_on is None]
        assert BRANCHES // 3 < len(deputies) <= BRANCHES
        # Keys assigned by the seed leave the sequences usable.
        make_unit("NEW", "branch", provinces[0])
        db.session.commit()


def test_demo_users_sign_in(
    app: Flask, client: FlaskClient, auth: AuthActions, seeded: str
) -> None:
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        first = _first_commune()
        province = db.session.scalar(sa.select(Unit).where(Unit.kind == "province"))
        assert users["admin"].role_list == ["admin"]
        assert users["province"].role_list == ["province"]
        assert users["cadre"].role_list == ["cadre"]
        assert {users[name].unit_id for name in ("admin", "province", "cadre")} == {province.id}
        assert users["commune"].role_list == ["secretary"]
        assert users["commune"].unit_id == first.id
        assert users["secretary"].unit.parent_id == first.id
        assert users["secretary"].display_name == users["secretary"].unit.secretary_name
        assert sum(user.has_role("cadre") for user in users.values()) >= 5
    for username in demo.DEMO_USERS:
        assert auth.login(username, demo.DEMO_PASSWORD).status_code == 302, username
        assert client.get("/").status_code == 200, username
        auth.logout()
    assert (
        auth.login(next(u for u in users if u not in demo.DEMO_USERS), "coso-demo").status_code
        == 302
    )


def test_seed_demo_command(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["seed-demo", "--branches", "40", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "Demo users" in result.output
    with app.app_context():
        before, uuids = _counts(), _uuids()
    assert before["Unit"] == 1 + 4 + 40

    refused = runner.invoke(args=["seed-demo", "--branches", "40", "--seed", "2"])
    assert refused.exit_code != 0
    kept = runner.invoke(args=["seed-demo", "--if-empty", "--branches", "30", "--seed", "2"])
    assert kept.exit_code == 0, kept.output
    with app.app_context():
        assert (_counts(), _uuids()) == (before, uuids)

    replaced = runner.invoke(args=["seed-demo", "--force", "--branches", "30", "--seed", "2"])
    assert replaced.exit_code == 0, replaced.output
    with app.app_context():
        after = _counts()
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Unit).where(Unit.kind == "branch")
            )
            == 30
        )
        # One commune fewer, so one commune secretary fewer; the demo users are all there.
        assert after["User"] == before["User"] - 1
        usernames = set(db.session.scalars(sa.select(User.username)))
        assert set(demo.DEMO_USERS) <= usernames
        assert set(_uuids()).isdisjoint(uuids)


def test_template_and_guidance(app: Flask, seeded: str) -> None:
    with app.app_context():
        (template,) = db.session.scalars(sa.select(ChecklistTemplate)).all()
        assert template.status == "published" and template.published_at is not None
        assert len(template.items) == 21
        assert sum(item.weight for item in template.items) == 100
        guidance = {g.period: g for g in db.session.scalars(sa.select(Guidance))}
        assert set(guidance) == {"2025-11", "2025-10", "2025-09", "2025-08"}
        for item in guidance.values():
            assert 3 <= len(item.topics) <= 5
            assert [t.code for t in item.topics] == [
                f"T{i}" for i in range(1, len(item.topics) + 1)
            ]
        assert any("20/11" in t.title for t in guidance["2025-11"].topics)
        for ev in db.session.scalars(sa.select(Evaluation)):
            guided = guidance.get(ev.meeting_date.strftime("%Y-%m"))
            assert ev.guidance_id == (guided.id if guided else None)
            assert ev.template_id == template.id
            assert set(ev.topics_covered) <= ({t.code for t in guided.topics} if guided else set())


def test_stored_outcomes_agree_with_scoring(app: Flask, seeded: str) -> None:
    with app.app_context():
        template = db.session.scalars(sa.select(ChecklistTemplate)).one()
        items = [
            scoring.ItemSpec(i.code, i.section, i.weight, i.critical, i.kind)
            for i in template.items
        ]
        evaluations = db.session.scalars(sa.select(Evaluation).order_by(Evaluation.id)).all()
        assert 0 < sum(not ev.compliant for ev in evaluations) < len(evaluations)
        assert any(ev.serious for ev in evaluations)
        sample = evaluations[::7] + [ev for ev in evaluations if not ev.compliant][:10]
        for ev in sample:
            answers = {a.item_code: a.value for a in ev.answers}
            assert list(answers) == [i.code for i in items] or set(answers) == {
                i.code for i in items
            }
            outcome = scoring.score_evaluation(
                items,
                answers,
                members_total=ev.members_total,
                members_present=ev.members_present,
                topics_total=len(ev.guidance.topics) if ev.guidance else 0,
                topics_covered=len(ev.topics_covered),
            )
            assert dict(outcome.effective) == answers
            assert (
                outcome.score,
                outcome.procedure_score,
                outcome.content_score,
                outcome.compliant,
                outcome.serious,
                outcome.attendance,
                outcome.topic_coverage,
            ) == (
                ev.score,
                ev.procedure_score,
                ev.content_score,
                ev.compliant,
                ev.serious,
                ev.attendance,
                ev.topic_coverage,
            )
            assert [r.as_dict() for r in outcome.reasons] == ev.reasons
            assert 0 < ev.members_present <= ev.members_total
            assert ev.started_at.date() == ev.submitted_at.date() == ev.meeting_date
            assert ev.submitted_at <= ev.received_at


def test_branch_status_agrees_with_flags(app: Flask, seeded: str) -> None:
    with app.app_context():
        rows = {row.branch_id: row for row in db.session.scalars(sa.select(BranchStatus))}
        branches = db.session.scalars(sa.select(Unit.id).where(Unit.kind == "branch")).all()
        assert set(rows) == set(branches)
        for branch_id in branches:
            expected = flags.compute_state(queries.history(branch_id))
            row = rows[branch_id]
            assert (
                row.state,
                row.since,
                row.evaluation_id,
                row.last_meeting_date,
                row.streak,
                row.serious,
                row.reasons,
            ) == (
                expected.state,
                expected.since,
                expected.evaluation_id,
                expected.last_meeting_date,
                expected.streak,
                expected.serious,
                list(expected.reasons),
            )
            if row.evaluation_id:
                assert row.score == db.session.get(Evaluation, row.evaluation_id).score
            else:
                assert row.state == flags.NEVER


def test_visits_feedback_and_actions(app: Flask, seeded: str) -> None:
    with app.app_context():
        evaluations = db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation))
        meetings = db.session.scalars(sa.select(Visit).where(Visit.form == "meeting")).all()
        assert len(meetings) == evaluations
        assert all(v.evaluation_id and v.days == 1 and v.report is None for v in meetings)
        others = db.session.scalars(sa.select(Visit).where(Visit.form != "meeting")).all()
        assert {v.form for v in others} >= {"inspection", "coorganise"}
        assert any(v.days > 1 for v in others)
        assert any(v.report and v.reported_at for v in others)
        assert any(v.report is None and (TODAY - v.end_date).days > 10 for v in others)
        assert len({v.user_id for v in others}) >= 5

        secretary = db.session.scalar(sa.select(User).where(User.username == "secretary"))
        actions = db.session.scalars(
            sa.select(CorrectiveAction).where(CorrectiveAction.branch_id == secretary.unit_id)
        ).all()
        assert any(a.is_overdue(TODAY) for a in actions)
        assert any(a.status == "open" and not a.is_overdue(TODAY) for a in actions)
        (proposed,) = [a for a in actions if a.status == "proposed"]
        assert proposed.created_by.has_role("cadre")
        replies = db.session.scalars(
            sa.select(Feedback).where(Feedback.user_id == secretary.id)
        ).all()
        assert any(f.reply for f in replies)
        latest = db.session.get(BranchStatus, secretary.unit_id)
        assert latest.state == flags.REPEAT
        assert (
            db.session.scalar(
                sa.select(Feedback).where(Feedback.evaluation_id == latest.evaluation_id)
            )
            is None
        )


def test_same_seed_same_data(app: Flask) -> None:
    with app.app_context():
        demo.seed(branches=20, months=3, random_seed=7, today=TODAY)
        first = _uuids()
        demo.seed(branches=20, months=3, random_seed=7, today=TODAY, wipe=True)
        assert _uuids() == first
        demo.seed(branches=20, months=3, random_seed=8, today=TODAY, wipe=True)
        assert set(_uuids()).isdisjoint(first)


def test_evaluations_were_stored_by_the_service(app: Flask, seeded: str) -> None:
    """The demo writes no evaluation itself: every one went through ``submit_batch``.

    Its fingerprints: an audit event per evaluation by the cadre who sent it, the
    phone's device id, a meeting visit made when the batch was received, answers
    that score to the stored outcome, and branch rows that judging's own
    recomputation leaves exactly as they are.
    """
    with app.app_context():
        template = db.session.scalars(sa.select(ChecklistTemplate)).one()
        items = [
            scoring.ItemSpec(i.code, i.section, i.weight, i.critical, i.kind)
            for i in template.items
        ]
        usernames = dict(db.session.execute(sa.select(User.id, User.username)).all())
        audited = {
            (event.object_id, event.user_id)
            for event in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "evaluation.create")
            )
        }
        visits = {
            v.evaluation_id: v
            for v in db.session.scalars(sa.select(Visit).where(Visit.form == "meeting"))
        }
        evaluations = db.session.scalars(sa.select(Evaluation)).all()
        assert len(audited) == len(evaluations) == len(visits)
        for ev in evaluations:
            assert (str(ev.id), ev.cadre_id) in audited
            assert ev.device_id == f"demo-{usernames[ev.cadre_id]}"
            assert visits[ev.id].user_id == ev.cadre_id
            assert visits[ev.id].created_at == ev.received_at
            assert ev.submitted_at <= ev.received_at
            assert ev.received_at.date() <= TODAY + timedelta(days=1)
            answers = {a.item_code: a.value for a in ev.answers}
            outcome = scoring.score_evaluation(
                items,
                answers,
                members_total=ev.members_total,
                members_present=ev.members_present,
                topics_total=len(ev.guidance.topics) if ev.guidance else 0,
                topics_covered=len(ev.topics_covered),
            )
            assert dict(outcome.effective) == answers
            assert (outcome.score, outcome.compliant, outcome.serious) == (
                ev.score,
                ev.compliant,
                ev.serious,
            )

        def snapshot() -> dict[int, tuple[object, ...]]:
            return {
                row.branch_id: (
                    row.state,
                    row.since,
                    row.evaluation_id,
                    row.last_meeting_date,
                    row.streak,
                    row.serious,
                    row.reasons,
                    row.score,
                )
                for row in db.session.scalars(sa.select(BranchStatus))
            }

        before = snapshot()
        counts = judging_service.refresh_all(TODAY)
        db.session.flush()
        db.session.expire_all()
        assert snapshot() == before
        for state, n in counts.items():
            assert f"{state} {n}" in seeded


def test_submit_batch_received_at(app_ctx: Flask) -> None:
    """``received_at`` is the batch's "now": old meetings valid then are stored as of then."""
    data = with_checklist(small_province())
    cadre, branch = data["users"]["cadre"], data["branches"][0]
    then = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)

    def item() -> dict[str, object]:
        return payload(
            branch.id,
            data["template"].id,
            meeting_date="2024-03-09",
            started_at="2024-03-09T12:00:00+00:00",
            submitted_at="2024-03-09T13:30:00+00:00",
        )

    (late,) = evaluation_service.submit_batch([item()], cadre)
    assert late.status == evaluation_service.REJECTED
    assert "meeting_date" in late.errors
    (stored,) = evaluation_service.submit_batch([item()], cadre, received_at=then)
    assert stored.status == evaluation_service.CREATED, stored.errors
    db.session.commit()
    evaluation = db.session.get(Evaluation, stored.id)
    assert evaluation.received_at == then
    visit = db.session.scalar(sa.select(Visit).where(Visit.evaluation_id == stored.id))
    assert visit.created_at == then
    status = db.session.get(BranchStatus, branch.id)
    assert (status.state, status.evaluation_id) == (flags.OK, stored.id)
    # A meeting after the batch's "now" is in the future, whatever the real clock says.
    (future,) = evaluation_service.submit_batch(
        [payload(branch.id, data["template"].id, meeting_date="2024-03-20")],
        cadre,
        received_at=then,
    )
    assert future.status == evaluation_service.REJECTED
    assert "meeting_date" in future.errors


def test_demo_is_outside_the_request_path(tmp_path: Path) -> None:
    """Building the app and serving a page load no module of ``coso.demo``."""
    script = (
        "import sys\n"
        "from coso import create_app\n"
        "app = create_app({'TESTING': True, 'SECRET_KEY': 'x', "
        f"'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'empty.sqlite'}'}})\n"
        "app.test_client().get('/login')\n"
        "print(sorted(m for m in sys.modules if m.startswith('coso.demo')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_demo_has_secretaries_followed_and_practices_spread(
    app: Flask, client: FlaskClient, auth: AuthActions, seeded: str
) -> None:
    """Issue 19, items 4 and 5: deputies and guided secretaries; practices spread and not."""
    from coso.models import Practice, PracticeRead

    with app.app_context():
        practices = db.session.scalars(sa.select(Practice)).all()
        spread = [p for p in practices if p.spread_at is not None]
        assert len(practices) >= 3 and 0 < len(spread) < len(practices)
        assert {p.source for p in practices} >= {"visit"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PracticeRead)) == 1
        guided = db.session.scalars(
            sa.select(SecretaryTerm).where(SecretaryTerm.guided_to_party.is_(True))
        ).all()
        assert guided
    assert auth.login("secretary", demo.DEMO_PASSWORD).status_code == 302
    page = client.get("/practices").get_data(as_text=True)
    assert page.count('data-new="1"') == len(spread) - 1
    assert client.get("/api/v1/field-pack").get_json()["practices"]


def test_difficulties_in_every_state_for_the_demo_users(
    app: Flask, client: FlaskClient, auth: AuthActions, seeded: str
) -> None:
    """Issue 19, item 1: the demo shows the whole loop — raised, answered, owned, overdue,
    passed up, closed — and the demo users each find theirs."""
    from coso.difficulties import rules as difficulty_rules
    from coso.models import Difficulty, DifficultyPass

    with app.app_context():
        rows = db.session.scalars(sa.select(Difficulty)).all()
        assert {d.state for d in rows} == set(difficulty_rules.STATES)
        province = db.session.scalar(sa.select(Unit).where(Unit.kind == "province"))
        passed = db.session.scalars(sa.select(DifficultyPass)).all()
        assert passed and all(p.to_unit_id == province.id for p in passed)
        today = TODAY
        overdue = [d for d in rows if difficulty_rules.is_overdue(d.state, d.due, today)]
        assert overdue
        secretary = db.session.scalar(sa.select(User).where(User.username == "secretary"))
        own = [d for d in rows if d.raised_by_id == secretary.id]
        assert {d.state for d in own} == {"closed", "open"}
        for d in rows:  # the figures' order of events holds
            assert d.answered_at is None or d.raised_at <= d.answered_at
            assert d.closed_at is None or (d.answered_at and d.answered_at <= d.closed_at)
            assert d.raised_at.date() <= today
    auth.login("secretary", demo.DEMO_PASSWORD)
    page = client.get("/difficulties/").get_data(as_text=True)
    assert page.count("data-difficulty-uuid=") == 2
    auth.logout()
    auth.login("province", demo.DEMO_PASSWORD)
    assert "Vượt khả năng giải quyết" in client.get(
        f"/difficulties/{passed[0].difficulty_id}"
    ).get_data(as_text=True)
    overview = client.get("/difficulties/overview")
    assert overview.status_code == 200
