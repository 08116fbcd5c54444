"""A realistic demo province, so every screen has something true-to-life to show.

``seed`` builds a province union, its commune and ward unions and their
branches, the default checklist, four months of guidance, the demo users, and
months of scored evaluations (by default every month of the dashboard's trend,
some communes weaker, the province improving, Tết quiet) with their branch states,
visits, feedback and corrective actions, and leaves an audit event
(``coso.audit.DEMO_SEED``) by which the pages say the data is a demo. Every state of
domain.md (ok, flagged, repeat, overdue, never) is planted on purpose, in the first
commune as well as overall.

Evaluations go through the sync API's own service (``coso.demo.evaluations``),
so their outcomes, meeting visits and branch states are the app's, never the
demo's; the rest (units, users, guidance, other visits, feedback) is built here,
one module per part: ``units``, ``people``, ``guidance``, ``meetings``,
``evaluations``, ``visits``, ``feedback``, on the shared ``world`` and ``texts``.
It must also load a whole province's history for benchmarks (3,000 branches x
56 months, about 140,000 evaluations and 3 million answers).

Nothing in the app's request path imports this package: only the ``seed-demo``
command, the benchmarks and the tests do.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from random import Random

import sqlalchemy as sa

from coso import audit
from coso.checklists.service import create_default_template
from coso.clock import today as local_today
from coso.dashboard.rules import TREND_MONTHS
from coso.demo import nation
from coso.demo.calendar import build_calendar
from coso.demo.difficulties import build_difficulties
from coso.demo.evaluations import build_evaluations
from coso.demo.feedback import build_responses
from coso.demo.guidance import MONTHLY_GUIDANCE, build_guidance
from coso.demo.notifications import build_notifications
from coso.demo.people import build_users
from coso.demo.plans import build_plans
from coso.demo.practices import build_practices
from coso.demo.reviews import build_reviews
from coso.demo.units import build_units
from coso.demo.visits import build_other_visits
from coso.demo.world import (
    DEMO_PASSWORD,
    DEMO_USERS,
    PROVINCE_CODE,
    PROVINCE_NAME,
    VN,
    Ctx,
    sync_sequences,
    wipe_all,
)
from coso.extensions import db
from coso.judging import flags
from coso.models import Unit

#: This month and every month of the dashboard's default trend (the twelve before it).
DEFAULT_MONTHS = TREND_MONTHS + 1

__all__ = [
    "DEFAULT_MONTHS",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "MONTHLY_GUIDANCE",
    "PROVINCE_CODE",
    "PROVINCE_NAME",
    "VN",
    "seed",
]


def seed(
    *,
    branches: int = 200,
    months: int | None = None,
    communes: int | None = None,
    random_seed: int = 2026,
    wipe: bool = False,
    progress: Callable[[str], None] = lambda m: None,
    today: date | None = None,
    provinces: int = 0,
) -> str:
    """Load the demo province and return a one-paragraph summary of what was made.

    :param branches: how many branches (at least 5 so every state can be shown); per
        province in a national demo.
    :param months: months of evaluation history, back from ``today`` (default: this
        month and every month of the dashboard's trend, ``DEFAULT_MONTHS``).
    :param communes: commune/ward unions (default: one per ten branches), per province.
    :param random_seed: the same seed and ``today`` give the same data.
    :param wipe: delete every row of every table first.
    :param today: the day the demo is "now" (default: the real today).
    :param provinces: 0 (the default): one province, the tree's root; N ≥ 1: the Central
        Committee (``coso.demo.nation``) with N provinces under it, each built like the
        demo province, and the ``central`` user.

    Not one transaction: the evaluations' service ends the transaction before each
    batch it reads (``coso.extensions.reading_phase``), so what came before is
    committed as the seed goes; a seed that fails half-way leaves a partial demo
    (``seed-demo --force`` replaces it).
    """
    months = DEFAULT_MONTHS if months is None else months
    if branches < 1 or months < 1 or provinces < 0:
        raise ValueError("need at least one branch and one month")
    started = clock.monotonic()
    today = today or local_today()
    end_of_today = datetime.combine(today, time(23, 59), tzinfo=VN).astimezone(UTC)
    now = min(end_of_today, datetime.now(UTC)) if today >= local_today() else end_of_today
    if wipe:
        wipe_all()
        progress("Emptied every table.")
    if not provinces:
        ctx = Ctx(rng=Random(random_seed), today=today, now=now, progress=progress)
        _province(ctx, months, branches, communes)
        summaries = [summary_of(ctx)]
    else:
        top, _central = nation.build_centre(None, DEMO_PASSWORD)
        sync_sequences((Unit,))
        taken: set[str] = {nation.CENTRAL_USER}
        summaries = []
        for index, (code, name) in enumerate(nation.province_names(provinces)):
            ctx = Ctx(
                rng=Random(random_seed + index),
                today=today,
                now=now,
                progress=progress,
                province_code=code,
                province_name=name,
                parent=top,
                user_prefix=nation.user_prefix(index, code),
                taken=taken,
            )
            _province(ctx, months, branches, communes)
            summaries.append(summary_of(ctx))
        summaries.append(
            f"Central Committee {nation.CENTRAL_NAME}: user {nation.CENTRAL_USER}; the demo "
            "users of the provinces after the first start with its code (hn.province, hn.cadre …)."
        )
    # The mark the pages read to say the data is a demo, and as of which day.
    audit.record(audit.DEMO_SEED, as_of=today.isoformat(), months=months)
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # The planner's statistics for what was just loaded: without them (before autovacuum
        # gets there, or where it is off) PostgreSQL takes a table of thousands of branches
        # for one row, and the tallies' triggers probe every branch for every answer synced.
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    elapsed = clock.monotonic() - started
    progress(f"Committed in {elapsed:.1f} s.")
    return "\n".join(summaries)


def _province(ctx: Ctx, months: int, branches: int, communes: int | None) -> None:
    """One demo province, whole: units, users, checklist, guidance, history and the rest."""
    build_units(ctx, branches, communes)
    sync_sequences((Unit,))  # unit ids are assigned here; later batches commit as they go
    build_users(ctx)
    template = create_default_template(ctx.province)  # type: ignore[arg-type]
    template.created_by_id = ctx.users["province"].id
    guidance = build_guidance(ctx)
    ctx.progress(
        f"Checklist v{template.version} published; guidance for {', '.join(sorted(guidance))}."
    )
    build_evaluations(ctx, template.items, guidance, months)
    build_other_visits(ctx, months)
    build_reviews(ctx)
    build_plans(ctx)
    build_responses(ctx)
    build_calendar(ctx)
    build_practices(ctx)
    build_difficulties(ctx)
    build_notifications(ctx)


def summary_of(ctx: Ctx) -> str:
    """What was loaded, in one short paragraph."""
    c = ctx.counts
    states = ", ".join(f"{state} {ctx.states[state]}" for state in flags.STATES)
    return (
        f"Demo province {ctx.province_name}: {c['units']} units ({c['communes']} commune/ward "
        f"unions, {c['branches']} branches), {c['users']} users, {c['evaluations']:,} "
        f"evaluations ({c['answers']:,} answers), {c['visits']:,} visits, "
        f"{c['plans']} visit plans, {c['feedback']} "
        f"feedback, {c['actions']} corrective actions.\nBranches by state: {states}."
    )
