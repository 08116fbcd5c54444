"""The demo's evaluations, sent through the sync API's own service.

Each meeting becomes the item a phone would send to ``POST /api/v1/sync``
(JSON-shaped: ISO dates, answers as ``{"item", "value", "note"}``), and each
cadre's items are stored with ``coso.evaluations.service.submit_batch``, in
batches of at most the API's 100, as that cadre's phone would deliver them. So the
demo writes no evaluation, answer, meeting visit, audit event or branch status row
itself: validation, scoring, storing and judging are the service's, and a change
to any of them shows in the demo at once.

Phones sync when they are back online: the last ``DAILY_DAYS`` days arrive in a
sync a day per cadre, older history in a sync a month per cadre (stored as
received at its last item's delivery). The service's cost is mostly per batch,
so fewer, fuller batches keep the benchmark's 140,000-evaluation province
loadable in minutes; receipt times matter only for recent evaluations (the
secretaries' unacknowledged list, the latest on the home page).

The answers of a planned meeting are drawn at random and scored with the real
``coso.judging.scoring`` until the meeting is (or is not) compliant as its
branch's plan needs; the stored outcome is the service's own scoring of them.
"""

from __future__ import annotations

import uuid
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from random import Random
from typing import Any

import sqlalchemy as sa

from coso.demo.meetings import meeting, meeting_dates, profiles_for, targets_for
from coso.demo.texts import ITEM_NOTES, MEETING_TYPES
from coso.demo.world import VN, BranchPlan, Ctx, EvalRecord, local_time, period_of, weighted
from coso.evaluations.service import CREATED, submit_batch
from coso.extensions import db
from coso.judging import flags, scoring
from coso.judging.queries import settings_for_path
from coso.judging.service import lock_rows
from coso.models import BranchStatus, User
from coso.sync.views import MAX_BATCH as BATCH  # a phone sends no more at once

#: Recent days synced a day at a time (older history: a month at a time).
DAILY_DAYS = 60
#: How much less often a meeting complied for each month back: the province improves.
IMPROVING = 0.008


@dataclass
class _Sent:
    """One evaluation as a phone sends it, and what the demo needs back from storing it."""

    item: dict[str, Any]
    cadre_id: int
    received_at: datetime  # when the phone would have delivered it on its own
    record: EvalRecord  # kept for the feedback phase


def build_evaluations(
    ctx: Ctx,
    template_items: Sequence[Any],
    guidance: dict[str, tuple[int, tuple[str, ...]]],
    months: int,
) -> None:
    """Evaluations with their answers, meeting visits and branch states, via the service."""
    items = [
        scoring.ItemSpec(item.code, item.section, item.weight, item.critical, item.kind)
        for item in template_items
    ]
    template_id = template_items[0].template_id
    province = ctx.province
    assert province is not None
    settings = settings_for_path(province.path)
    # Who may evaluate where: cumulative weights of the cadres in scope, per commune.
    pickers: list[tuple[list[float], list[int]]] = []
    for index in range(len(ctx.communes)):
        eligible = [(u.id, w) for u, w, c in ctx.cadres if c is None or c == index]
        pickers.append(([*accumulate(w for _, w in eligible)], [uid for uid, _ in eligible]))
    sent: list[_Sent] = []
    for plan in ctx.branches:
        records = _plan_branch(ctx, plan, items, settings, template_id, guidance, months, pickers)
        sent.extend(records)
        ctx.records[plan.unit.id] = [s.record for s in records]
    # Every branch gets its status row the way the service makes one (never evaluated).
    lock_rows(plan.unit.id for plan in ctx.branches)
    total = _submit(ctx, sent)
    ctx.counts.update(evaluations=total, answers=total * len(items), visits=total)
    _count_states(ctx, settings.overdue_days)
    first = ", ".join(f"{state} {ctx.first_states[state]}" for state in flags.STATES)
    ctx.progress(f"Branch statuses: {len(ctx.branches):,} ({ctx.communes[0].name}: {first}).")


