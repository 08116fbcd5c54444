"""Reads: the photos of an evaluation, and who may see one."""

from __future__ import annotations

import sqlalchemy as sa

from coso import scope
from coso.extensions import db
from coso.models import Evaluation, Photo, User


def find(evaluation_uuid: str, item_code: str, sha256: str) -> Photo | None:
    return db.session.scalar(
        sa.select(Photo).filter_by(
            evaluation_uuid=evaluation_uuid, item_code=item_code, sha256=sha256
        )
    )


def of_evaluation(evaluation: Evaluation) -> dict[str, list[Photo]]:
    """The evaluation's photos by item code ("" for the evaluation as a whole), oldest first."""
    rows = db.session.scalars(
        sa.select(Photo)
        .where(Photo.evaluation_uuid == evaluation.uuid)
        # Only the evaluation's author's: a uuid someone else learnt attaches nothing.
        .where(Photo.uploaded_by_id == evaluation.cadre_id)
        .order_by(Photo.uploaded_at, Photo.id)
    )
    grouped: dict[str, list[Photo]] = {}
    for photo in rows:
        grouped.setdefault(photo.item_code, []).append(photo)
    return grouped


def may_see(user: User, photo: Photo) -> bool:
    """Its author, or whoever may see its evaluation (the evaluation page's scope rule) when
    the evaluation's author took it."""
    if photo.uploaded_by_id == user.id:
        return True
    evaluation = db.session.scalar(sa.select(Evaluation).filter_by(uuid=photo.evaluation_uuid))
    return (
        evaluation is not None
        and evaluation.cadre_id == photo.uploaded_by_id
        and scope.may(user, "view", evaluation.branch)
    )
