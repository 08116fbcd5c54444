"""The summary rows the database keeps (``coso.models.tallies``), checked against a recount.

Every way an evaluation's count can change — stored by the sync path in a batch, added
through the ORM, corrected (in its month, in another month, onto another branch),
re-judged, its answers changed, its branch moved, deactivated and brought back — is done
here, and after each step the two tables must equal a count made in Python from the
evaluations themselves, and the SQL recount (``rebuild_statements``) must agree.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from coso import clock
from coso.evaluations import service
from coso.extensions import db
from coso.judging.rejudge import rejudge
from coso.models import (
    AnswerTally,
    Evaluation,
    EvaluationAnswer,
    EvaluationTally,
    Unit,
    UnitSettings,
    User,
    Visit,
    VisitDayTally,
)
from coso.models.tally_triggers import rebuild_statements
from coso.units.service import move_unit, set_active
from tests.builders import payload, small_province, with_checklist


def _expected() -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """Both tables' figures counted in Python from the evaluations (no SQL shared)."""
    corrected = {e.supersedes_id for e in db.session.scalars(sa.select(Evaluation))}
    months: Counter[tuple[Any, ...]] = Counter()
    items: Counter[tuple[Any, ...]] = Counter()
    seen: set[tuple[int, date, int]] = set()
    for ev in db.session.scalars(sa.select(Evaluation).order_by(Evaluation.id)):
        branch = db.session.get(Unit, ev.branch_id)
        assert branch is not None
        if ev.id in corrected or not branch.active or branch.kind != "branch":
            continue
        key = (branch.parent_id, ev.meeting_date.replace(day=1))
        months[(*key, "evaluations")] += 1
        months[(*key, "compliant")] += int(ev.compliant)
        if (*key, branch.id) not in seen:
            seen.add((*key, branch.id))
            months[(*key, "branches")] += 1
        for answer in ev.answers:
            if answer.value in ("fail", "partial"):
                items[(*key, answer.item_code, answer.value)] += 1
    return +months, +items


def _stored() -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    months: Counter[tuple[Any, ...]] = Counter()
    for row in db.session.scalars(sa.select(EvaluationTally)):
        for name in ("evaluations", "compliant", "branches"):
            months[(row.unit_id, row.month, name)] = getattr(row, name)
    items: Counter[tuple[Any, ...]] = Counter()
    for row in db.session.scalars(sa.select(AnswerTally)):
        items[(row.unit_id, row.month, row.item_code, "fail")] = row.fail
        items[(row.unit_id, row.month, row.item_code, "partial")] = row.partial
    negative = [k for k, v in (months + items).items() if v < 0]
    assert not negative and all(v >= 0 for v in months.values()), negative
    return +months, +items


def _check() -> None:
    db.session.flush()
    db.session.expire_all()
    expected = _expected()
    assert _stored() == expected
    savepoint = db.session.begin_nested()  # the SQL recount agrees, then is rolled back
    for statement in rebuild_statements(db.session.get_bind().dialect.name):
        db.session.execute(sa.text(statement))
    db.session.expire_all()
    recounted = _stored()
    savepoint.rollback()
    db.session.expire_all()
    assert recounted == expected


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        data["template_id"] = data["template"].id
        yield data


def _item(world: dict[str, Any], branch: Unit, day: date, **values: str) -> dict[str, Any]:
    return payload(
        branch.id, world["template_id"], None, meeting_date=day.isoformat(), values=values
    )


