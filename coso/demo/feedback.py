"""What branches answer to their evaluations: acknowledgements, replies and corrective
actions, in every commune.

Most branches keep up: every evaluation acknowledged by their commune's secretary, the
weak ones answered and given corrective actions that mostly get done. A realistic
minority is behind, with one to three of their latest evaluations still waiting (so
of any age), and a few more have not yet seen one that came in the last days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from coso.demo.meetings import CRITICAL_CHOICES
from coso.demo.texts import ACTIONS
from coso.demo.world import Ctx, EvalRecord, insert_rows, local_time
from coso.models import CorrectiveAction, Feedback, User

#: Share of branches behind with their acknowledgements (one to three latest waiting).
BEHIND = 0.1
#: Chance that a branch has not yet seen an evaluation received in the last ``FRESH`` days.
NOT_YET_SEEN = 0.5
FRESH = timedelta(days=4)
#: Corrective actions are planted on evaluations up to this many days old.
ACTION_DAYS = 180


def _next_month(day: date) -> int:
    return day.month % 12 + 1


def build_responses(ctx: Ctx) -> None:
    """Acknowledgements, replies and corrective actions of every branch.

    The demo secretary's branch is left with its latest evaluation unacknowledged,
    a cadre's proposed action, an overdue open action, one still in time and a
    declined proposal; the other branches get a realistic mix.
    """
    rng, today, phrases = ctx.rng, ctx.today, ctx.phrases
    secretary = ctx.users["secretary"]
    own_branch = secretary.unit_id
    plans = {plan.unit.id: plan for plan in ctx.branches}
    feedback: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []

    def action(rec: EvalRecord, responder: User, code: str | None, **values: Any) -> None:
        unit = plans[rec.branch_id].unit
        created = min(rec.received_at + timedelta(days=2), ctx.now)
        row = {
            "branch_id": rec.branch_id,
            "evaluation_id": rec.id,
            "item_code": code,
            "description": ACTIONS.get(code or "", "Khắc phục các nội dung chưa đạt"),
            "owner": unit.secretary_name or "Bí thư chi đoàn",
            "due_date": rec.meeting_date + timedelta(days=30),
            "status": "open",
            "created_by_id": responder.id,
            "created_at": created,
            "accepted_by_id": responder.id,
            "accepted_at": created,
            "closed_by_id": None,
            "closed_at": None,
            "close_note": None,
        }
        row.update(values)
        actions.append(row)

    def proposal(rec: EvalRecord, code: str | None, **values: Any) -> None:
        """A cadre's proposal, still waiting for the secretaries or as they left it."""
        created = min(rec.received_at + timedelta(hours=1), ctx.now)
        fields = {"status": "proposed", "accepted_by_id": None, "accepted_at": None}
        action(rec, secretary, code, created_by_id=rec.cadre_id, created_at=created, **fields)
        actions[-1].update(values)

    for branch_id, records in ctx.records.items():
        plan = plans[branch_id]
        own = branch_id == own_branch
        responder = secretary if own else ctx.acknowledgers[plan.commune]
        waiting = 0  # how many of the latest evaluations nobody has acknowledged
        if own:
            waiting = 1
        elif rng.random() < BEHIND:
            waiting = rng.choice((1, 1, 2, 3))
        elif records and ctx.now - records[-1].received_at < FRESH:
            waiting = int(rng.random() < NOT_YET_SEEN)
        for position, rec in enumerate(records):
            age = (today - rec.meeting_date).days
            critical_first = sorted(rec.failed, key=lambda c: c not in CRITICAL_CHOICES)
            codes = critical_first[:2] or [None]
            if position >= len(records) - waiting:
                # Waiting for the secretaries; a cadre may have proposed an action already.
                if not rec.compliant and (own or rng.random() < 0.4):
                    proposal(rec, codes[0])
                continue
            acknowledged = min(rec.received_at + timedelta(hours=rng.randint(2, 96)), ctx.now)
            reply = replied = read = None
            if rng.random() < (0.75 if not rec.compliant else 0.1):
                reply = phrases.reply(rec.compliant, rec.meeting_date + timedelta(days=30))
            if reply:
                replied = min(acknowledged + timedelta(minutes=rng.randint(5, 1440)), ctx.now)
                if rng.random() < (0.9 if age > 7 else 0.4):
                    read = min(replied + timedelta(hours=rng.randint(1, 48)), ctx.now)
            feedback.append(
                {
                    "evaluation_id": rec.id,
                    "user_id": responder.id,
                    "acknowledged_at": acknowledged,
                    "reply": reply,
                    "replied_at": replied,
                    "reply_read_at": read,
                }
            )
            if rec.compliant or age > ACTION_DAYS:
                continue
            if own and position == len(records) - 2:
                # One overdue, one still in time, one declined: all on the secretary's page.
                overdue = today - timedelta(days=rng.randint(3, 12))
                in_time = today + timedelta(days=rng.randint(5, 20))
                action(rec, responder, codes[0], due_date=overdue)
                action(rec, responder, codes[1] if len(codes) > 1 else "P4", due_date=in_time)
                proposal(
                    rec,
                    "C5",
                    status="declined",
                    closed_by_id=responder.id,
                    closed_at=acknowledged,
                    close_note=phrases.decline_note(),
                )
                continue
            for code in codes if rng.random() < 0.4 else codes[:1]:
                if rng.random() < 0.1:
                    proposal(
                        rec,
                        code,
                        status="declined",
                        closed_by_id=responder.id,
                        closed_at=acknowledged,
                        close_note=phrases.decline_note(),
                    )
                    continue
                # Proposed by the cadre and accepted, or set by the secretaries themselves.
                author = rec.cadre_id if rng.random() < 0.3 else responder.id
                due = rec.meeting_date + timedelta(days=30)
                late = (today - due).days
                done_chance = 0.97 if late > 45 else 0.75 if late > 0 else 0.25
                if rng.random() < done_chance:
                    closed = local_time(due - timedelta(days=rng.randint(0, 20)), 20, 0)
                    closed = min(max(closed, rec.received_at + timedelta(days=3)), ctx.now)
                    action(
                        rec,
                        responder,
                        code,
                        created_by_id=author,
                        status="done",
                        closed_by_id=responder.id,
                        closed_at=closed,
                        close_note=phrases.close_note(_next_month(rec.meeting_date), rec.present),
                    )
                else:
                    action(rec, responder, code, created_by_id=author)
    if feedback:
        insert_rows(Feedback, feedback)
    if actions:
        insert_rows(CorrectiveAction, actions)
    ctx.counts.update(feedback=len(feedback), actions=len(actions))
    ctx.progress(f"Feedback: {len(feedback):,}; corrective actions: {len(actions):,}.")
