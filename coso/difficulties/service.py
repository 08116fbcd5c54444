"""Writes: raise (idempotent on the client's uuid), answer, assign, pass up, close — each
with its audit event (``difficulty.*``). The caller checks who may act (rules.may_*) and
commits.

Difficulties raised on a phone, offline too, come through the sync API's outbox
(:func:`submit_items`, kind ``difficulty``) and are answered like the other kinds
(design.md, "The sync API"): ``created`` stored now, ``duplicate`` the same UUID from the
same person with the same unit, category and text (nothing changes: a resend after a lost
answer is never a second difficulty), ``conflict`` the UUID stored with other content or by
someone else (nothing changes), ``rejected`` invalid or not the sender's to raise (nothing
stored). The unique UUID decides a race between two requests.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, scope
from coso.difficulties import queries, rules
from coso.difficulties.schema import DifficultyItemSchema
from coso.difficulties.words import problem_text
from coso.evaluations.rules import canonical_uuid
from coso.extensions import db, reading_phase
from coso.fields import plain_errors
from coso.models import (
    Difficulty,
    DifficultyCategory,
    DifficultyPass,
    Evaluation,
    Unit,
    User,
    Visit,
)
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


# ------------------------------------------------------ the province's list of categories
def save_categories(
    province: Unit, changes: list[dict[str, Any]], new_label: str | None, user: User
) -> DifficultyCategory | None:
    """Change the province's categories (label, position, active, by code) and add one.

    The first change makes the default list the province's own rows. A category is never
    deleted, only retired: difficulties keep the code they were raised with. At least one
    must stay active. Returns the category added, if any.
    """
    rows = queries.category_rows(province)
    if not rows:
        rows = [
            DifficultyCategory(province_id=province.id, code=code, label=label, position=i)
            for i, (code, label) in enumerate(rules.DEFAULT_CATEGORIES, 1)
        ]
        db.session.add_all(rows)
    before = [[r.code, r.label, r.position, r.active] for r in rows]
    by_code = {row.code: row for row in rows}
    for change in changes:
        row = by_code.get(change["code"])
        if row is None:
            continue
        if rules.label_problem(change["label"]):
            raise Refused(str(rules.label_problem(change["label"])))
        row.label = change["label"].strip()
        row.position = change["position"]
        row.active = change["active"]
    added = None
    if (new_label or "").strip():
        if rules.label_problem(new_label):
            raise Refused(str(rules.label_problem(new_label)))
        added = DifficultyCategory(
            province_id=province.id,
            code=rules.category_code(str(new_label), by_code),
            label=str(new_label).strip(),
            position=max((r.position for r in rows), default=0) + 1,
        )
        db.session.add(added)
        rows.append(added)
    if not any(row.active for row in rows):
        raise Refused("no_active_category")
    db.session.flush()
    after = [[r.code, r.label, r.position, r.active] for r in rows]
    if after != before:
        audit.record(
            "difficulty.categories", unit_id=province.id, user=user, before=before, after=after
        )
    return added


# ------------------------------------------------ raised on a phone, through the sync API
CREATED, DUPLICATE, CONFLICT, REJECTED = "created", "duplicate", "conflict", "rejected"
#: The earliest a phone may date a difficulty, before the moment it reaches the server.
OLDEST = timedelta(days=90)
Answer = tuple[str, int | None, dict[str, Any] | None]


def may_send(user: User) -> bool:
    """May ``user`` send difficulties at all (a cadre or a secretary; the unit decides later)."""
    return user.active and bool(rules.CADRE_ROLES & set(user.role_list))


def submit_items(items: list[dict[str, Any]], user: User, now: datetime) -> list[Any]:
    """Store the batch's difficulties, in batch order; one result each."""
    from coso.evaluations.service import Result  # that module imports the visits' service

    if has_app_context() and g.get("coso_reading"):
        with reading_phase():  # end the sync's read-only start before the first write
            pass
    results = []
    for item in items:
        uuid_text = _uuid_text(item.get("uuid"))
        try:
            status, stored_id, errors = _item(item, uuid_text, user, now)
        except ValidationError as exc:
            status, stored_id, errors = REJECTED, None, plain_errors(exc.messages)
        except (ValueError, TypeError, OverflowError, ArithmeticError, UnicodeError) as exc:
            current_app.logger.warning("sync difficulty rejected by an unexpected error: %r", exc)
            status, stored_id, errors = (
                REJECTED,
                None,
                {"_schema": [_("This item holds a value that cannot be stored.")]},
            )
        results.append(Result(uuid_text, status, stored_id, None, errors, kind="difficulty"))
    return results


