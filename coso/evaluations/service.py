"""Storing evaluations: exactly once per UUID, scored, with the branch's flag kept current.

Used by the HTML form and by ``POST /api/v1/sync`` alike. Each item runs in its
own SAVEPOINT so one bad item never fails the others, and the unique
constraint on ``evaluation.uuid`` — not a check-then-insert — decides races.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, status
from coso.checklists import item_specs
from coso.evaluations.schema import Catalog, EvaluationSchema, canonical_uuid, plain_errors
from coso.extensions import db
from coso.models import Evaluation, EvaluationAnswer, User, Visit
from coso.scoring import Outcome, score_evaluation
from coso.settings import settings_for_path

CREATED, DUPLICATE, CONFLICT, REJECTED = "created", "duplicate", "conflict", "rejected"

#: The fields of a submitted evaluation that make up its content.
CONTENT_FIELDS = (
    "uuid",
    "branch_id",
    "template_id",
    "guidance_id",
    "meeting_date",
    "meeting_type",
    "mode",
    "members_total",
    "members_present",
    "answers",
    "topics_covered",
    "notes",
    "good_practice",
    "recommend_practice",
    "supersedes",
    "started_at",
    "submitted_at",
)


@dataclass
class Result:
    """What happened to one submitted item (the sync API's per-item result)."""

    uuid: str
    status: str
    evaluation: Evaluation | None = None
    errors: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "status": self.status,
            "id": self.evaluation.id if self.evaluation is not None else None,
            "errors": self.errors,
            "outcome": self.evaluation.outcome_dict() if self.evaluation is not None else None,
        }


def content_hash(item: dict[str, Any]) -> str:
    """A fingerprint of what the client sent, to tell a replay from a different evaluation."""
    content = {key: item.get(key) for key in CONTENT_FIELDS}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_batch(items: list[Any], user: User, *, device_id: str | None = None) -> list[Result]:
    """Validate and store each item; the caller commits once at the end."""
    catalog = Catalog.load(user, items)
    # Only well-formed UUIDs are looked up: anything else (NULs, huge strings) is rejected.
    uuids = [
        u for item in items if isinstance(item, dict) and (u := canonical_uuid(item.get("uuid")))
    ]
    existing = _existing(uuids)
    schema = EvaluationSchema(catalog)
    results: list[Result] = []
    for item in items:
        results.append(_submit_one(item, user, schema, existing, device_id))
    return results


def submit(item: dict[str, Any], user: User) -> Result:
    """Store one evaluation (the HTML form's path)."""
    return submit_batch([item], user)[0]


def _existing(uuids: list[str]) -> dict[str, Evaluation]:
    if not uuids:
        return {}
    return {
        ev.uuid: ev
        for ev in db.session.scalars(sa.select(Evaluation).where(Evaluation.uuid.in_(uuids)))
    }


def _submit_one(
    item: Any,
    user: User,
    schema: EvaluationSchema,
    existing: dict[str, Evaluation],
    device_id: str | None,
) -> Result:
    if not isinstance(item, dict):
        return Result("", REJECTED, errors={"_schema": [_invalid_item()]})
    raw_uuid = item.get("uuid")
    uuid_text = canonical_uuid(raw_uuid) or (
        raw_uuid.strip().lower()[:36].replace("\x00", "") if isinstance(raw_uuid, str) else ""
    )
    digest = content_hash(item)
    known = existing.get(uuid_text)
    if known is not None:
        return _replay(known, uuid_text, digest, user)
    try:
        data = schema.load(item)
    except ValidationError as exc:
        return Result(uuid_text, REJECTED, errors=plain_errors(exc.messages))
    uuid_text = str(data["uuid"])
    try:
        with db.session.begin_nested():
            evaluation = _store(data, user, digest, device_id, schema.catalog)
    except IntegrityError:
        # Someone stored this UUID between our look-up and our insert: the
        # constraint decided; report what is there now.
        winner = db.session.scalar(sa.select(Evaluation).where(Evaluation.uuid == uuid_text))
        if winner is None:
            raise
        existing[uuid_text] = winner
        return _replay(winner, uuid_text, digest, user)
    existing[uuid_text] = evaluation
    return Result(uuid_text, CREATED, evaluation)


def _invalid_item() -> str:
    from flask_babel import gettext as _

    return _("Each evaluation must be a JSON object.")


