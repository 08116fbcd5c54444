"""The demo looks like a real province to a newcomer (issue 16, item 19): every month of
the dashboard's trend rests on enough evaluations, rates vary, most branches keep up with
their feedback, actions are in every state, no text repeats, and the pages say it is a demo.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso import demo
from coso.dashboard import analysis, rules
from coso.extensions import db
from coso.feedback.alerts import alerts_for
from coso.feedback.rules import SHOWN_STATUSES, shown_status
from coso.judging import flags
from coso.models import BranchStatus, CorrectiveAction, Evaluation, Feedback, Unit, User
from tests import snapshots
from tests.builders import small_province
from tests.conftest import AuthActions

TODAY = date(2025, 11, 20)
BRANCHES = 30
#: The fewest evaluations a month of the province's trend may rest on.
MIN_PER_MONTH = BRANCHES // 2


@pytest.fixture
def year(app: Flask) -> str:
    """A small demo with the default history, as of ``TODAY``."""
    with app.app_context():
        return snapshots.seeded(
            ("demo", BRANCHES, None, TODAY), lambda: demo.seed(branches=BRANCHES, today=TODAY)
        )


def _province() -> Unit:
    return db.session.scalars(sa.select(Unit).where(Unit.kind == "province")).one()


def test_default_history_covers_the_trend(app: Flask, year: str) -> None:
    window = rules.trend_window(TODAY)
    assert (window[0].month, window[-1].month) == ("2024-11", "2025-10")
    assert len(window) + 1 == demo.DEFAULT_MONTHS  # and this month, as far as it went
    with app.app_context():
        trend = analysis.monthly_trend(_province(), rules.previous_month(TODAY).end)
        assert [m.period for m in trend] == window
        for month in trend:
            assert month.evaluations >= MIN_PER_MONTH, month.label
            assert 0.4 <= month.rate < 1, (month.label, month.rate)  # type: ignore[operator]
        rates = [round(m.rate, 2) for m in trend]  # type: ignore[arg-type]
        assert len(set(rates)) >= 6 and max(rates) - min(rates) >= 0.1
        this_month = analysis.monthly_trend(_province(), TODAY, months=1)[0]
        assert this_month.evaluations > 0
        # Some communes are weaker over the year than others.
        year_period = rules.Period(window[0].start, window[-1].end)
        communes, _total = analysis.child_rates(_province(), year_period)
        shares = [c.rate for c in communes if c.rate is not None]
        assert max(shares) - min(shares) >= 0.15
        # Most branches comply; a few are repeat offenders.
        states = Counter(
            flags.effective_state(row, TODAY, 90)[0]
            for row in db.session.scalars(sa.select(BranchStatus))
        )
        assert states[flags.OK] > BRANCHES / 2
        assert 1 <= states[flags.REPEAT] <= BRANCHES / 5


def test_most_branches_keep_up_with_feedback(app: Flask, year: str) -> None:
    with app.app_context():
        branches = db.session.scalars(sa.select(Unit).where(Unit.kind == "branch")).all()
        alerts = alerts_for([b.id for b in branches], TODAY)
        behind = [branch_id for branch_id, a in alerts.items() if a.unacknowledged]
        assert 1 <= len(behind) < len(branches) * 0.3
        # What waits is of varying age, not one batch of the same day.
        waiting = db.session.scalars(
            sa.select(Evaluation.received_at)
            .outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id)
            .where(Feedback.id.is_(None))
        ).all()
        now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
        ages = {(now - received).days for received in waiting}
        assert len(ages) >= 2 and max(ages) - min(ages) >= 7
        # Each commune's own secretary acknowledges its branches' evaluations.
        parents = {b.id: b.parent_id for b in branches}
        acknowledged = db.session.execute(
            sa.select(Evaluation.branch_id, User.unit_id, User.username)
            .join(Feedback, Feedback.evaluation_id == Evaluation.id)
            .join(User, User.id == Feedback.user_id)
        ).all()
        communes_heard = set()
        for branch_id, unit_id, username in acknowledged:
            assert unit_id in (parents[branch_id], branch_id), username
            communes_heard.add(parents[branch_id])
        assert communes_heard == set(parents.values())
        assert any(reply for reply in db.session.scalars(sa.select(Feedback.reply)))
        # Corrective actions in every state a person can see; overdue ones a minority.
        actions = db.session.scalars(sa.select(CorrectiveAction)).all()
        shown = Counter(shown_status(a.status, a.due_date, TODAY) for a in actions)
        assert set(shown) == set(SHOWN_STATUSES)
        overdue = {a.branch_id for a in actions if a.is_overdue(TODAY)}
        assert len(overdue) < len(branches) * 0.3
        assert shown["done"] > shown["overdue"]


def test_no_two_texts_alike(app: Flask, year: str) -> None:
    with app.app_context():
        for column in (Evaluation.good_practice, Evaluation.notes):
            texts = db.session.scalars(sa.select(column).where(column.is_not(None))).all()
            assert len(texts) >= 5, column
            assert len(set(texts)) == len(texts), column
        first = db.session.scalars(sa.select(Evaluation.good_practice).order_by(Evaluation.id))
        kept = [t for t in first if t]
    with app.app_context():
        demo.seed(branches=BRANCHES, today=TODAY, wipe=True)
        again = db.session.scalars(sa.select(Evaluation.good_practice).order_by(Evaluation.id))
        assert [t for t in again if t] == kept  # the seed's own generator: reproducible


def test_the_pages_say_it_is_a_demo(
    app: Flask, client: FlaskClient, auth: AuthActions, year: str
) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Dữ liệu minh hoạ, tính đến 20/11/2025" in page
    auth.login("province", demo.DEMO_PASSWORD)
    page = client.get("/dashboard/where").get_data(as_text=True)
    assert 'id="demo-line"' in page and "20/11/2025" in page
    client.post("/lang", data={"lang": "en", "csrf_token": auth.csrf_token()})
    assert "Demo data as of 20/11/2025" in client.get("/").get_data(as_text=True)


def test_no_demo_line_on_real_data(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    with app.app_context():
        small_province()
        db.session.commit()
    assert 'id="demo-line"' not in client.get("/login").get_data(as_text=True)
    assert auth.login("province").status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert 'id="demo-line"' not in page and "minh hoạ" not in page


def test_the_demo_mark_is_the_seed_s_day(app: Flask) -> None:
    with app.app_context():
        from coso import audit

        assert audit.demo_as_of() is None
        demo.seed(branches=5, months=1, today=TODAY - timedelta(days=3))
        assert audit.demo_as_of() == TODAY - timedelta(days=3)
