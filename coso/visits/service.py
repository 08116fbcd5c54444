"""Writing visits: a visit a cadre logs, its report, and the day each branch meeting counts.

The caller commits (one transaction per user action; a sync batch commits once).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from coso import audit
from coso.extensions import db
from coso.models import User, Visit


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
    if first or visit.reported_at is None:
        visit.reported_at = datetime.now(UTC)
    audit.record("visit.report", obj=visit, unit_id=visit.unit_id, first=first)


def record_meetings(rows: Iterable[dict[str, Any]], replaced: list[int], now: datetime) -> None:
    """Each stored evaluation is a visit day; a correction replaces its original's day.

    ``rows`` are the evaluations' columns as the sync stores them (with their ``id``),
    ``replaced`` the ids of the evaluations they correct. One statement each.
    """
    if replaced:
        db.session.execute(sa.delete(Visit).where(Visit.evaluation_id.in_(replaced)))
    db.session.connection().execute(
        sa.insert(Visit.__table__),
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
