"""Writes: a reviewer's decision and a cadre's amendment, each a row and an audit event.

The caller commits.
"""

from __future__ import annotations

from typing import Any

from coso import audit
from coso.extensions import db
from coso.models import ReviewRubric, Unit, User, Visit, VisitReview
from coso.reviews import queries, rules


def review(
    visit: Visit,
    user: User,
    state: str,
    scores: dict[str, int],
    comment: str,
    rubric: tuple[dict[str, Any], ...],
) -> VisitReview:
    """Record a reviewer's decision on ``visit`` (checked by the caller with rules.check)."""
    row = VisitReview(
        visit_id=visit.id,
        user_id=user.id,
        state=state,
        scores={"values": dict(scores), "rubric": [dict(c) for c in rubric]},
        comment=comment.strip() or None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "visit.review",
        obj=row,
        unit_id=visit.unit_id,
        user=user,
        visit_id=visit.id,
        state=state,
        scores=dict(scores),
    )
    return row


def amended(visit: Visit, user: User) -> VisitReview | None:
    """The cadre rewrote the report of ``visit``: one sent back as "needs more" is
    received again for a new review. Otherwise nothing changes."""
    if not rules.may_amend(queries.state_of(visit)):
        return None
    row = VisitReview(visit_id=visit.id, user_id=user.id, state=rules.RECEIVED, scores={})
    db.session.add(row)
    db.session.flush()
    audit.record("visit.amend", obj=row, unit_id=visit.unit_id, user=user, visit_id=visit.id)
    return row


def set_rubric(unit: Unit, rubric: tuple[dict[str, Any], ...], user: User) -> ReviewRubric:
    """Store ``unit``'s rubric (its subtree's reviews use it from now on); audited."""
    row = db.session.get(ReviewRubric, unit.id)
    before = list(row.criteria) if row else None
    if row is None:
        row = ReviewRubric(unit_id=unit.id)
        db.session.add(row)
    row.criteria = [dict(c) for c in rubric]
    db.session.flush()
    audit.record(
        "review.rubric", obj=unit, unit_id=unit.id, user=user, before=before, after=row.criteria
    )
    return row
