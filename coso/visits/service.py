"""Writing visits: a visit a cadre logs, its report, and the day each branch meeting counts.

The caller commits (one transaction per user action; a sync batch commits once).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, clock
from coso.evaluations.rules import canonical_uuid
from coso.extensions import db, insert_all, reading_phase
from coso.fields import plain_errors
from coso.models import User, Visit, VisitReview
from coso.visits.rules import REPORT_CONTENT, VISIT_CONTENT, report_step, sync_hash
from coso.visits.schema import VISIT, ReportItemSchema, VisitItemSchema

CREATED, DUPLICATE, CONFLICT, REJECTED = "created", "duplicate", "conflict", "rejected"


def log_visit(user: User, data: dict[str, Any]) -> Visit:
    """Store a visit other than a branch meeting, from ``VisitSchema``'s data."""
    report = (data.get("report") or "").strip() or None
    visit = Visit(
        user_id=user.id,
        unit_id=data["unit_id"],
        form=data["form"],
        start_date=data["start_date"],
        end_date=data["end_date"],
        days=(data["end_date"] - data["start_date"]).days + 1,
        report=report,
        reported_at=datetime.now(UTC) if report else None,
    )
    db.session.add(visit)
    db.session.flush()
    audit.record(
        "visit.create",
        obj=visit,
        unit_id=visit.unit_id,
        form=visit.form,
        start=visit.start_date.isoformat(),
        end=visit.end_date.isoformat(),
        reported=report is not None,
    )
    return visit


def write_report(visit: Visit, report: str) -> None:
    """Write (or rewrite) a visit's report; ``reported_at`` keeps the first time."""
    first = visit.report is None
    visit.report = report.strip()
    # A later version than any synced draft: a phone's older draft then answers conflict.
    visit.report_version = (visit.report_version or 0) + 1
    visit.report_hash = None
    if first or visit.reported_at is None:
        visit.reported_at = datetime.now(UTC)
    audit.record("visit.report", obj=visit, unit_id=visit.unit_id, first=first)


def record_meetings(rows: Iterable[dict[str, Any]], replaced: list[int], now: datetime) -> None:
    """Each stored evaluation is a visit day; a correction replaces its original's day.

    ``rows`` are the evaluations' columns as the sync stores them (with their ``id`` and
    ``supersedes_id``), ``replaced`` the ids of the evaluations they correct. The reviews of
    a replaced day move to its correction's day (a reviewer's work is not lost with the
    original); then the original's day goes.
    """
    insert_all(
        db.session.connection(),
        Visit.__table__,
        [
            {
                "user_id": row["cadre_id"],
                "unit_id": row["branch_id"],
                "form": "meeting",
                "start_date": row["meeting_date"],
                "end_date": row["meeting_date"],
                "days": 1,
                "evaluation_id": row["id"],
                "created_at": now,
            }
            for row in rows
        ],
    )
    if replaced:
        _move_reviews({row["supersedes_id"]: row["id"] for row in rows if row.get("supersedes_id")})
        db.session.execute(sa.delete(Visit).where(Visit.evaluation_id.in_(replaced)))


def _move_reviews(corrections: dict[int, int]) -> None:
    """Re-point the reviews of each corrected evaluation's visit to its correction's visit."""
    visit_of = dict(
        db.session.execute(
            sa.select(Visit.evaluation_id, Visit.id).where(
                Visit.evaluation_id.in_([*corrections, *corrections.values()])
            )
        ).all()
    )
    for original, correction in corrections.items():
        old, new = visit_of.get(original), visit_of.get(correction)
        if old is not None and new is not None:
            db.session.execute(
                sa.update(VisitReview).where(VisitReview.visit_id == old).values(visit_id=new)
            )


# ------------------------------------------------ visits and reports from the sync API


def submit_items(items: list[tuple[int, dict[str, Any]]], user: User, now: datetime) -> list[Any]:
    """Store the batch's visits and report versions, in batch order; one result each.

    ``items`` are ``(position, item)`` of the batch's items of kind ``visit`` or
    ``visit_report``. The answers are the evaluations' (design.md, "The sync API"):
    ``created`` stored now (a report's later version counts as stored now), ``duplicate``
    the same UUID (and version) with the same content, nothing changes; ``conflict`` other
    content under a stored UUID, nothing changes; ``rejected`` invalid, nothing stored.
    The unique UUID decides a race between two requests, not a check-then-insert; a
    report's versions are decided under the visit's row lock.
    """
    # Imported here: coso.evaluations.service imports this module.
    from coso.evaluations.service import Result

    if has_app_context() and g.get("coso_reading"):
        # A batch of visits alone is still in the sync's read-only start (extensions.read_first):
        # end it, so the next statement takes SQLite's write lock at once instead of upgrading
        # a read transaction, which fails as "busy" when another writer went first.
        with reading_phase():
            pass
    today = clock.today()
    if today != now.date():  # a pinned clock (tests, demos): the report's day follows it
        now = datetime.combine(today, now.timetz())
    results: list[Any] = []
    for _position, item in items:
        kind = item.get("kind")
        uuid_text = _uuid_text(item.get("uuid"))
        try:
            if kind == VISIT:
                result = _visit_item(item, uuid_text, user, today, now)
            else:
                result = _report_item(item, uuid_text, user, now)
        except ValidationError as exc:
            result = (REJECTED, None, plain_errors(exc.messages))
        except (ValueError, TypeError, OverflowError, ArithmeticError, UnicodeError) as exc:
            current_app.logger.warning("sync %s rejected by an unexpected error: %r", kind, exc)
            result = (
                REJECTED,
                None,
                {"_schema": [_("This item holds a value that cannot be stored.")]},
            )
        status, visit_id, errors = result
        results.append(Result(uuid_text, status, visit_id, None, errors, kind=kind))
    return results