def _replay(known: Evaluation, uuid_text: str, digest: str, user: User) -> Result:
    """Same UUID again: the same content is a duplicate, other content a conflict."""
    from flask_babel import gettext as _

    if known.cadre_id != user.id:
        return Result(
            uuid_text, CONFLICT, errors={"uuid": [_("This identifier is already in use.")]}
        )
    if known.content_hash == digest:
        return Result(uuid_text, DUPLICATE, known)
    return Result(
        uuid_text,
        CONFLICT,
        known,
        errors={"uuid": [_("An evaluation with this identifier was stored with other content.")]},
    )


def outcome_for(data: dict[str, Any], catalog: Catalog) -> Outcome:
    """Score validated data against its template and the branch's settings."""
    branch = catalog.branches[data["branch_id"]]
    template = catalog.templates[data["template_id"]]
    guidance = catalog.guidance.get(data["guidance_id"]) if data.get("guidance_id") else None
    return score_evaluation(
        item_specs(template),
        {answer["item"]: answer["value"] for answer in data["answers"]},
        members_total=data["members_total"],
        members_present=data["members_present"],
        topics_total=len(guidance.topics) if guidance else 0,
        topics_covered=len(set(data["topics_covered"])),
        settings=settings_for_path(branch.path),
    )


def _store(
    data: dict[str, Any], user: User, digest: str, device_id: str | None, catalog: Catalog
) -> Evaluation:
    outcome = outcome_for(data, catalog)
    now = datetime.now(UTC)
    original = catalog.own.get(str(data["supersedes"])) if data["supersedes"] else None
    evaluation = Evaluation(
        uuid=str(data["uuid"]),
        content_hash=digest,
        branch_id=data["branch_id"],
        cadre_id=user.id,
        template_id=data["template_id"],
        guidance_id=data["guidance_id"],
        meeting_date=data["meeting_date"],
        meeting_type=data["meeting_type"],
        mode=data["mode"],
        members_total=data["members_total"],
        members_present=data["members_present"],
        topics_covered=sorted(set(data["topics_covered"])),
        notes=_clean(data["notes"]),
        good_practice=_clean(data["good_practice"]),
        recommend_practice=bool(data["recommend_practice"] and _clean(data["good_practice"])),
        supersedes_id=original.id if original else None,
        device_id=device_id,
        started_at=data["started_at"],
        submitted_at=data["submitted_at"] or now,
        received_at=now,
        score=outcome.score,
        procedure_score=outcome.procedure_score,
        content_score=outcome.content_score,
        compliant=outcome.compliant,
        serious=outcome.serious,
        attendance=outcome.attendance,
        topic_coverage=outcome.topic_coverage,
        reasons=[reason.as_dict() for reason in outcome.reasons],
    )
    db.session.add(evaluation)
    db.session.flush()  # the UUID constraint speaks here
    notes = {answer["item"]: _clean(answer.get("note")) for answer in data["answers"]}
    db.session.execute(
        sa.insert(EvaluationAnswer),
        [
            {
                "evaluation_id": evaluation.id,
                "item_code": code,
                "value": value,
                "note": notes.get(code),
            }
            for code, value in outcome.effective.items()
        ],
    )
    _count_visit_day(evaluation, original)
    status.record(evaluation)
    audit.record(
        "evaluation.correct" if original else "evaluation.create",
        obj=evaluation,
        user=user,
        unit_id=evaluation.branch_id,
        uuid=evaluation.uuid,
        supersedes=original.uuid if original else None,
        compliant=evaluation.compliant,
        score=evaluation.score,
    )
    return evaluation


def _count_visit_day(evaluation: Evaluation, original: Evaluation | None) -> None:
    """Each evaluation is a visit day; a correction replaces its original's day."""
    if original is not None:
        db.session.execute(sa.delete(Visit).where(Visit.evaluation_id == original.id))
    db.session.add(
        Visit(
            user_id=evaluation.cadre_id,
            unit_id=evaluation.branch_id,
            form="meeting",
            start_date=evaluation.meeting_date,
            end_date=evaluation.meeting_date,
            days=1,
            evaluation_id=evaluation.id,
        )
    )


def _clean(text: str | None) -> str | None:
    """Strip blanks and NULs; empty text is no text."""
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    return text or None