def test_every_change_keeps_the_tallies_equal_to_a_recount(world: dict[str, Any]) -> None:
    cadre: User = world["users"]["cadre"]
    b11, b12, b21, b22 = world["branches"]
    c1, c2 = world["communes"]
    today = clock.today()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    _check()

    # A batch of the sync path: two evaluations of one branch in one month, failing answers.
    batch = [
        _item(world, b11, this_month, P1="fail", P2="partial"),
        _item(world, b11, this_month + timedelta(days=1), P3="fail"),
        _item(world, b12, last_month, P1="partial"),
        _item(world, b21, last_month),
    ]
    results = service.submit_batch(batch, cadre)
    assert all(r.id for r in results), [r.errors for r in results]
    _check()
    stored = _stored()[0]
    assert stored[(c1.id, this_month, "evaluations")] == 2
    assert stored[(c1.id, this_month, "branches")] == 1

    # Corrections: in the same month, into another month, and in place.
    first, _second, third, fourth = batch
    fix = _item(world, b11, this_month, P1="pass")
    fix["supersedes"] = first["uuid"]
    moved = _item(world, b12, this_month, P2="fail")
    moved["supersedes"] = third["uuid"]
    again = _item(world, b21, last_month, P2="fail")
    again["supersedes"] = fourth["uuid"]
    beside = _item(world, b21, last_month + timedelta(days=3))  # a new one beside `again`
    results = service.submit_batch([fix, moved, again, beside], cadre)
    assert all(r.id for r in results), [r.errors for r in results]
    _check()

    # An evaluation added straight through the ORM (the demo, a script) counts too.
    ev = db.session.get(Evaluation, results[0].id)
    assert ev is not None
    db.session.add(
        Evaluation(
            uuid="00000000-0000-4000-8000-000000000001",
            content_hash="x",
            branch_id=b22.id,
            cadre_id=cadre.id,
            template_id=world["template_id"],
            meeting_date=this_month,
            meeting_type="regular",
            mode="in_person",
            members_total=10,
            members_present=9,
            submitted_at=ev.submitted_at,
            compliant=False,
            serious=False,
            answers=[EvaluationAnswer(item_code="P1", value="fail")],
        )
    )
    _check()

    # Re-judging: a stricter province turns compliant evaluations non-compliant.
    db.session.add(UnitSettings(unit_id=world["province"].id, values={"score_threshold": 99}))
    db.session.flush()
    assert rejudge(world["province"]).evaluations > 0
    _check()

    # An answer changed in place (re-judging forces computed items so).
    answer = db.session.scalars(
        sa.select(EvaluationAnswer).where(EvaluationAnswer.value == "pass").limit(1)
    ).one()
    answer.value = "fail"
    _check()

    # A branch moved to the other commune, deactivated, brought back.
    move_unit(b11, c2)
    _check()
    set_active(b11, False)
    _check()
    set_active(b11, True)
    _check()
    move_unit(b11, c1)
    _check()
    db.session.commit()


def test_a_deactivated_branch_drops_out_of_the_tally_and_its_commune(world: dict[str, Any]) -> None:
    cadre: User = world["users"]["cadre"]
    b11 = world["branches"][0]
    c1 = world["communes"][0]
    day = clock.today().replace(day=1)
    service.submit_batch([_item(world, b11, day, P1="fail")], cadre)
    row = db.session.get(EvaluationTally, (c1.id, day))
    assert row is not None and (row.evaluations, row.branches) == (1, 1)
    set_active(b11, False)
    db.session.flush()
    db.session.refresh(row)
    assert (row.evaluations, row.compliant, row.branches) == (0, 0, 0)
    failing = db.session.get(AnswerTally, (c1.id, day, "P1"))
    assert failing is not None and failing.fail == 0