def _plan_branch(
    ctx: Ctx,
    plan: BranchPlan,
    items: list[scoring.ItemSpec],
    settings: scoring.Settings,
    template_id: int,
    guidance: dict[str, tuple[int, tuple[str, ...]]],
    months: int,
    pickers: list[tuple[list[float], list[int]]],
) -> list[_Sent]:
    """The items one branch's cadres send, shaped so the branch ends in its planned state."""
    rng, today = ctx.rng, ctx.today
    profiles = profiles_for(items)
    compliant_fallback = {code: scoring.PASS for code in profiles["good"]}
    demo_cadre = ctx.users["cadre"].id
    branch = plan.unit
    members = branch.member_count or 10
    dates = meeting_dates(ctx, plan, months)
    targets = targets_for(rng, plan, len(dates))
    cum, ids = pickers[plan.commune]
    out: list[_Sent] = []
    for meeting_date, target in zip(dates, targets, strict=True):
        period = period_of(meeting_date)
        guided = guidance.get(period)
        topics = guided[1] if guided else ()
        # The branch's usual level, the month's swing, and a province improving with time.
        back = (today.year - meeting_date.year) * 12 + today.month - meeting_date.month
        chance = plan.quality + ctx.mood(period)[1] - IMPROVING * back
        must = target if target is not None else rng.random() < chance
        total_members = max(3, members + rng.randint(-2, 1))
        for attempt in range(8):
            if attempt == 7:  # give up on chance: a clean pass, or minutes missing
                answers_in, present, covered = dict(compliant_fallback), total_members, list(topics)
                if not must:
                    answers_in["P10"] = scoring.FAIL
            else:
                answers_in, present, covered = meeting(rng, profiles, must, total_members, topics)
            outcome = scoring.score_evaluation(
                items,
                answers_in,
                members_total=total_members,
                members_present=present,
                topics_total=len(topics),
                topics_covered=len(covered),
                settings=settings,
            )
            if outcome.compliant == must or target is None:
                break
        if plan.commune == 0 and (today - meeting_date).days <= 90 and rng.random() < 0.8:
            cadre_id = demo_cadre  # the demo cadre mostly covers the first commune
        else:
            cadre_id = ids[bisect(cum, rng.random() * cum[-1])]
        ev_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        hour, minute = (19, rng.choice((0, 15, 30))) if plan.evening else (7, 30)
        started_at = local_time(meeting_date, hour, minute) + timedelta(minutes=rng.randint(0, 15))
        submitted_at = started_at + timedelta(minutes=rng.randint(70, 130))
        received_at = max(submitted_at, min(submitted_at + _delay(rng), ctx.now))
        good_practice = None
        recommend = False
        if outcome.compliant and (outcome.score or 0) >= 85 and rng.random() < 0.08:
            good_practice = ctx.phrases.good_practice(present, total_members)
            recommend = rng.random() < 0.5
        notes = None
        if rng.random() < 0.3:
            notes = ctx.phrases.note(outcome.compliant, present, total_members)
        answers = []  # (item, value, note): a benchmark's 3 million answers as tuples
        for code, value in answers_in.items():
            note = None
            failing = value in (scoring.FAIL, scoring.PARTIAL) and code in ITEM_NOTES
            if failing and rng.random() < 0.3:
                note = rng.choice(ITEM_NOTES[code])
            answers.append((code, value, note))
        item = {
            "uuid": ev_uuid,
            "branch_id": branch.id,
            "template_id": template_id,
            "guidance_id": guided[0] if guided else None,
            "meeting_date": meeting_date.isoformat(),
            "meeting_type": weighted(rng, MEETING_TYPES),
            "mode": "online" if rng.random() < 0.08 else "in_person",
            "members_total": total_members,
            "members_present": present,
            "answers": tuple(answers),  # made JSON-shaped when sent (``_as_sent``)
            "topics_covered": covered,
            "notes": notes,
            "good_practice": good_practice,
            "recommend_practice": recommend,
            "supersedes": None,
            "started_at": started_at.isoformat(),
            "submitted_at": submitted_at.isoformat(),
        }
        record = EvalRecord(
            id=0,  # known once stored
            branch_id=branch.id,
            cadre_id=cadre_id,
            meeting_date=meeting_date,
            received_at=received_at,
            compliant=outcome.compliant,
            failed=tuple(code for code, v in outcome.effective.items() if v == scoring.FAIL),
            present=present,
        )
        out.append(_Sent(item, cadre_id, received_at, record))
    return out


