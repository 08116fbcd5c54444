"""When each branch met and how each meeting went: dates shaped by the branch's planned
state, and answers drawn to make a meeting compliant or not (checked by the real
scoring before the evaluation is sent)."""

from __future__ import annotations

import math
from bisect import bisect
from collections.abc import Sequence
from datetime import date
from itertools import accumulate
from random import Random

from coso.demo.world import BranchPlan, Ctx, period_of, weighted
from coso.judging import flags, scoring

# Cumulative (pass, partial, fail) thresholds; what is left over is "na".
Profile = dict[str, tuple[float, float, float]]
#: The critical items a non-compliant meeting most often fails, and how often.
CRITICAL_CHOICES = ("P10", "C1", "P2", "P1", "C8")
CRITICAL_WEIGHTS = (0.35, 0.25, 0.15, 0.15, 0.10)
CUM_CRITICAL = list(accumulate(CRITICAL_WEIGHTS))[:-1]


def meeting_dates(ctx: Ctx, plan: BranchPlan, months: int) -> list[date]:
    """The branch's evaluated meeting dates, oldest first, shaped by its plan."""
    rng, today = ctx.rng, ctx.today
    if plan.plan == flags.NEVER:
        return []
    needed = 2 if plan.plan == flags.REPEAT else 1
    start = 0
    if plan.plan == flags.OVERDUE:  # nobody has been back for a few months
        start = rng.randint(4, 6)
    dates: list[date] = []
    back = start
    while back < max(months, start + 1) or len(dates) < needed:
        period = period_of(today, back)
        year, month = int(period[:4]), int(period[5:])
        day = date(year, month, min(28, max(1, plan.day + rng.randint(-3, 3))))
        back += 1
        # Not held yet this month; or, before the last three months, not evaluated: how
        # often depends on the branch (how far it is) and the month (Tết is quiet).
        if day >= today or (back > 3 and rng.random() > plan.coverage * ctx.mood(period)[0]):
            continue
        if plan.plan == flags.OVERDUE and (today - day).days <= 90:
            continue
        dates.append(day)
        if back > months + 24:
            break
    dates.reverse()
    return dates


def targets_for(rng: Random, plan: BranchPlan, n: int) -> list[bool | None]:
    """Whether each meeting must be compliant (True/False) or may be either (None)."""
    targets: list[bool | None] = [None] * n
    if n and plan.plan == flags.OK:
        targets[-1] = True
    elif n and plan.plan == flags.FLAGGED:
        targets[-1] = False
        if n > 1:
            targets[-2] = True
    elif n and plan.plan == flags.REPEAT:
        targets[-1] = False
        if n > 1:
            targets[-2] = False
        if n > 2 and rng.random() < 0.4:
            targets[-3] = False
    return targets


def profiles_for(items: Sequence[scoring.ItemSpec]) -> dict[str, Profile]:
    """Answer distributions: a good meeting, a weak one, a poor one."""
    shapes = {
        "good": ((0.9, 1.0, 1.0), (0.8, 0.94, 0.98)),
        "weak": ((0.8, 1.0, 1.0), (0.55, 0.8, 0.97)),
        "poor": ((0.55, 0.85, 1.0), (0.3, 0.6, 0.98)),
    }
    return {
        name: {
            item.code: critical if item.critical else normal
            for item in items
            if item.kind == scoring.CHOICE
        }
        for name, (critical, normal) in shapes.items()
    }


def _answers(rng: Random, profile: Profile) -> dict[str, str]:
    out = {}
    for code, (p_pass, p_partial, p_fail) in profile.items():
        r = rng.random()
        out[code] = (
            scoring.PASS
            if r < p_pass
            else scoring.PARTIAL
            if r < p_partial
            else scoring.FAIL
            if r < p_fail
            else scoring.NA
        )
    return out


def meeting(
    rng: Random,
    profiles: dict[str, Profile],
    compliant: bool,
    total: int,
    topics: tuple[str, ...],
) -> tuple[dict[str, str], int, list[str]]:
    """Answers, members present and topics covered for a meeting meant to (not) comply."""
    n = len(topics)
    half = math.ceil(n / 2)
    ratio = rng.uniform(0.6, 1.0)
    covered = rng.randint(half, n) if n else 0
    if compliant:
        answers = _answers(rng, profiles["good"])
    else:
        cause = weighted(
            rng,
            (("critical", 0.4), ("attendance", 0.2), ("content", 0.15), ("score", 0.1)),
        )
        if rng.random() < 0.15:
            cause = "serious"
        answers = _answers(rng, profiles["poor" if cause in ("score", "serious") else "weak"])
        if cause == "attendance":
            ratio = rng.uniform(0.25, 0.49)
        elif cause == "content" and n:
            covered = rng.randint(0, half - 1)
        elif cause == "serious":
            for code in rng.sample(CRITICAL_CHOICES, 2):
                answers[code] = scoring.FAIL
        else:
            code = CRITICAL_CHOICES[bisect(CUM_CRITICAL, rng.random())]
            answers[code] = scoring.FAIL
    present = max(1, min(total, int(total * ratio) if ratio < 0.5 else round(total * ratio)))
    return answers, present, sorted(rng.sample(topics, covered), key=topics.index)
