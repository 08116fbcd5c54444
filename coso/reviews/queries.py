"""Reads: a visit's review history, the reviewer's queue, a cadre's reviews and quality."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm

from coso import scope
from coso.extensions import db
from coso.judging.queries import path_ids
from coso.models import Evaluation, Photo, ReviewRubric, Unit, User, Visit, VisitReview
from coso.models.units import subtree_of
from coso.photos import queries as photo_queries
from coso.reviews import rules
from coso.web import Page, paginate


@dataclass
class Item:
    """A visit in the queue with its current state."""

    visit: Visit
    state: str
    latest: VisitReview | None


def history(visit: Visit) -> list[VisitReview]:
    """Every review row of ``visit``, oldest first."""
    return list(
        db.session.scalars(
            sa.select(VisitReview).where(VisitReview.visit_id == visit.id).order_by(VisitReview.id)
        )
    )


def state_of(visit: Visit) -> str:
    return rules.current_state([r.state for r in history(visit)])


def rubric_for(unit: Unit) -> tuple[dict[str, Any], ...]:
    """The rubric of the deepest unit above (or at) ``unit`` that has one, else the default."""
    ids = path_ids(unit.path)
    rows = {
        r.unit_id: r
        for r in db.session.scalars(sa.select(ReviewRubric).where(ReviewRubric.unit_id.in_(ids)))
    }
    for uid in reversed(ids):
        if uid in rows:
            return rules.rubric_of(rows[uid].criteria)
    return rules.DEFAULT_RUBRIC


def share_of(review: VisitReview) -> float | None:
    """The review's rubric score as a share of its maximum (``None``: no scores)."""
    scores = review.scores or {}
    if not scores.get("rubric"):
        return None
    return rules.share(scores.get("values", {}), rules.rubric_of(scores["rubric"]))


def latest_of(visit_ids: list[int]) -> dict[int, VisitReview]:
    """The newest review row of each of the visits that have one."""
    if not visit_ids:
        return {}
    newest = (
        sa.select(sa.func.max(VisitReview.id))
        .where(VisitReview.visit_id.in_(visit_ids))
        .group_by(VisitReview.visit_id)
    )
    return {
        r.visit_id: r
        for r in db.session.scalars(sa.select(VisitReview).where(VisitReview.id.in_(newest)))
    }


def _reviewable() -> sa.ColumnElement[bool]:
    """A visit has something to review: a written report, or (a meeting) its evaluation."""
    return sa.or_(Visit.report.is_not(None), Visit.form == "meeting")


def queue(reviewer: User, state: str | None, since: date, page: int = 1) -> Page[Item]:
    """Visits of the cadres in the reviewer's area since ``since``, newest first, with their
    current state (optionally only those in ``state``), a page at a time.

    The current state is the newest review row's, "received" without one; it is read in
    the query (the newest row per visit joined in), so a state's filter and the count
    hold however many visits a province has.
    """
    newest = (
        sa.select(VisitReview.visit_id, sa.func.max(VisitReview.id).label("review_id"))
        .group_by(VisitReview.visit_id)
        .subquery()
    )
    latest = sa.orm.aliased(VisitReview)
    current = sa.func.coalesce(latest.state, rules.RECEIVED)
    query = (
        sa.select(Visit, latest, current)
        .join(User, User.id == Visit.user_id)
        .join(Unit, Unit.id == User.unit_id)
        .outerjoin(newest, newest.c.visit_id == Visit.id)
        .outerjoin(latest, latest.id == newest.c.review_id)
        .where(subtree_of(reviewer.unit.path), _reviewable(), Visit.end_date >= since)
        .where(Visit.user_id != reviewer.id)
        .order_by(Visit.end_date.desc(), Visit.id.desc())
        # A row shows the visit's cadre and unit: loaded with the page, not one query a row.
        .options(sa.orm.selectinload(Visit.user), sa.orm.selectinload(Visit.unit))
    )
    if state is not None:
        query = query.where(current == state)
    result: Page[Any] = paginate(query, page)
    return replace(result, rows=[Item(visit, now, row) for visit, row, now in result.rows])


def mine(user: User) -> list[VisitReview]:
    """Every review of the user's visits, newest first (their own amendments left out)."""
    return list(
        db.session.scalars(
            sa.select(VisitReview)
            .join(Visit, Visit.id == VisitReview.visit_id)
            .where(Visit.user_id == user.id, VisitReview.state != rules.RECEIVED)
            .order_by(VisitReview.id.desc())
            .limit(200)
            .options(sa.orm.selectinload(VisitReview.visit).selectinload(Visit.unit))
        )
    )


def quality_by_user(user_ids: Iterable[int], year: int) -> dict[int, dict[str, Any]]:
    """:func:`rules.quality` of each cadre's visits that ended in ``year``."""
    ids = list(user_ids)
    out: dict[int, dict[str, Any]] = {uid: rules.quality([]) for uid in ids}
    if not ids:
        return out
    visits = db.session.execute(
        sa.select(Visit.id, Visit.user_id).where(
            Visit.user_id.in_(ids),
            Visit.end_date >= date(year, 1, 1),
            Visit.end_date <= date(year, 12, 31),
        )
    ).all()
    latest = latest_of([v.id for v in visits])
    per_user: dict[int, list[tuple[str, float | None]]] = {}
    for visit_id, user_id in visits:
        row = latest.get(visit_id)
        if row is not None:
            per_user.setdefault(user_id, []).append((row.state, share_of(row)))
    for uid, pairs in per_user.items():
        out[uid] = rules.quality(pairs)
    return out


def may_read(user: User, visit: Visit) -> bool:
    """May ``user`` read the visit's report (the review page, the report's photos)? The cadre
    who made the visit, and whoever may review that cadre."""
    return visit.user_id == user.id or scope.may_review(user, visit.user)


@dataclass(frozen=True)
class FailedItem:
    """An item the visit's evaluation found not (fully) met, with the photos taken of it."""

    code: str
    text: str
    critical: bool
    value: str
    note: str
    photos: list[Photo]


def failed_items(visit: Visit, locale: str) -> tuple[list[FailedItem], list[Photo]]:
    """What the reviewer checks the judgement against (issue 20): each failed or partly met
    item of the visit's evaluation beside its photos, then the photos of the whole meeting."""
    evaluation = db.session.get(Evaluation, visit.evaluation_id) if visit.evaluation_id else None
    if evaluation is None:
        return [], []
    photos = photo_queries.of_evaluation(evaluation)
    answers = {answer.item_code: answer for answer in evaluation.answers}
    failed = [
        FailedItem(
            code=item.code,
            text=item.text(locale),
            critical=item.critical,
            value=answers[item.code].value,
            note=answers[item.code].note or "",
            photos=photos.get(item.code, []),
        )
        for item in evaluation.template.items
        if item.code in answers and answers[item.code].value in ("fail", "partial")
    ]
    return failed, photos.get("", [])