def _as_sent(item: dict[str, Any]) -> dict[str, Any]:
    """The item exactly as a phone sends it: answers as ``{"item", "value", "note"}``."""
    answers = [
        {"item": code, "value": value, "note": note} for code, value, note in item["answers"]
    ]
    return {**item, "answers": answers}


def _delay(rng: Random) -> timedelta:
    """How long after the meeting the phone got it through: mostly minutes, sometimes days."""
    r = rng.random()
    if r < 0.7:
        return timedelta(minutes=rng.randint(1, 20))
    if r < 0.95:
        return timedelta(hours=rng.randint(1, 14))
    return timedelta(days=rng.randint(1, 3))  # a phone offline for days


def _sync_slot(ctx: Ctx, received_at: datetime) -> date:
    """The day (recent weeks) or the month (older history) of the sync that delivers it."""
    day = received_at.astimezone(VN).date()
    if (ctx.today - day).days <= DAILY_DAYS:
        return day
    return day.replace(day=1)


def _submit(ctx: Ctx, sent: list[_Sent]) -> int:
    """Store every item with the service, a cadre's sync at a time, oldest sync first.

    Each batch is stored as received at its last item's delivery: ``received_at``
    is the schema's "now" and the stored receipt time, so a meeting of three years
    ago is as valid as it was then.
    """
    users = {user.id: user for user, _weight, _commune in ctx.cadres}
    syncs: dict[tuple[int, date], list[_Sent]] = {}
    for s in sorted(sent, key=lambda s: s.received_at):
        syncs.setdefault((s.cadre_id, _sync_slot(ctx, s.received_at)), []).append(s)
    batches = [
        group[i : i + BATCH] for group in syncs.values() for i in range(0, len(group), BATCH)
    ]
    batches.sort(key=lambda batch: batch[-1].received_at)
    total, shown = 0, 0
    for batch in batches:
        user: User = users[batch[0].cadre_id]
        received_at = batch[-1].received_at
        results = submit_batch(
            [_as_sent(s.item) for s in batch],
            user,
            device_id=f"demo-{user.username}",
            received_at=received_at,
        )
        for s, result in zip(batch, results, strict=True):
            # An item the service refuses is a bug in the demo: stop, loudly.
            if result.status != CREATED:
                raise RuntimeError(
                    f"demo evaluation {result.uuid}: {result.status} {result.errors}"
                )
            s.record.id = result.id or 0
            s.record.received_at = received_at
        total += len(batch)
        if total - shown >= 10_000:
            ctx.progress(f"  evaluations: {total:,}")
            shown = total
    ctx.progress(f"  evaluations: {total:,} in {len(batches):,} syncs")
    return total


def _count_states(ctx: Ctx, overdue_days: int) -> None:
    """Count the branches by the state judging stored (overdue as of the demo's today)."""
    first = {plan.unit.id for plan in ctx.branches if plan.commune == 0}
    rows = db.session.scalars(
        sa.select(BranchStatus).where(BranchStatus.branch_id.in_([p.unit.id for p in ctx.branches]))
    )
    for row in rows:
        shown = flags.effective_state(row, ctx.today, overdue_days)[0]
        ctx.states[shown] += 1
        if row.branch_id in first:
            ctx.first_states[shown] += 1
