"""Visits other than meetings: inspections, co-organised activities, field studies and
research, with their reports (or the lack of them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from coso.demo.texts import VISIT_FORMS, VISIT_REPORTS
from coso.demo.world import Ctx, insert_rows, local_time, weighted
from coso.models import Unit, Visit


def build_other_visits(ctx: Ctx, months: int) -> None:
    """Inspections, co-organised activities, field studies and research by each cadre."""
    rng, today = ctx.rng, ctx.today
    rows: list[dict[str, Any]] = []
    by_commune: dict[int, list[Unit]] = {}
    for plan in ctx.branches:
        by_commune.setdefault(plan.commune, []).append(plan.unit)
    for user, weight, commune in ctx.cadres:
        for back in range(min(months, 12)):
            for _ in range(rng.choice((0, 1, 1, 2)) if weight > 0.5 else rng.choice((0, 0, 1))):
                form = weighted(rng, VISIT_FORMS)
                days = {"inspection": rng.randint(1, 2), "coorganise": 1}.get(form, 0)
                days = days or (rng.randint(5, 20) if form == "field_study" else rng.randint(2, 4))
                index = commune if commune is not None else rng.randrange(len(ctx.communes))
                if (
                    form in ("inspection", "research")
                    and rng.random() < 0.5
                    and by_commune.get(index)
                ):
                    unit = rng.choice(by_commune[index])
                else:
                    unit = ctx.communes[index]
                start = today - timedelta(days=back * 30 + rng.randint(days, days + 27))
                end = start + timedelta(days=days - 1)
                age = (today - end).days
                reported = rng.random() < (0.75 if age > 10 else 0.4)
                reported_on = end + timedelta(days=rng.randint(1, 9 if rng.random() < 0.8 else 20))
                reported_at = None
                if reported and reported_on < today:
                    reported_at = local_time(reported_on, 16, rng.randint(0, 59))
                rows.append(
                    {
                        "user_id": user.id,
                        "unit_id": unit.id,
                        "form": form,
                        "start_date": start,
                        "end_date": end,
                        "days": days,
                        "report": VISIT_REPORTS[form] if reported_at else None,
                        "reported_at": reported_at,
                        "evaluation_id": None,
                        "created_at": local_time(start, 8, 0),
                    }
                )
    if rows:
        insert_rows(Visit, rows)
    ctx.counts["visits"] += len(rows)
    ctx.progress(f"Other visits: {len(rows):,}.")
