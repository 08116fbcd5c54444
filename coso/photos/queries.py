"""Reads: the photos of an evaluation, and who may see one."""

from __future__ import annotations

import sqlalchemy as sa

from coso import scope
from coso.extensions import db
from coso.models import Difficulty, Evaluation, Photo, User, Visit


def find(evaluation_uuid: str, item_code: str, sha256: str) -> Photo | None:
    return db.session.scalar(
        sa.select(Photo).filter_by(
            evaluation_uuid=evaluation_uuid, item_code=item_code, sha256=sha256
        )
    )


#: How far back a correction carries the photos of the evaluations it replaced.
CHAIN = 20


def of_evaluation(evaluation: Evaluation) -> dict[str, list[Photo]]:
    """The evaluation's photos by item code ("" for the evaluation as a whole), oldest first.

    A correction carries the photos of the evaluations it supersedes (the cadre need not take
    the minutes again): each version's photos count when its own author took them — a uuid
    someone else learnt attaches nothing. The same picture on the same item shows once.
    """
    owners = []
    current: Evaluation | None = evaluation
    while current is not None and len(owners) < CHAIN:
        owners.append(
            sa.and_(Photo.evaluation_uuid == current.uuid, Photo.uploaded_by_id == current.cadre_id)
        )
        current = current.supersedes
    rows = db.session.scalars(
        sa.select(Photo).where(sa.or_(*owners)).order_by(Photo.uploaded_at, Photo.id)
    )
    grouped: dict[str, list[Photo]] = {}
    seen: set[tuple[str, str]] = set()
    for photo in rows:
        if (photo.item_code, photo.sha256) in seen:
            continue
        seen.add((photo.item_code, photo.sha256))
        grouped.setdefault(photo.item_code, []).append(photo)
    return grouped


def may_see(user: User, photo: Photo) -> bool:
    """Its author, or whoever may see what it belongs to when that one's author took it (a uuid
    someone else learnt attaches nothing): an evaluation (the evaluation page's scope rule),
    a visit (who may read its report: the review page's rule) or a difficulty (the
    difficulty page's rule)."""
    from coso.difficulties import queries as difficulty_queries
    from coso.reviews import queries as review_queries

    if photo.uploaded_by_id == user.id:
        return True
    owner = photo.evaluation_uuid
    evaluation = db.session.scalar(sa.select(Evaluation).filter_by(uuid=owner))
    if (
        evaluation is not None
        and evaluation.cadre_id == photo.uploaded_by_id
        and scope.may(user, "view", evaluation.branch)
    ):
        return True
    visit = db.session.scalar(sa.select(Visit).filter_by(uuid=owner))
    if (
        visit is not None
        and visit.user_id == photo.uploaded_by_id
        and review_queries.may_read(user, visit)
    ):
        return True
    difficulty = db.session.scalar(sa.select(Difficulty).filter_by(uuid=owner))
    return (
        difficulty is not None
        and difficulty.raised_by_id == photo.uploaded_by_id
        and difficulty_queries.may_read(user, difficulty)
    )


def _taken_by(owner_uuid: str | None, author_id: int | None) -> list[Photo]:
    """The photos kept under ``owner_uuid`` that its author took, oldest first."""
    if not owner_uuid or author_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Photo)
            .where(Photo.evaluation_uuid == owner_uuid, Photo.uploaded_by_id == author_id)
            .order_by(Photo.uploaded_at, Photo.id)
        )
    )


def of_visit(visit: Visit) -> list[Photo]:
    """The photos of a visit and its report (sent under the visit's uuid), oldest first."""
    return _taken_by(visit.uuid, visit.user_id)


def of_difficulty(difficulty: Difficulty) -> list[Photo]:
    """The photos sent with a difficulty, oldest first."""
    return _taken_by(difficulty.uuid, difficulty.raised_by_id)
