"""The role-aware home page and the unit drill-down shared by every role."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Flask, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import lazyload, selectinload

from coso import audit, clock, scope
from coso.dashboard.views import unit_page
from coso.evaluations.twins import twin_keys
from coso.evaluations.views import branches_in_scope
from coso.extensions import db
from coso.judging.queries import count_states, thresholds
from coso.models import Evaluation, Meeting, Unit, VisitPlan
from coso.plans import queries as plan_queries
from coso.users.rules import ADMIN, CADRE, PROVINCE, SECRETARY

bp = Blueprint("home", __name__)

#: What an evaluation's row shows beside its own columns (templates/home/_evaluation_row.html),
#: loaded with the list (a query per row and relation made 13 of the cadre's 43 queries); its
#: answers, which a row does not show, are not loaded at all.
_ROW = (
    selectinload(Evaluation.branch),
    selectinload(Evaluation.superseded_by).lazyload(Evaluation.answers),
    lazyload(Evaluation.answers),
)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """Send each role to what it came for; several roles see several panels."""
    user = current_user
    panels = [role for role in (CADRE, SECRETARY, PROVINCE, ADMIN) if user.has_role(role)]
    if not panels and scope.sees_nation(user):
        # The Central Committee's home is every province at a glance (issue 22, item 1).
        return redirect(url_for("national.index"))
    resolved = thresholds(user.unit)  # once: the counts and the cadre's branches
    counts = count_states(user.unit, resolved=resolved)
    recent = db.session.scalars(
        sa.select(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(scope.scope_clause(user))
        .order_by(Evaluation.received_at.desc())
        .limit(10)
        .options(*_ROW)
    ).all()
    mine: list[Evaluation] = []
    next_visits: list[VisitPlan] = []
    visit_meetings: dict[int, Meeting] = {}
    proposals: list[VisitPlan] = []
    branches: list[tuple[Unit, str]] = []
    if CADRE in panels:
        mine = list(
            db.session.scalars(
                sa.select(Evaluation)
                .where(Evaluation.cadre_id == user.id)
                .order_by(Evaluation.received_at.desc())
                .limit(10)
                .options(*_ROW)
            )
        )
        branches = branches_in_scope(limit=10, resolved=resolved)
        next_visits, proposals = plan_queries.my_next(user, clock.today())
        visit_meetings = plan_queries.declared_meetings(next_visits, clock.today())
    # Pairs of evaluations of one meeting are marked in the lists (issue 16, item 3).
    twins = twin_keys((ev.branch_id, ev.meeting_date) for ev in [*recent, *mine])
    return render_template(
        "home/index.html",
        panels=panels,
        twins=twins,
        counts=counts,
        recent=recent,
        unit=user.unit,
        mine=mine,
        branches=branches,
        next_visits=next_visits,
        visit_meetings=visit_meetings,
        proposals=proposals,
        planner=scope.can_plan(user),
        exporter=scope.can_export(user),
    )


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int) -> ResponseReturnValue:
    """A unit with its children and their states, or a branch with its timeline (dashboard area)."""
    return unit_page(unit_id)


def demo_as_of() -> date | None:
    """The demo's day for the footer's line, looked up once per request."""
    if "coso_demo_as_of" not in g:
        g.coso_demo_as_of = audit.demo_as_of()
    return g.coso_demo_as_of


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(demo_as_of=demo_as_of)