def _uuid_text(raw: Any) -> str:
    canonical = canonical_uuid(raw)
    if canonical:
        return canonical
    return raw.strip().lower()[:36].replace("\x00", "") if isinstance(raw, str) else ""


def _replay(known: Difficulty, data: dict[str, Any], user: User) -> Answer:
    """The UUID is stored already: the same content from the same person is a duplicate."""
    if known.raised_by_id != user.id:
        return CONFLICT, None, {"uuid": [_("This identifier is already in use.")]}
    same = (
        known.unit_id == data["unit_id"]
        and known.category == data["category"]
        and known.text == data["text"].strip()
    )
    if same:
        return DUPLICATE, known.id, None
    return (
        CONFLICT,
        known.id,
        {"uuid": [_("A difficulty with this identifier was stored with other content.")]},
    )


def _item(item: dict[str, Any], uuid_text: str, user: User, now: datetime) -> Answer:
    data = DifficultyItemSchema().load(item)
    data["uuid"] = uuid_text
    known = queries.by_uuid(uuid_text)
    if known is not None:
        return _replay(known, data, user)
    unit = db.session.get(Unit, data["unit_id"])
    if unit is None or not unit.active or not may_raise_about(user, unit):
        return REJECTED, None, {"unit_id": [_("Choose a unit from the list.")]}
    if source_problem(user, unit, data.get("evaluation_id"), data.get("visit_id")):
        field = "evaluation_id" if data.get("evaluation_id") else "visit_id"
        return REJECTED, None, {field: [problem_text("bad_source")]}
    raised = data.get("raised_at")
    # When the phone wrote it: never later than the server's clock, nor so long ago that a
    # phone's wrong clock would make the level's answer look a year late.
    data["raised_at"] = now if raised is None or raised > now else max(raised, now - OLDEST)
    try:
        with db.session.begin_nested():
            difficulty, _created = raise_difficulty(
                unit, data, user, evaluation_id=data["evaluation_id"], visit_id=data["visit_id"]
            )
    except Refused as exc:
        field = "category" if exc.problem == "unknown_category" else "text"
        return REJECTED, None, {field: [problem_text(exc.problem)]}
    except IntegrityError:
        known = queries.by_uuid(uuid_text)  # stored meanwhile by another request
        if known is None:
            raise
        return _replay(known, data, user)
    return CREATED, difficulty.id, None


def source_problem(
    user: User, unit: Unit, evaluation_id: int | None, visit_id: int | None
) -> str | None:
    """Why the evaluation or visit report a difficulty is raised from cannot be named, or
    None: it must exist and be of the same unit, a visit the user's own."""
    if evaluation_id is not None:
        evaluation = db.session.get(Evaluation, evaluation_id)
        if evaluation is None or evaluation.branch_id != unit.id:
            return "bad_source"
    if visit_id is not None:
        visit = db.session.get(Visit, visit_id)
        if visit is None or visit.unit_id != unit.id or visit.user_id != user.id:
            return "bad_source"
    return None


def may_raise_about(user: User, unit: Unit) -> bool:
    """May ``user`` raise a difficulty about ``unit`` (rules.may_raise, with the user's area)?"""
    return rules.may_raise(
        user.role_list, unit.kind, unit.id == user.unit_id, scope.in_scope(user, unit)
    )
