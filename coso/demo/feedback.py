"""What branches answer to their evaluations in the first commune: acknowledgements,
replies and corrective actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from coso.demo.meetings import CRITICAL_CHOICES
from coso.demo.texts import ACTIONS, CLOSE_NOTES, REPLIES
from coso.demo.world import Ctx, EvalRecord, insert_rows, local_time
from coso.models import CorrectiveAction, Feedback, User


def build_responses(ctx: Ctx) -> None:
    """Acknowledgements, replies and corrective actions in the first commune.

    The demo secretary's branch is left with its latest evaluation unacknowledged,
    a cadre's proposed action, an overdue open action and one still in time; the
    commune's other branches get a realistic mix.
    """
    rng, today = ctx.rng, ctx.today
    secretary, commune_user = ctx.users["secretary"], ctx.users["commune"]
    own_branch = secretary.unit_id
    units = {plan.unit.id: plan.unit for plan in ctx.branches if plan.commune == 0}
    feedback: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []

    def action(rec: EvalRecord, responder: User, code: str | None, **values: Any) -> None:
        unit = units[rec.branch_id]
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

    for branch_id, records in ctx.records.items():
        responder = secretary if branch_id == own_branch else commune_user
        for position, rec in enumerate(records):
            age = (today - rec.meeting_date).days
            latest = position == len(records) - 1
            if age > 180:
                continue
            if branch_id == own_branch and latest:
                # Waiting for the secretary: unacknowledged, with a cadre's proposal.
                action(
                    rec,
                    responder,
                    rec.failed[0] if rec.failed else None,
                    status="proposed",
                    created_by_id=rec.cadre_id,
                    created_at=min(rec.received_at + timedelta(hours=1), ctx.now),
                    accepted_by_id=None,
                    accepted_at=None,
                )
                continue
            must_answer = branch_id == own_branch and position == len(records) - 2
            if not must_answer and rng.random() > (0.85 if age > 14 else 0.5):
                continue
            acknowledged = min(rec.received_at + timedelta(hours=rng.randint(2, 96)), ctx.now)
            reply = replied = read = None
            if not rec.compliant and rng.random() < 0.8:
                reply = rng.choice(REPLIES)
            elif rec.compliant and rng.random() < 0.15:
                reply = "Cảm ơn anh/chị đã dự; chi đoàn sẽ tiếp tục phát huy."
            if reply:
                replied = min(acknowledged + timedelta(minutes=rng.randint(5, 1440)), ctx.now)
                if rng.random() < 0.5:
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
            if rec.compliant:
                continue
            critical_first = sorted(rec.failed, key=lambda c: c not in CRITICAL_CHOICES)
            codes = critical_first[:2] or [None]
            if must_answer:
                # One overdue, one still in time: both show on the secretary's page.
                overdue = today - timedelta(days=rng.randint(3, 12))
                in_time = today + timedelta(days=rng.randint(5, 20))
                action(rec, responder, codes[0], due_date=overdue)
                action(rec, responder, codes[1] if len(codes) > 1 else "P4", due_date=in_time)
                continue
            for code in codes:
                due = rec.meeting_date + timedelta(days=30)
                if due < today and rng.random() < 0.6:
                    closed = min(
                        local_time(due - timedelta(days=rng.randint(0, 10)), 20, 0), ctx.now
                    )
                    action(
                        rec,
                        responder,
                        code,
                        status="done",
                        closed_by_id=responder.id,
                        closed_at=max(closed, rec.received_at + timedelta(days=3)),
                        close_note=rng.choice(CLOSE_NOTES),
                    )
                else:
                    action(rec, responder, code)
    if feedback:
        insert_rows(Feedback, feedback)
    if actions:
        insert_rows(CorrectiveAction, actions)
    ctx.counts.update(feedback=len(feedback), actions=len(actions))
    ctx.progress(f"Feedback: {len(feedback)}; corrective actions: {len(actions)}.")
