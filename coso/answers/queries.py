"""The rows of an export, read from the database in chunks (never a whole year at once).

``yield_per`` makes SQLAlchemy fetch ``CHUNK`` rows at a time; on PostgreSQL it also
opens a server-side cursor (``stream_results``), so neither the driver nor the app holds
the result. Names (units and their paths, cadres, checklist items) are read once up front:
a province has thousands of units and users, its year hundreds of thousands of answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from coso.dashboard.rules import Period
from coso.extensions import db
from coso.models import ChecklistItem, Evaluation, EvaluationAnswer, Photo, Unit, User
from coso.models.units import subtree_of

#: Rows fetched from the database at a time.
CHUNK = 2000
#: Between the names of a unit path.
PATH_SEPARATOR = " / "


@dataclass(frozen=True)
class Branch:
    """A branch as an export names it: code, name, and the path of units above it."""

    code: str
    name: str
    path: str


@dataclass(frozen=True)
class EvaluationRow:
    id: int
    branch: Branch
    cadre: str
    meeting_date: date
    received_at: datetime
    meeting_type: str
    mode: str
    members_total: int
    members_present: int
    attendance: float | None
    score: float | None
    procedure_score: float | None
    content_score: float | None
    compliant: bool
    serious: bool
    reasons: list[dict[str, Any]]
    supersedes_id: int | None
    photos: int = 0  # taken by its cadre (issue 20)


@dataclass(frozen=True)
class AnswerRow:
    evaluation_id: int
    branch: Branch
    item_code: str
    item_text: str
    value: str
    note: str | None


def branches(unit: Unit) -> dict[int, Branch]:
    """Every unit of ``unit``'s subtree by id, named with the path of the units above it.

    The path runs from the top of the tree (the ancestors of ``unit`` included) down to
    the unit's parent: ``Tỉnh đoàn … / Đoàn xã …``.
    """
    rows = db.session.execute(
        sa.select(Unit.id, Unit.code, Unit.name, Unit.path).where(
            sa.or_(subtree_of(unit.path), Unit.id.in_(unit.ancestor_ids))
        )
    ).all()
    names = {row.id: row.name for row in rows}
    out: dict[int, Branch] = {}
    for row in rows:
        above = [int(part) for part in row.path.strip("/").split("/") if part][:-1]
        path = PATH_SEPARATOR.join(names[i] for i in above if i in names)
        out[row.id] = Branch(row.code, row.name, path)
    return out


def _cadres() -> dict[int, str]:
    return {
        row.id: row.display_name
        for row in db.session.execute(sa.select(User.id, User.display_name))
    }


def _item_texts() -> dict[tuple[int, str], str]:
    """Every checklist item's Vietnamese text by (template, code): the files are Vietnamese."""
    query = sa.select(ChecklistItem.template_id, ChecklistItem.code, ChecklistItem.text_vi)
    return {(t, c): text for t, c, text in db.session.execute(query)}


def _in(unit: Unit, period: Period) -> list[sa.ColumnElement[bool]]:
    return [
        subtree_of(unit.path),
        Evaluation.meeting_date >= period.start,
        Evaluation.meeting_date <= period.end,
    ]


def evaluation_rows(unit: Unit, period: Period) -> Iterator[EvaluationRow]:
    """Every evaluation of a branch under ``unit`` whose meeting lies in ``period``, by id."""
    places = branches(unit)
    cadres = _cadres()
    e = Evaluation
    photos = (
        sa.select(sa.func.count(Photo.id))
        .where(Photo.evaluation_uuid == e.uuid, Photo.uploaded_by_id == e.cadre_id)
        .scalar_subquery()
    )
    query = (
        sa.select(
            e.id,
            e.branch_id,
            e.cadre_id,
            e.meeting_date,
            e.received_at,
            e.meeting_type,
            e.mode,
            e.members_total,
            e.members_present,
            e.attendance,
            e.score,
            e.procedure_score,
            e.content_score,
            e.compliant,
            e.serious,
            e.reasons,
            e.supersedes_id,
            photos.label("photos"),
        )
        .join(Unit, Unit.id == e.branch_id)
        .where(*_in(unit, period))
        .order_by(e.id)
        .execution_options(yield_per=CHUNK)
    )
    # ``with``: a download closed early (or never read) closes the server-side cursor too.
    with db.session.execute(query) as result:
        for row in result:
            yield EvaluationRow(
                id=row.id,
                branch=places[row.branch_id],
                cadre=cadres.get(row.cadre_id, ""),
                meeting_date=row.meeting_date,
                received_at=row.received_at,
                meeting_type=row.meeting_type,
                mode=row.mode,
                members_total=row.members_total,
                members_present=row.members_present,
                attendance=row.attendance,
                score=row.score,
                procedure_score=row.procedure_score,
                content_score=row.content_score,
                compliant=row.compliant,
                serious=row.serious,
                reasons=list(row.reasons or []),
                supersedes_id=row.supersedes_id,
                photos=row.photos,
            )


def answer_rows(unit: Unit, period: Period) -> Iterator[AnswerRow]:
    """Every answer of those evaluations, by evaluation and item code."""
    places = branches(unit)
    texts = _item_texts()
    a, e = EvaluationAnswer, Evaluation
    query = (
        sa.select(a.evaluation_id, a.item_code, a.value, a.note, e.branch_id, e.template_id)
        .join(e, e.id == a.evaluation_id)
        .join(Unit, Unit.id == e.branch_id)
        .where(*_in(unit, period))
        .order_by(a.evaluation_id, a.item_code)
        .execution_options(yield_per=CHUNK)
    )
    with db.session.execute(query) as result:
        for row in result:
            yield AnswerRow(
                evaluation_id=row.evaluation_id,
                branch=places[row.branch_id],
                item_code=row.item_code,
                item_text=texts.get((row.template_id, row.item_code), ""),
                value=row.value,
                note=row.note,
            )


def count(unit: Unit, period: Period) -> int:
    """How many evaluations an export of ``unit`` and ``period`` holds (the page says it; the
    answers are not counted: that would read a year's hundreds of thousands of rows twice)."""
    evaluations = db.session.scalar(
        sa.select(sa.func.count(Evaluation.id))
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(*_in(unit, period))
    )
    return evaluations or 0
