"""Difficulties and proposals in every state (issue 19, item 1): closed with what was done,
answered, open with an owner and a due date (one of them overdue, beside its branch's flag),
open and waiting for a first answer, and passed up to the province. The demo secretary's
branch has one answered and closed and one still open; the demo commune secretary's inbox and
the province's hold some, so every page of the loop shows something true-to-life."""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

from coso.demo.world import BranchPlan, Ctx, local_time
from coso.difficulties import rules
from coso.extensions import db
from coso.models import Difficulty, DifficultyPass, User

#: (category, what was raised, the answer, what was done) — the answer and the resolution
#: are used only as far as the difficulty's state goes.
CASES: tuple[tuple[str, str, str, str], ...] = (
    (
        "venue",
        "Chi đoàn chưa có chỗ sinh hoạt cố định; mùa mưa phải hoãn họp vì nhà văn hoá ấp dột.",
        "Đoàn xã đề nghị UBND xã cho chi đoàn dùng hội trường ấp mỗi tối thứ Bảy.",
        "Hội trường ấp đã được giao cho chi đoàn sinh hoạt hằng tháng.",
    ),
    (
        "funds",
        "Không có kinh phí in tài liệu học tập chuyên đề cho đoàn viên.",
        "Đoàn xã hỗ trợ in 30 bộ tài liệu từ nguồn kinh phí quý.",
        "Đã chuyển 30 bộ tài liệu cho chi đoàn.",
    ),
    (
        "members_away",
        "Hơn một nửa đoàn viên đi làm ăn xa, sinh hoạt thường không đủ số lượng.",
        "Chi đoàn lập nhóm Zalo để đoàn viên ở xa theo dõi và góp ý nội dung sinh hoạt.",
        "Nhóm Zalo đã lập; đoàn viên ở xa gửi ý kiến trước mỗi buổi sinh hoạt.",
    ),
    (
        "secretary_capacity",
        "Bí thư chi đoàn mới, chưa nắm cách ghi biên bản và xây dựng nội dung sinh hoạt.",
        "Đoàn xã cử cán bộ dự và hướng dẫn bí thư trong hai buổi sinh hoạt tới.",
        "Bí thư đã tự chủ trì và ghi biên bản đúng mẫu.",
    ),
    (
        "guidance_unclear",
        "Hướng dẫn sinh hoạt chủ điểm tháng chưa rõ phần liên hệ thực tế ở nông thôn.",
        "Tỉnh đoàn bổ sung gợi ý nội dung liên hệ cho chi đoàn nông thôn.",
        "Đã gửi gợi ý bổ sung cho các chi đoàn.",
    ),
    (
        "other",
        "Đề nghị tổ chức giao lưu giữa các chi đoàn ấp để học cách làm hay.",
        "Đoàn xã đưa giao lưu vào chương trình tháng Thanh niên.",
        "Giao lưu đã tổ chức với 6 chi đoàn tham gia.",
    ),
)

#: The states of the demo's difficulties, in the order they are made (each branch its turn).
PLAN = ("closed", "closed", "answered", "owned", "open", "passed", "closed", "overdue", "open")


def build_difficulties(ctx: Ctx) -> None:
    """Raise difficulties across the province, in every state, and the demo users' own."""
    assert ctx.province is not None
    # Its own draws (the rest of the demo is unchanged), another series for each further
    # province of a national demo (their UUIDs must differ).
    rng = Random(ctx.today.toordinal() + 19 + (ctx.province.id if ctx.user_prefix else 0))
    count = max(len(PLAN), min(36, len(ctx.branches) // 4))
    # The demo secretary's branch first (its secretary raised them), then branches of every
    # commune in turn, the first commune's among them.
    others = rng.sample(ctx.branches[1:], min(count, len(ctx.branches) - 1))
    order = [ctx.branches[0], ctx.branches[0], *others]
    made = passed = 0
    for index in range(count):
        plan = order[index] if index < len(order) else rng.choice(others or order)
        state = ("closed", "open")[index] if index < 2 else PLAN[index % len(PLAN)]
        raiser = ctx.users["secretary"] if plan is ctx.branches[0] else _cadre(ctx, rng)
        difficulty, up = _difficulty(ctx, rng, plan, state, raiser, index)
        db.session.add(difficulty)
        db.session.flush()
        if up is not None:
            db.session.add(up)
            up.difficulty_id = difficulty.id
            passed += 1
        made += 1
    db.session.flush()
    ctx.counts.update(difficulties=made)
    ctx.progress(f"Difficulties: {made} raised, {passed} passed up to the province.")


def _cadre(ctx: Ctx, rng: Random) -> User:
    return rng.choice(ctx.cadres)[0]


def _difficulty(
    ctx: Ctx, rng: Random, plan: BranchPlan, state: str, raiser: User, index: int
) -> tuple[Difficulty, DifficultyPass | None]:
    assert ctx.province is not None
    category, text, answer, done = CASES[index % len(CASES)]
    commune = ctx.communes[plan.commune]
    handler = ctx.acknowledgers.get(plan.commune) or ctx.users["province"]
    province_user = ctx.users["province"]
    age = {"closed": (45, 150), "open": (1, 20), "passed": (8, 30)}.get(state, (12, 45))
    raised_day = ctx.today - timedelta(days=rng.randint(*age))
    raised = local_time(raised_day, rng.randint(7, 20), rng.choice((0, 15, 30, 45)))
    difficulty = Difficulty(
        uuid=_uuid(rng),
        category=category,
        unit_id=plan.unit.id,
        text=text,
        raised_by_id=raiser.id,
        raised_at=raised,
        routed_to_id=commune.id,
        state=rules.OPEN,
    )
    up = None
    if state == "passed":  # the commune could not solve it: the province's inbox holds it
        moved = _after(raised, rng.randint(1, 4), ctx)
        difficulty.routed_to_id = ctx.province.id
        up = DifficultyPass(
            from_unit_id=commune.id,
            to_unit_id=ctx.province.id,
            passed_by_id=handler.id,
            passed_at=moved,
            note="Vượt khả năng giải quyết của Đoàn xã, đề nghị Tỉnh đoàn hỗ trợ.",
        )
    if state in ("answered", "owned", "overdue", "closed"):
        difficulty.state = rules.ANSWERED
        difficulty.answer = answer
        difficulty.answered_by_id = handler.id
        difficulty.answered_at = _after(raised, rng.randint(1, 9), ctx)
    if state in ("owned", "overdue"):
        # The owner is a user of the receiving level: the commune's secretary when it has one.
        difficulty.owner_id = handler.id if handler.unit_id == commune.id else None
        difficulty.due = (
            ctx.today - timedelta(days=rng.randint(2, 9))
            if state == "overdue"
            else ctx.today + timedelta(days=rng.randint(5, 20))
        )
    if state == "closed":
        difficulty.state = rules.CLOSED
        difficulty.resolution = done
        difficulty.closed_by_id = (handler if rng.random() < 0.8 else province_user).id
        assert difficulty.answered_at is not None
        difficulty.closed_at = _after(difficulty.answered_at, rng.randint(2, 30), ctx)
    return difficulty, up


def _after(moment: datetime, days: int, ctx: Ctx) -> datetime:
    """``days`` after ``moment``, never after the demo's now."""
    return min(moment + timedelta(days=days), ctx.now)


def _uuid(rng: Random) -> str:
    digits = f"{rng.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"
