"""Writes: raise (idempotent on the client's uuid), answer, assign, pass up, close — each
with its audit event (``difficulty.*``). The caller checks who may act (rules.may_*) and
commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from coso import audit
from coso.difficulties import queries, rules
from coso.extensions import db
from coso.models import Difficulty, DifficultyPass, Unit, User
from coso.models.types import utcnow


class Refused(Exception):
    """A change the rules do not allow; ``problem`` names why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def default_receiver(unit: Unit) -> Unit:
    """The unit a difficulty about ``unit`` goes to by default (rules.route_default)."""
    chain = queries.chain_of(unit)
    node = rules.route_default([rules.Node(u.id, u.kind) for u in chain])
    return next(u for u in chain if u.id == node.id)


def raise_difficulty(
    unit: Unit,
    data: dict[str, Any],
    user: User,
    *,
    evaluation_id: int | None = None,
    visit_id: int | None = None,
) -> tuple[Difficulty, bool]:
    """Raise a difficulty about ``unit``; the same uuid again returns the first (created False).

    ``data``: uuid, category, text and optionally raised_at (when the phone wrote it).
    """
    existing = queries.by_uuid(data["uuid"])
    if existing is not None:
        return existing, False
    codes = [code for code, _ in queries.categories(queries.province_of(unit))]
    if rules.category_problem(data["category"], codes):
        raise Refused("unknown_category")
    if rules.text_problem(data.get("text")):
        raise Refused("text_" + str(rules.text_problem(data.get("text"))))
    receiver = default_receiver(unit)
    difficulty = Difficulty(
        uuid=data["uuid"],
        category=data["category"],
        unit_id=unit.id,
        text=data["text"].strip(),
        raised_by_id=user.id,
        raised_at=data.get("raised_at") or utcnow(),
        evaluation_id=evaluation_id,
        visit_id=visit_id,
        routed_to_id=receiver.id,
        state=rules.OPEN,
    )
    db.session.add(difficulty)
    db.session.flush()
    audit.record(
        "difficulty.raise",
        obj=difficulty,
        unit_id=unit.id,
        user=user,
        uuid=difficulty.uuid,
        category=difficulty.category,
        routed_to=receiver.id,
    )
    return difficulty, True


def answer(difficulty: Difficulty, text: str, user: User, now: datetime | None = None) -> None:
    """The receiving level answers; the first answer's moment is kept for the figures."""
    if difficulty.state == rules.CLOSED:
        raise Refused("closed")
    if rules.text_problem(text):
        raise Refused("text_" + str(rules.text_problem(text)))
    before = difficulty.answer
    difficulty.answer = text.strip()
    difficulty.answered_by_id = user.id
    if difficulty.answered_at is None:
        difficulty.answered_at = now or utcnow()
    difficulty.state = rules.state_after_answer(difficulty.state)
    audit.record(
        "difficulty.answer",
        obj=difficulty,
        unit_id=difficulty.unit_id,
        user=user,
        before=before,
        after=difficulty.answer,
    )


def assign(difficulty: Difficulty, owner: User | None, due: date | None, user: User) -> None:
    """Give the difficulty an owner (a user of the receiving level) and a due date."""
    if difficulty.state == rules.CLOSED:
        raise Refused("closed")
    if owner is not None and owner.unit_id != difficulty.routed_to_id:
        raise Refused("owner_not_of_level")
    before = {"owner": difficulty.owner_id, "due": str(difficulty.due) if difficulty.due else None}
    difficulty.owner_id = owner.id if owner else None
    difficulty.due = due
    after = {"owner": difficulty.owner_id, "due": str(due) if due else None}
    audit.record(
        "difficulty.assign",
        obj=difficulty,
        unit_id=difficulty.unit_id,
        user=user,
        **audit.changes(before, after),
    )


def pass_up(difficulty: Difficulty, user: User, note: str | None = None) -> DifficultyPass:
    """Pass the difficulty from the commune to the province; its owner and due date go."""
    receiver = difficulty.routed_to
    province = queries.province_of(receiver)
    if not rules.may_pass_up(difficulty.state, True, receiver.id == province.id):
        raise Refused("cannot_pass_up")
    step = DifficultyPass(
        difficulty_id=difficulty.id,
        from_unit_id=receiver.id,
        to_unit_id=province.id,
        passed_by_id=user.id,
        note=(note or "").strip() or None,
    )
    db.session.add(step)
    difficulty.routed_to_id = province.id
    difficulty.routed_to = province
    difficulty.owner_id = None
    difficulty.due = None
    audit.record(
        "difficulty.pass_up",
        obj=difficulty,
        unit_id=difficulty.unit_id,
        user=user,
        from_unit=receiver.id,
        to_unit=province.id,
        note=step.note,
    )
    return step


def close(difficulty: Difficulty, resolution: str, user: User, now: datetime | None = None) -> None:
    """Close with what was done."""
    if difficulty.state == rules.CLOSED:
        raise Refused("closed")
    if rules.text_problem(resolution):
        raise Refused("resolution_" + str(rules.text_problem(resolution)))
    difficulty.state = rules.CLOSED
    difficulty.resolution = resolution.strip()
    difficulty.closed_at = now or utcnow()
    difficulty.closed_by_id = user.id
    audit.record(
        "difficulty.close",
        obj=difficulty,
        unit_id=difficulty.unit_id,
        user=user,
        resolution=difficulty.resolution,
    )
