"""Storing evaluations: exactly once per UUID, scored, with the branch's flag kept current.

Used by the HTML form and by ``POST /api/v1/sync`` alike. A batch is validated
and scored first, in Python; then its new evaluations go in with one
``INSERT .. ON CONFLICT DO NOTHING RETURNING`` and their answers, visit days,
audit events and branch flags with one statement each, so a batch of 50 costs
about ten round trips to the database instead of hundreds. The unique
constraint on ``evaluation.uuid`` — not a check-then-insert — decides races:
a row the insert did not return was stored meanwhile by someone else, and the
item is answered as a replay of what is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from coso.checklists.rules import item_specs
from coso.evaluations.queries import Catalog
from coso.evaluations.rules import CONTENT_FIELDS as CONTENT_FIELDS  # re-exported
from coso.evaluations.rules import canonical_uuid, clean_text, content_hash
from coso.evaluations.schema import EvaluationSchema
from coso.extensions import db, insert_all, insert_new, reading_phase
from coso.feedback.service import record_seen_done
from coso.fields import plain_errors
from coso.judging.queries import settings_for_paths
from coso.judging.scoring import Outcome, Settings, score_evaluation
from coso.judging.service import lock_rows, record_many
from coso.models import AuditEvent, Evaluation, EvaluationAnswer, User
from coso.models.evaluations import OUTCOME_FIELDS
from coso.notifications import service as notify
from coso.visits.service import record_meetings

CREATED, DUPLICATE, CONFLICT, REJECTED = "created", "duplicate", "conflict", "rejected"


@dataclass
class Result:
    """What happened to one submitted item (the sync API's per-item result)."""

    uuid: str
    status: str
    id: int | None = None  # the stored evaluation (created, duplicate, own conflict)
    outcome: dict[str, Any] | None = None
    errors: dict[str, Any] | None = None
    #: The item's kind when it is not an evaluation (issue 18, item 5); an evaluation's
    #: result keeps the shape it always had.
    kind: str | None = None

    def as_dict(self) -> dict[str, Any]:
        answer = {
            "uuid": self.uuid,
            "status": self.status,
            "id": self.id,
            "errors": self.errors,
            "outcome": self.outcome,
        }
        if self.kind is not None:
            answer["kind"] = self.kind
        return answer


@dataclass
class _New:
    """A valid item the batch will insert: where it stands in the batch, and what it holds."""

    index: int
    data: dict[str, Any]
    digest: str
    original: Evaluation | None = None
    row: dict[str, Any] | None = None  # the evaluation's columns; "id" once it is stored
    answers: list[dict[str, Any]] | None = None


def submit_batch(
    items: list[Any],
    user: User,
    *,
    device_id: str | None = None,
    received_at: datetime | None = None,
) -> list[Result]:
    """Validate and store each item; the caller commits once at the end.

    ``received_at`` is the server's time of receipt (now when None): every item's
    ``received_at`` column, and the clock its checks run on (the future, the
    correction window). Only the server's clock counts there, never the phone's.
    """
    now = received_at or datetime.now(UTC)
    results: list[Result | None] = [None] * len(items)
    fresh: dict[str, _New] = {}  # by UUID: the first valid occurrence in the batch
    repeats: list[tuple[int, str, str]] = []  # later occurrences of a UUID in this batch
    # Reading, validating and scoring take no write lock (on SQLite, other requests go on
    # writing meanwhile); only _store's few statements do. What changed in between is
    # caught there: a UUID stored meanwhile or an original corrected meanwhile skips its row.
    with reading_phase():
        catalog = _check(items, user, results, fresh, repeats, now)
        _prepare(list(fresh.values()), user, device_id, catalog, now)
    lost = _store(list(fresh.values()), user, now)
    for uuid_text, new in fresh.items():
        if new.row is not None:
            results[new.index] = Result(uuid_text, CREATED, new.row["id"], outcome_of(new.row))
        elif uuid_text in lost:  # stored meanwhile by another request: what is there decides
            results[new.index] = _replay(lost[uuid_text], uuid_text, new.digest, user)
        else:  # its original was corrected meanwhile by another request
            results[new.index] = Result(
                uuid_text,
                REJECTED,
                errors={"supersedes": [_("This evaluation has already been corrected.")]},
            )
    for index, uuid_text, digest in repeats:
        first = fresh[uuid_text]
        if first.row is not None:  # this batch stored it: the same content is a duplicate
            results[index] = _replay_row(first.row, uuid_text, digest)
        elif uuid_text in lost:
            results[index] = _replay(lost[uuid_text], uuid_text, digest, user)
        else:
            results[index] = Result(uuid_text, REJECTED, errors=results[first.index].errors)  # type: ignore[union-attr]
    return [result for result in results if result is not None]


def _check(
    items: list[Any],
    user: User,
    results: list[Result | None],
    fresh: dict[str, _New],
    repeats: list[tuple[int, str, str]],
    now: datetime,
) -> Catalog:
    """Answer replays and invalid items; collect the valid new ones in ``fresh``.

    One item never fails the batch: whatever its checks raise, it alone is rejected.
    """
    catalog = Catalog.load(user, items)
    # Only well-formed UUIDs are looked up: anything else (NULs, huge strings) is rejected.
    uuids = [
        u for item in items if isinstance(item, dict) and (u := canonical_uuid(item.get("uuid")))
    ]
    existing = _existing(uuids)
    schema = EvaluationSchema(catalog, now=now)
    corrected: set[int] = set()  # originals a correction in this batch already claims
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            results[index] = Result("", REJECTED, errors={"_schema": [_invalid_item()]})
            continue
        raw_uuid = item.get("uuid")
        uuid_text = canonical_uuid(raw_uuid) or (
            raw_uuid.strip().lower()[:36].replace("\x00", "") if isinstance(raw_uuid, str) else ""
        )
        digest = content_hash(item)
        known = existing.get(uuid_text)
        if known is not None:
            results[index] = _replay(known, uuid_text, digest, user)
            continue
        if uuid_text in fresh:
            repeats.append((index, uuid_text, digest))
            continue
        try:
            data = schema.load_item(item)
        except ValidationError as exc:
            results[index] = Result(uuid_text, REJECTED, errors=plain_errors(exc.messages))
            continue
        except (ValueError, TypeError, OverflowError, ArithmeticError, UnicodeError) as exc:
            # A hole in the checks must cost this item, not the batch (a poison item would
            # otherwise block the phone's whole queue): logged, and answered as rejected.
            current_app.logger.warning("sync item rejected by an unexpected error: %r", exc)
            results[index] = Result(uuid_text, REJECTED, errors={"_schema": [_invalid_value()]})
            continue
        original = catalog.own.get(str(data["supersedes"])) if data["supersedes"] else None
        if original is not None:
            if original.id in corrected:
                results[index] = Result(
                    uuid_text,
                    REJECTED,
                    errors={"supersedes": [_("This evaluation has already been corrected.")]},
                )
                continue
            corrected.add(original.id)
        fresh[uuid_text] = _New(index, data, digest, original)
    return catalog


def submit(item: dict[str, Any], user: User) -> Result:
    """Store one evaluation (the HTML form's path)."""
    return submit_batch([item], user)[0]


def _existing(uuids: list[str]) -> dict[str, Evaluation]:
    if not uuids:
        return {}
    return {
        ev.uuid: ev
        for ev in db.session.scalars(
            sa.select(Evaluation)
            .where(Evaluation.uuid.in_(uuids))
            .options(sa.orm.lazyload(Evaluation.answers))
        )
    }


def _invalid_item() -> str:
    return _("Each evaluation must be a JSON object.")


def _invalid_value() -> str:
    return _("This evaluation holds a value that cannot be stored.")


def _replay(known: Evaluation, uuid_text: str, digest: str, user: User) -> Result:
    """Same UUID again: the same content is a duplicate, other content a conflict."""
    if known.cadre_id != user.id:
        return Result(
            uuid_text, CONFLICT, errors={"uuid": [_("This identifier is already in use.")]}
        )
    if known.content_hash == digest:
        return Result(uuid_text, DUPLICATE, known.id, known.outcome_dict())
    return Result(uuid_text, CONFLICT, known.id, known.outcome_dict(), errors=_changed())


def _replay_row(row: dict[str, Any], uuid_text: str, digest: str) -> Result:
    """``_replay`` of an evaluation this batch stored a moment ago (always the user's own)."""
    if row["content_hash"] == digest:
        return Result(uuid_text, DUPLICATE, row["id"], outcome_of(row))
    return Result(uuid_text, CONFLICT, row["id"], outcome_of(row), errors=_changed())


def _changed() -> dict[str, list[str]]:
    return {"uuid": [_("An evaluation with this identifier was stored with other content.")]}


def outcome_of(row: dict[str, Any]) -> dict[str, Any]:
    """The outcome of a stored evaluation's columns, as the sync API reports it."""
    return {key: row[key] for key in OUTCOME_FIELDS}


def _score(
    data: dict[str, Any], catalog: Catalog, settings: Settings, specs: Any = item_specs
) -> Outcome:
    template = catalog.templates[data["template_id"]]
    guidance = catalog.guidance.get(data["guidance_id"]) if data.get("guidance_id") else None
    return score_evaluation(
        specs(template),
        {answer["item"]: answer["value"] for answer in data["answers"]},
        members_total=data["members_total"],
        members_present=data["members_present"],
        topics_total=len(guidance.topics) if guidance else 0,
        topics_covered=len(set(data["topics_covered"])),
        settings=settings,
    )


def _prepare(
    batch: list[_New], user: User, device_id: str | None, catalog: Catalog, now: datetime
) -> None:
    """Score each new item and build its row and its answers (nothing is written yet).

    Rows are plain dicts of the evaluation's columns, not ORM objects: the batch is
    written with Core statements, and building and reading back 50 objects of
    30 attributes each was a noticeable share of a sync.
    """
    # One read of the settings of every branch in the batch, one list of items per template.
    settings = settings_for_paths(catalog.branches[new.data["branch_id"]].path for new in batch)
    specs = cache(item_specs)
    for new in batch:
        data = new.data
        path = catalog.branches[data["branch_id"]].path
        outcome = _score(data, catalog, settings[path], specs)
        good_practice = clean_text(data["good_practice"])
        new.row = {
            "uuid": str(data["uuid"]),
            "content_hash": new.digest,
            "branch_id": data["branch_id"],
            "cadre_id": user.id,
            "template_id": data["template_id"],
            "guidance_id": data["guidance_id"],
            "meeting_date": data["meeting_date"],
            "meeting_type": data["meeting_type"],
            "mode": data["mode"],
            "members_total": data["members_total"],
            "members_present": data["members_present"],
            "topics_covered": sorted(set(data["topics_covered"])),
            "notes": clean_text(data["notes"]),
            "good_practice": good_practice,
            "recommend_practice": bool(data["recommend_practice"] and good_practice),
            "supersedes_id": new.original.id if new.original else None,
            "device_id": device_id,
            "started_at": data["started_at"],
            "submitted_at": data["submitted_at"] or now,
            "received_at": now,
            **outcome.columns(),
        }
        notes = {answer["item"]: clean_text(answer.get("note")) for answer in data["answers"]}
        new.answers = [
            {"item_code": code, "value": value, "note": notes.get(code)}
            for code, value in outcome.effective.items()
        ]


def _store(batch: list[_New], user: User, now: datetime) -> dict[str, Evaluation]:
    """Insert the batch's new evaluations with everything that follows from them.

    Sets ``row["id"]`` on each item it stored (clears ``row`` on the others); returns,
    by UUID, the evaluations another request stored first (their items are answered
    as replays).
    """
    if not batch:
        return {}
    # Branch rows first, in branch order: two batches never wait on each other crosswise.
    lock_rows({new.data["branch_id"] for new in batch})
    # In UUID order: two batches sharing UUIDs then take their index entries in one order
    # and cannot deadlock on PostgreSQL (one waits for the other instead).
    ordered = sorted((new.row for new in batch if new.row is not None), key=itemgetter("uuid"))
    table = Evaluation.__table__
    connection = db.session.connection()
    # One statement for the batch (PostgreSQL: unnest; SQLite: executemany with RETURNING).
    # A UUID (or an original's correction) stored meanwhile skips its row, not the batch.
    inserted = dict(insert_new(connection, table, ordered, table.c.uuid, table.c.id))
    stored: list[_New] = []
    for new in batch:
        assert new.row is not None
        if new.row["uuid"] in inserted:
            new.row["id"] = inserted[new.row["uuid"]]
            stored.append(new)
        else:
            new.row = None
    lost = _existing([str(new.data["uuid"]) for new in batch if new.row is None])
    if not stored:
        return lost

    insert_all(
        connection,
        EvaluationAnswer.__table__,
        [
            {"evaluation_id": new.row["id"], **answer}  # type: ignore[index]
            for new in stored
            for answer in new.answers or ()
        ],
    )
    record_meetings(
        [new.row for new in stored if new.row is not None],
        [new.original.id for new in stored if new.original is not None],
        now,
    )
    record_many([new.row for new in stored if new.row is not None])
    _audit(stored, user, now)
    record_seen_done(
        [(new.row, new.data.get("seen_done") or []) for new in stored if new.row is not None],
        user,
        now,
    )
    notify.evaluations_stored([new.row for new in stored if new.row is not None])
    return lost


def _audit(stored: list[_New], user: User, now: datetime) -> None:
    """One audit event per stored evaluation (coso.audit's fields, written in one statement)."""
    address = request.remote_addr if has_request_context() else None
    db.session.connection().execute(
        sa.insert(AuditEvent.__table__),
        [
            {
                "at": now,
                "action": "evaluation.correct" if new.original else "evaluation.create",
                "user_id": user.id,
                "object_type": "Evaluation",
                "object_id": str(row["id"]),
                "unit_id": row["branch_id"],
                "remote_addr": address,
                "details": {
                    "uuid": row["uuid"],
                    "supersedes": new.original.uuid if new.original else None,
                    "compliant": row["compliant"],
                    "score": row["score"],
                },
            }
            for new in stored
            if (row := new.row) is not None
        ],
    )
