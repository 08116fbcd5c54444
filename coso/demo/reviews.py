"""Quality reviews of the demo's visit reports: most approved, some sent back as "needs
more" with a comment, a few only reviewed (issue 19, item 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from coso.demo.world import Ctx, insert_rows
from coso.extensions import db
from coso.models import Visit, VisitReview
from coso.reviews import rules

NEEDS_MORE = "Báo cáo chưa nêu kiến nghị cụ thể; đề nghị bổ sung việc theo dõi sau chuyến đi."
APPROVED = "Báo cáo cụ thể, có kiến nghị."


def build_reviews(ctx: Ctx) -> None:
    """The province reviews about two in three of the written visit reports."""
    rng, reviewer = ctx.rng, ctx.users["province"]
    visits = db.session.execute(
        sa.select(Visit.id, Visit.end_date)
        .where(Visit.user_id.in_([u.id for u in ctx.users.values()]))
        .where(Visit.report.is_not(None), Visit.form != "meeting")
        .order_by(Visit.id)
    ).all()
    rubric = [dict(c) for c in rules.DEFAULT_RUBRIC]
    rows: list[dict[str, Any]] = []
    for visit_id, end in visits:
        if rng.random() > 0.65:
            continue
        state = rng.choices(rules.DECISIONS, weights=(1, 2, 7))[0]
        values = {c["key"]: rng.randint(1 if state == "approved" else 0, 2) for c in rubric}
        when = ctx.now - timedelta(days=max((ctx.today - end).days - 12, 0))
        rows.append(
            {
                "visit_id": visit_id,
                "user_id": reviewer.id,
                "state": state,
                "scores": {"values": values, "rubric": rubric},
                "comment": NEEDS_MORE if state == "needs_more" else APPROVED,
                "created_at": when,
            }
        )
    if rows:
        insert_rows(VisitReview, rows)
    ctx.counts["reviews"] += len(rows)
    ctx.progress(f"Visit reviews: {len(rows):,}.")
