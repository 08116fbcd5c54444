"""Good practices: some of the evaluations' recommended practices recorded, two seen on
visits, most of them spread to the province (issue 19, item 4); the demo secretary has
opened one, so both new and read ones show."""

from __future__ import annotations

from datetime import timedelta
from random import Random

import sqlalchemy as sa

from coso.demo.world import Ctx, local_time
from coso.evaluations.queries import not_superseded
from coso.extensions import db
from coso.models import Evaluation, Practice, PracticeRead, Unit
from coso.practices.rules import EVALUATION, VISIT, title_from

#: Practices seen on visits (not in an evaluation), each written once.
SEEN_ON_VISITS = (
    (
        "Mô hình “Tủ sách thanh niên” tại nhà văn hoá ấp",
        "Chi đoàn vận động đoàn viên góp sách, đặt tủ tại nhà văn hoá; mỗi tháng một buổi "
        "đọc và giới thiệu sách trước giờ sinh hoạt. Sổ mượn sách do phó bí thư giữ.",
    ),
    (
        "Công trình thanh niên “Thắp sáng đường quê”",
        "Đoàn viên góp ngày công và vận động các hộ dân lắp đèn năng lượng mặt trời trên "
        "tuyến đường liên ấp; chi đoàn nhận bảo quản, kiểm tra mỗi tháng.",
    ),
)


def build_practices(ctx: Ctx) -> None:
    """Record a few practices and spread most of them to the province."""
    assert ctx.province is not None
    rng = Random(ctx.today.toordinal())  # its own draws: the rest of the demo is unchanged
    province = ctx.users["province"]
    recommended = db.session.scalars(
        sa.select(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(
            ctx.province.subtree_clause(),  # a national demo holds other provinces' too
            Evaluation.recommend_practice.is_(True),
            Evaluation.good_practice.is_not(None),
            not_superseded(),
        )
        .order_by(Evaluation.meeting_date.desc(), Evaluation.id.desc())
        .limit(5)
    ).all()
    practices: list[Practice] = []
    for evaluation in recommended:
        text = (evaluation.good_practice or "").strip()
        practices.append(
            Practice(
                unit_id=evaluation.branch_id,
                source=EVALUATION,
                evaluation_id=evaluation.id,
                title=title_from(text),
                description=text,
                created_by_id=province.id,
                created_at=local_time(evaluation.meeting_date + timedelta(days=3), 9, 0),
            )
        )
    for title, text in SEEN_ON_VISITS:
        plan = rng.choice(ctx.branches)
        practices.append(
            Practice(
                unit_id=plan.unit.id,
                source=VISIT,
                title=title,
                description=text,
                created_by_id=province.id,
                created_at=local_time(ctx.today - timedelta(days=rng.randint(10, 40)), 9, 0),
            )
        )
    for index, practice in enumerate(practices):
        if index % 3 != 2:  # one in three stays recorded only, for the editor to decide
            practice.spread_unit_id = ctx.province.id
            practice.spread_by_id = province.id
            practice.spread_at = practice.created_at + timedelta(days=1)
    db.session.add_all(practices)
    db.session.flush()
    spread = [p for p in practices if p.spread_at is not None]
    if spread and "secretary" in ctx.users:
        db.session.add(PracticeRead(practice_id=spread[-1].id, user_id=ctx.users["secretary"].id))
    ctx.counts.update(practices=len(practices), practices_spread=len(spread))
    ctx.progress(f"Good practices: {len(practices)} recorded, {len(spread)} spread.")