def test_flask_tallies_check_finds_a_wrong_row_and_rebuild_mends_it(
    app: Flask, world: dict[str, Any]
) -> None:
    b11 = world["branches"][0]
    day = clock.today().replace(day=1)
    service.submit_batch([_item(world, b11, day, P1="fail")], world["users"]["cadre"])
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tallies", "check"])
    assert result.exit_code == 0, result.output
    assert "equal a count" in result.output

    db.session.execute(
        sa.update(EvaluationTally).values(evaluations=EvaluationTally.evaluations + 5)
    )
    db.session.commit()
    result = runner.invoke(args=["tallies", "check"])
    assert result.exit_code == 1
    assert "1 tally rows differ" in result.output

    result = runner.invoke(args=["tallies", "rebuild"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["tallies", "check"]).exit_code == 0
    row = db.session.get(EvaluationTally, (world["communes"][0].id, day))
    assert row is not None and row.evaluations == 1


def _visit_days_expected() -> Counter[tuple[Any, ...]]:
    out: Counter[tuple[Any, ...]] = Counter()
    for visit in db.session.scalars(sa.select(Visit)):
        if visit.start_date == visit.end_date:
            out[(visit.user_id, visit.start_date)] += 1
    return +out


def _visit_days_stored() -> Counter[tuple[Any, ...]]:
    rows = db.session.scalars(sa.select(VisitDayTally))
    return +Counter({(row.user_id, row.day): row.visits for row in rows})


def test_visit_days_follow_every_insert_change_and_delete(world: dict[str, Any]) -> None:
    cadre: User = world["users"]["cadre"]
    other: User = world["users"]["cadre_b"]
    b11, b12 = world["branches"][:2]
    day = clock.today().replace(day=1)

    def check() -> None:
        db.session.flush()
        db.session.expire_all()
        assert _visit_days_stored() == _visit_days_expected()

    # Evaluations log their visit day (two on one date: one row counting 2).
    service.submit_batch(
        [_item(world, b11, day), _item(world, b12, day), _item(world, b12, day + timedelta(1))],
        cadre,
    )
    check()
    assert _visit_days_stored()[(cadre.id, day)] == 2
    # A visit of several days is not a one-day visit; one added by hand is.
    db.session.add_all(
        [
            Visit(
                user_id=cadre.id,
                unit_id=b11.id,
                form="meeting",
                start_date=day,
                end_date=day + timedelta(2),
                days=3,
            ),
            Visit(user_id=other.id, unit_id=b11.id, form="meeting", start_date=day, end_date=day),
        ]
    )
    check()
    # Changed: another person, another date, several days and back.
    visit = db.session.scalars(sa.select(Visit).where(Visit.user_id == other.id)).one()
    visit.user_id = cadre.id
    check()
    visit.start_date = visit.end_date = day + timedelta(3)
    check()
    visit.end_date = day + timedelta(4)
    check()
    # A correction replaces its original's visit day (the original's row is deleted).
    first = db.session.scalars(sa.select(Evaluation).order_by(Evaluation.id).limit(1)).one()
    fix = payload(first.branch_id, world["template_id"], None, meeting_date=str(day + timedelta(5)))
    fix["supersedes"] = first.uuid
    assert service.submit_batch([fix], cadre)[0].id
    check()
    db.session.execute(sa.delete(Visit).where(Visit.user_id == cadre.id, Visit.days == 3))
    check()
    db.session.commit()


@pytest.mark.parametrize("level", ["province", "commune"])
def test_where_to_act_reads_the_same_figures_from_the_tallies_as_from_the_evaluations(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    from coso.dashboard import analysis
    from coso.dashboard.rules import months_ending
    from coso.tallies import queries as tally_queries

    cadre: User = world["users"]["cadre"]
    b11, b12, b21, b22 = world["branches"]
    this_month = clock.today().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    batch = [
        _item(world, b11, last_month, P1="fail"),
        _item(world, b11, last_month + timedelta(days=2), P2="partial"),
        _item(world, b12, last_month),
        _item(world, b21, last_month, P3="fail", P5="partial"),
        _item(world, b22, this_month, P1="fail"),
    ]
    service.submit_batch(batch, cadre)
    fix = _item(world, b11, last_month, P1="pass")
    fix["supersedes"] = batch[0]["uuid"]
    service.submit_batch([fix], cadre)
    set_active(b12, False)
    db.session.flush()
    unit = world["province"] if level == "province" else world["communes"][0]
    month = months_ending(last_month, 1)[0]

    def figures() -> tuple[Any, ...]:
        rates, total = analysis.child_rates(unit, month)
        items = analysis.failing_items(unit, month, total.evaluations, "vi")
        return (
            [(r.unit.id, r.evaluations, r.compliant, r.evaluated, r.branches) for r in rates],
            (total.evaluations, total.compliant, total.evaluated, total.branches),
            [(i.code, i.fail, i.partial) for i in items],
        )

    tallied = figures()
    trend = [(m.evaluations, m.compliant) for m in analysis.monthly_trend(unit, this_month)]
    monkeypatch.setattr(tally_queries, "whole_months", lambda start, end: False)
    monkeypatch.setattr(tally_queries, "one_month", lambda start, end: False)
    assert figures() == tallied
    assert tallied[1][0] > 0 and tallied[2]
    counted = []
    for each in months_ending(this_month, len(trend)):
        _rates, total = analysis.child_rates(unit, each)
        counted.append((total.evaluations, total.compliant))
    assert trend == counted