Answer = tuple[str, int | None, dict[str, Any] | None]


def _uuid_text(raw: Any) -> str:
    canonical = canonical_uuid(raw)
    if canonical:
        return canonical
    return raw.strip().lower()[:36].replace("\x00", "") if isinstance(raw, str) else ""


def _by_uuid(uuid_text: str, lock: bool = False) -> Visit | None:
    query = sa.select(Visit).where(Visit.uuid == uuid_text)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def _visit_replay(known: Visit, digest: str, user: User) -> Answer:
    if known.user_id != user.id:
        return CONFLICT, None, {"uuid": [_("This identifier is already in use.")]}
    if known.content_hash == digest:
        return DUPLICATE, known.id, None
    return (
        CONFLICT,
        known.id,
        {"uuid": [_("A visit with this identifier was stored with other content.")]},
    )


def _visit_item(
    item: dict[str, Any], uuid_text: str, user: User, today: date, now: datetime
) -> Answer:
    """A visit: stored once per UUID; sent again, it is a duplicate (its days count once)."""
    digest = sync_hash(item, VISIT_CONTENT)
    if canonical_uuid(item.get("uuid")):
        known = _by_uuid(uuid_text)
        if known is not None:
            return _visit_replay(known, digest, user)
    data = VisitItemSchema(user, today).load(item)
    report = (data.get("report") or "").strip() or None
    stamp = _reported_at(data.get("submitted_at"), data["start_date"], now) if report else None
    visit = Visit(
        user_id=user.id,
        unit_id=data["unit_id"],
        form=data["form"],
        start_date=data["start_date"],
        end_date=data["end_date"],
        days=(data["end_date"] - data["start_date"]).days + 1,
        report=report,
        reported_at=stamp,
        uuid=uuid_text,
        content_hash=digest,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(visit)
    except IntegrityError:
        # Stored meanwhile by another request: what is there decides.
        known = _by_uuid(uuid_text)
        if known is None:
            raise
        return _visit_replay(known, digest, user)
    audit.record(
        "visit.create",
        obj=visit,
        unit_id=visit.unit_id,
        form=visit.form,
        start=visit.start_date.isoformat(),
        end=visit.end_date.isoformat(),
        reported=report is not None,
        uuid=uuid_text,
        via="sync",
    )
    return CREATED, visit.id, None


def _reported_at(submitted: datetime | None, start: date, now: datetime) -> datetime:
    """When a report was written: the phone's time, never later than now (the server's
    clock) nor before the visit began; now when the phone sent none."""
    if submitted is None or submitted > now:
        return now
    earliest = datetime.combine(start, time.min, tzinfo=UTC)
    return max(submitted, earliest)


def _report_item(item: dict[str, Any], uuid_text: str, user: User, now: datetime) -> Answer:
    """A version of a visit's report: a later version replaces the text, the same is a
    duplicate, an older or different one a conflict (:func:`coso.visits.rules.report_step`)."""
    data = ReportItemSchema().load(item)
    visit = _by_uuid(str(data["visit_uuid"]), lock=True)
    if visit is None or visit.user_id != user.id:
        raise ValidationError(
            {"visit_uuid": [_("No visit of yours has this identifier; send the visit first.")]}
        )
    digest = sync_hash(item, REPORT_CONTENT)
    step = report_step(
        visit.report_uuid,
        visit.report_version,
        visit.report_hash,
        uuid_text,
        data["version"],
        digest,
    )
    if step == "same":
        return DUPLICATE, visit.id, None
    if step == "conflict":
        return (
            CONFLICT,
            visit.id,
            {"version": [_("A later or different version of this report is already stored.")]},
        )
    first = visit.report is None
    visit.report = data["report"].strip()
    visit.report_uuid = uuid_text
    visit.report_version = data["version"]
    visit.report_hash = digest
    if visit.reported_at is None:
        visit.reported_at = _reported_at(data.get("submitted_at"), visit.start_date, now)
    db.session.flush()
    audit.record(
        "visit.report",
        obj=visit,
        unit_id=visit.unit_id,
        first=first,
        version=data["version"],
        via="sync",
    )
    return CREATED, visit.id, None
