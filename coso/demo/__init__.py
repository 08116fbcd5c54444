"""A realistic demo province, so every screen has something true-to-life to show.

``seed`` builds a province union, its commune and ward unions and their
branches, the default checklist, four months of guidance, the demo users, and
months of scored evaluations with their branch states, visits, feedback and
corrective actions. Every state of domain.md (ok, flagged, repeat, overdue,
never) is planted on purpose, in the first commune as well as overall.

It must also load a whole province's history for benchmarks (3,000 branches x
50 months, about 150,000 evaluations and 3 million answers), so the bulk rows
are built as dicts and inserted in chunks, with primary keys assigned here so
answers and visits can point at evaluations without a round trip. Scoring and
flag rules are never re-implemented: every outcome comes from
``coso.judging.scoring`` and every branch state from ``coso.judging.flags``.
"""

from __future__ import annotations

import hashlib
import math
import time as clock
import unicodedata
import uuid
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import accumulate
from random import Random
from typing import Any

import sqlalchemy as sa

from coso.checklists.service import create_default_template
from coso.extensions import Base, db
from coso.judging import flags, scoring
from coso.judging.queries import settings_for_path
from coso.models import (
    BranchStatus,
    CorrectiveAction,
    Evaluation,
    EvaluationAnswer,
    Feedback,
    Guidance,
    GuidanceTopic,
    SecretaryTerm,
    Unit,
    User,
    Visit,
)
from coso.models.units import place
from coso.models.users import ADMIN, CADRE, PROVINCE, SECRETARY

DEMO_USERS = ("admin", "province", "cadre", "commune", "secretary")
DEMO_PASSWORD = "coso-demo"

#: Vietnam's clock (UTC+7, no daylight saving): meetings happen in local time.
VN = timezone(timedelta(hours=7), "ICT")

PROVINCE_NAME, PROVINCE_CODE = "Tỉnh đoàn Đồng Nai", "DN"

# Rows per bulk INSERT chunk (answers are the big table: 21 per evaluation).
_CHUNK_ANSWERS = 60_000

# --------------------------------------------------------------------------- names

_PLACE_FIRST = (
    "Tân", "Phú", "Long", "Bình", "An", "Xuân", "Phước", "Thạnh", "Hòa", "Vĩnh",
    "Đông", "Bảo", "Gia", "Thanh", "Hưng", "Trung", "Quang", "Thái", "Minh", "Nhơn",
)  # fmt: skip
_PLACE_SECOND = (
    "Hòa", "Mai", "Bình", "Hiệp", "Phú", "Lộc", "Thành", "An", "Hưng", "Tân", "Vinh",
    "Thịnh", "Trung", "Lợi", "Phước", "Sơn", "Đông", "Hải", "Định", "Quang", "Nghĩa",
    "Thọ", "Khánh", "Cường",
)  # fmt: skip
_FAMILY = (
    "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh",
    "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
)  # fmt: skip
_MIDDLE_M = ("Văn", "Minh", "Quốc", "Đức", "Hữu", "Thanh", "Hoàng", "Gia", "Công", "Tấn")
_MIDDLE_F = ("Thị", "Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ", "Bảo", "Phương", "Hồng")
_GIVEN_M = (
    "An", "Bình", "Dũng", "Duy", "Hải", "Hiếu", "Hùng", "Huy", "Khang", "Khoa", "Long",
    "Nam", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thịnh", "Trí", "Tuấn", "Việt", "Vinh",
)  # fmt: skip
_GIVEN_F = (
    "Anh", "Châu", "Giang", "Hà", "Hạnh", "Hương", "Khánh", "Linh", "Mai", "Ngân", "Nhung",
    "Phương", "Quyên", "Tâm", "Thảo", "Trang", "Trinh", "Uyên", "Vy", "Yến", "Loan", "Oanh",
)  # fmt: skip

# Display names of the demo users (the two secretaries take their unit's secretary).
_DEMO_NAMES = {
    "admin": "Trần Minh Khoa",
    "province": "Nguyễn Thị Thu Hà",
    "cadre": "Lê Hoàng Nam",
}

# ------------------------------------------------------------------------ guidance

#: Month -> (the month's theme, topics that fit it): the province's usual calendar.
MONTHLY_GUIDANCE: dict[int, tuple[str, tuple[str, ...]]] = {
    1: (
        "Mừng Đảng, mừng Xuân — Xuân tình nguyện",
        (
            "Ngày truyền thống Học sinh, sinh viên 9/1",
            "Chuẩn bị kỷ niệm ngày thành lập Đảng Cộng sản Việt Nam 3/2",
            "Chiến dịch Xuân tình nguyện",
            "Tết an toàn, tiết kiệm; an toàn giao thông dịp Tết",
            "Chăm lo Tết cho đoàn viên, thanh niên khó khăn",
        ),
    ),
    2: (
        "Mừng Đảng quang vinh — Tết trồng cây",
        (
            "Kỷ niệm ngày thành lập Đảng Cộng sản Việt Nam 3/2",
            "Tết trồng cây đời đời nhớ ơn Bác Hồ",
            "Ngày Thầy thuốc Việt Nam 27/2",
            "Chuẩn bị Tháng Thanh niên",
            "Phòng, chống cháy nổ mùa khô",
        ),
    ),
    3: (
        "Tháng Thanh niên",
        (
            "Kỷ niệm 26/3 — ngày thành lập Đoàn",
            "Tháng Thanh niên: ngày Chủ nhật xanh",
            "Ngày Quốc tế Phụ nữ 8/3",
            "Ngày Thể thao Việt Nam 27/3",
            "Kết nạp đoàn viên mới",
        ),
    ),
    4: (
        "Non sông liền một dải",
        (
            "Kỷ niệm 30/4 — Giải phóng miền Nam, thống nhất đất nước",
            "Giỗ Tổ Hùng Vương 10/3 âm lịch",
            "Ngày Sách và Văn hóa đọc Việt Nam 21/4",
            "Ngày Quốc tế Lao động 1/5",
            "Tháng hành động về an toàn, vệ sinh lao động",
        ),
    ),
    5: (
        "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
        (
            "Kỷ niệm ngày sinh Chủ tịch Hồ Chí Minh 19/5",
            "Chiến thắng Điện Biên Phủ 7/5",
            "Ngày thành lập Đội TNTP Hồ Chí Minh 15/5",
            "Chuẩn bị Chiến dịch Thanh niên tình nguyện hè",
            "Tư vấn hướng nghiệp, việc làm cho thanh niên",
        ),
    ),
    6: (
        "Tuổi trẻ tình nguyện vì cộng đồng",
        (
            "Ra quân Chiến dịch Thanh niên tình nguyện hè",
            "Ngày Gia đình Việt Nam 28/6",
            "Ngày Báo chí cách mạng Việt Nam 21/6",
            "Ngày Môi trường thế giới 5/6",
            "Tháng hành động vì trẻ em; phòng, chống đuối nước",
        ),
    ),
    7: (
        "Uống nước nhớ nguồn",
        (
            "Kỷ niệm 27/7 — ngày Thương binh, Liệt sĩ",
            "Hoạt động đền ơn đáp nghĩa, thắp nến tri ân",
            "Phòng, chống đuối nước trẻ em mùa hè",
            "Ngày Dân số thế giới 11/7",
            "Tiếp sức mùa thi",
        ),
    ),
    8: (
        "Tự hào truyền thống Cách mạng Tháng Tám",
        (
            "Kỷ niệm Cách mạng Tháng Tám 19/8",
            "Ngày truyền thống Công an nhân dân 19/8",
            "Chuẩn bị mừng Quốc khánh 2/9",
            "Tổng kết Chiến dịch Thanh niên tình nguyện hè",
            "Phòng, chống ma túy trong thanh thiếu niên",
        ),
    ),
    9: (
        "Tự hào Việt Nam",
        (
            "Kỷ niệm Quốc khánh 2/9",
            "Tưởng niệm ngày mất Chủ tịch Hồ Chí Minh 2/9",
            "Tết Trung thu cho thiếu nhi",
            "Ngày hội đến trường, hỗ trợ học sinh khó khăn",
            "Phòng, chống thiên tai mùa mưa bão",
        ),
    ),
    10: (
        "Tuổi trẻ xung kích chuyển đổi số",
        (
            "Ngày truyền thống Hội Liên hiệp Thanh niên Việt Nam 15/10",
            "Ngày Phụ nữ Việt Nam 20/10",
            "Ngày Chuyển đổi số quốc gia 10/10",
            "Ngày Doanh nhân Việt Nam 13/10",
            "Ngày Giải phóng Thủ đô 10/10",
        ),
    ),
    11: (
        "Tôn sư trọng đạo",
        (
            "Ngày Pháp luật Việt Nam 9/11",
            "Ngày Nhà giáo Việt Nam 20/11",
            "Ngày truyền thống Mặt trận Tổ quốc 18/11",
            "Ngày hội Đại đoàn kết toàn dân tộc",
            "Phòng, chống bạo lực học đường",
        ),
    ),
    12: (
        "Tuổi trẻ với sự nghiệp bảo vệ Tổ quốc",
        (
            "Kỷ niệm ngày thành lập Quân đội nhân dân Việt Nam 22/12",
            "Ngày Toàn quốc kháng chiến 19/12",
            "Ngày Thế giới phòng, chống AIDS 1/12",
            "Chuẩn bị Chiến dịch Xuân tình nguyện",
            "Tổng kết công tác Đoàn và phong trào thanh niên năm",
        ),
    ),
}

# ---------------------------------------------------------------- free-text pieces

_NOTES_GOOD = (
    "Buổi sinh hoạt sôi nổi, nhiều đoàn viên phát biểu.",
    "Chi đoàn chuẩn bị chu đáo, có trình chiếu tài liệu sinh hoạt.",
    "Bí thư điều hành tốt, phân công nhiệm vụ rõ ràng.",
    "Đoàn viên tham gia đông đủ, đúng giờ.",
    "Có mời đại diện chi bộ ấp dự và phát biểu.",
)
_NOTES_WEAK = (
    "Chưa chuẩn bị sổ biên bản; đề nghị chi đoàn bổ sung.",
    "Nội dung chủ yếu đọc lại văn bản, ít thảo luận.",
    "Đoàn viên vắng nhiều do đi làm ca; cần chọn giờ phù hợp hơn.",
    "Chưa triển khai nội dung chủ điểm tháng theo hướng dẫn.",
    "Bắt đầu trễ gần 40 phút, thời gian sinh hoạt bị rút ngắn.",
    "Chưa đánh giá việc thực hiện nghị quyết tháng trước.",
)
_GOOD_PRACTICES = (
    "Tổ chức hái hoa dân chủ về lịch sử Đoàn, đoàn viên hưởng ứng sôi nổi.",
    "Mời cựu chiến binh của ấp kể chuyện truyền thống trước phần sinh hoạt.",
    "Sinh hoạt kết hợp ra quân dọn vệ sinh, trồng cây trên tuyến đường thanh niên.",
    "Gửi tài liệu sinh hoạt qua nhóm Zalo trước ba ngày để đoàn viên đọc trước.",
    "Đoàn viên thay phiên làm chủ tọa và thư ký, ai cũng được rèn luyện.",
    "Xem video ngắn về chủ điểm tháng rồi chia nhóm thảo luận.",
    "Tổ chức sinh hoạt trực tuyến cho đoàn viên đi làm xa, điểm danh qua biểu mẫu.",
)
_ITEM_NOTES: dict[str, tuple[str, ...]] = {
    "P1": ("Đổi địa điểm sát giờ, nhiều đoàn viên không biết.",),
    "P2": ("Bí thư vắng, không phân công người chủ trì.",),
    "P3": ("Không điểm danh, không công bố số vắng.",),
    "P6": ("Chưa đánh giá kết quả tháng trước.",),
    "P7": ("Có triển khai nhưng chưa phân công người phụ trách.",),
    "P8": ("Chỉ 1–2 ý kiến, chủ yếu của bí thư.",),
    "P9": ("Không biểu quyết thông qua nghị quyết.",),
    "P10": ("Không có sổ biên bản.", "Biên bản ghi sơ sài, chưa ký."),
    "C1": ("Chưa triển khai chủ điểm tháng.", "Chỉ nhắc qua chủ điểm tháng."),
    "C2": ("Chưa có nội dung học tập và làm theo Bác.",),
    "C4": ("Chưa cụ thể hóa chỉ tiêu cho chi đoàn.",),
    "C5": ("Hình thức đơn điệu, chỉ đọc văn bản.",),
    "C8": ("Lan man, nhiều nội dung ngoài trọng tâm.",),
    "C9": ("Không dùng tài liệu sinh hoạt của Tỉnh đoàn.",),
}
_ACTIONS: dict[str, str] = {
    "P1": "Thông báo thời gian, địa điểm trước ít nhất 3 ngày và tổ chức đúng như thông báo",
    "P2": "Phân công ủy viên Ban Chấp hành chủ trì khi bí thư vắng",
    "P4": "Nhắn lịch sinh hoạt qua nhóm Zalo trước 3 ngày, vận động đoàn viên tham dự",
    "P6": "Đánh giá việc thực hiện nghị quyết kỳ trước ở đầu mỗi buổi sinh hoạt",
    "P7": "Lập bảng phân công nhiệm vụ tháng có người phụ trách từng việc",
    "P8": "Chuẩn bị câu hỏi gợi ý để đoàn viên thảo luận",
    "P9": "Biểu quyết thông qua nghị quyết trước khi kết thúc buổi sinh hoạt",
    "P10": "Lập sổ biên bản, ghi và thông qua biên bản ngay tại buổi sinh hoạt",
    "C1": "Bổ sung nội dung chủ điểm tháng theo hướng dẫn của Tỉnh đoàn ở buổi sinh hoạt tới",
    "C2": "Đưa nội dung học tập và làm theo Bác vào chương trình sinh hoạt",
    "C4": "Cụ thể hóa chỉ tiêu của Đoàn xã thành việc làm của chi đoàn",
    "C5": "Đổi mới hình thức: hái hoa dân chủ, xem video, chia nhóm thảo luận",
    "C8": "Chuẩn bị nội dung bám sát tài liệu sinh hoạt, tránh lan man",
}
_REPLIES = (
    "Chi đoàn đã tiếp thu, sẽ khắc phục trong buổi sinh hoạt tháng tới.",
    "Cảm ơn anh/chị đã dự và góp ý. Ban Chấp hành chi đoàn đã họp, phân công khắc phục.",
    "Chi đoàn xin giải trình: tháng này đoàn viên đi làm ca nhiều nên vắng đông.",
    "Đã bổ sung sổ biên bản; kính mời anh/chị dự buổi sinh hoạt tới.",
)
_CLOSE_NOTES = (
    "Đã thực hiện trong buổi sinh hoạt tháng sau.",
    "Đã mua sổ biên bản mới, biên bản có chữ ký đầy đủ.",
    "Đã phân công phó bí thư phụ trách.",
)
_VISIT_REPORTS = {
    "inspection": "Kiểm tra việc thực hiện nghị quyết và sổ sách chi đoàn; "
    "đa số chi đoàn sinh hoạt đều đặn, một số chưa có biên bản đầy đủ.",
    "coorganise": "Phối hợp tổ chức ngày Chủ nhật xanh; 45 đoàn viên tham gia, "
    "thu gom rác 2 km tuyến đường.",
    "field_study": "Học tập thực tế tại cơ sở; nắm tình hình thanh niên đi làm xa, "
    "đề xuất hình thức sinh hoạt trực tuyến.",
    "research": "Khảo sát mô hình sinh hoạt chi đoàn ghép với hoạt động tình nguyện; "
    "đề xuất nhân rộng.",
}
_VISIT_FORMS = (("inspection", 0.4), ("coorganise", 0.3), ("research", 0.15), ("field_study", 0.15))
_MEETING_TYPES = (("regular", 0.55), ("theme", 0.3), ("topic", 0.1), ("extraordinary", 0.05))

# ----------------------------------------------------------------------- answers

# Cumulative (pass, partial, fail) thresholds; what is left over is "na".
_Profile = dict[str, tuple[float, float, float]]
_CRITICAL_CHOICES = ("P10", "C1", "P2", "P1", "C8")
_CRITICAL_WEIGHTS = (0.35, 0.25, 0.15, 0.15, 0.10)


@dataclass
class _BranchPlan:
    """What the demo plans for one branch before any row is written."""

    unit: Unit
    commune: int  # index into the communes
    plan: str  # the state it should end in (flags.OK, FLAGGED, REPEAT, OVERDUE, NEVER)
    quality: float  # chance that a meeting outside the planned tail is compliant
    day: int  # usual day of the month it meets on
    evening: bool  # evening (19:00) or weekend morning (07:30) meetings


@dataclass
class _EvalRecord:
    """What the feedback phase needs to know about one stored evaluation."""

    id: int
    branch_id: int
    cadre_id: int
    meeting_date: date
    received_at: datetime
    compliant: bool
    failed: tuple[str, ...]  # items whose effective value is "fail", template order


@dataclass
class _Ctx:
    """Everything the phases share."""

    rng: Random
    today: date
    now: datetime
    progress: Callable[[str], None]
    province: Unit | None = None
    communes: list[Unit] = field(default_factory=list)
    branches: list[_BranchPlan] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    cadres: list[tuple[User, float, int | None]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    first_states: Counter[str] = field(default_factory=Counter)
    records: dict[int, list[_EvalRecord]] = field(default_factory=dict)


def seed(
    *,
    branches: int = 200,
    months: int = 6,
    communes: int | None = None,
    random_seed: int = 2026,
    wipe: bool = False,
    progress: Callable[[str], None] = lambda m: None,
    today: date | None = None,
) -> str:
    """Load the demo province and return a one-paragraph summary of what was made.

    :param branches: how many branches (at least 5 so every state can be shown).
    :param months: months of evaluation history, back from ``today``.
    :param communes: commune/ward unions (default: one per ten branches).
    :param random_seed: the same seed and ``today`` give the same data.
    :param wipe: delete every row of every table first.
    :param today: the day the demo is "now" (default: the real today).
    """
    if branches < 1 or months < 1:
        raise ValueError("need at least one branch and one month")
    started = clock.monotonic()
    today = today or date.today()
    end_of_today = datetime.combine(today, time(23, 59), tzinfo=VN).astimezone(UTC)
    ctx = _Ctx(
        rng=Random(random_seed),
        today=today,
        now=min(end_of_today, datetime.now(UTC)) if today >= date.today() else end_of_today,
        progress=progress,
    )
    if wipe:
        _wipe()
        progress("Emptied every table.")
    _build_units(ctx, branches, communes)
    _build_users(ctx)
    template = create_default_template(ctx.province)  # type: ignore[arg-type]
    template.created_by_id = ctx.users["province"].id
    guidance = _build_guidance(ctx)
    progress(
        f"Checklist v{template.version} published; guidance for {', '.join(sorted(guidance))}."
    )
    _build_evaluations(ctx, template.items, guidance, months)
    _build_other_visits(ctx, months)
    _build_responses(ctx)
    _sync_sequences((Unit, Evaluation))
    db.session.commit()
    elapsed = clock.monotonic() - started
    progress(f"Committed in {elapsed:.1f} s.")
    return _summary(ctx)


# ------------------------------------------------------------------------- phases


def _wipe() -> None:
    """Delete every row of every table, children first."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.flush()
    db.session.expunge_all()


def _next_id(model: type[Base]) -> int:
    """The first primary key after those already used."""
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _insert(model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert plain rows with one executemany.

    Core, not the ORM bulk path: that one splits a chunk into a statement per
    pattern of None values, which is many times slower here.
    """
    if rows:
        db.session.execute(sa.insert(model.__table__), rows)


def _sync_sequences(models: Sequence[type[Base]]) -> None:
    """Move PostgreSQL's id sequences past the keys assigned here."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        )


def _ascii(text: str) -> str:
    """Vietnamese without its marks ("Đồng Hòa" -> "Dong Hoa"), for codes and usernames."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _person(rng: Random) -> tuple[str, bool]:
    """A Vietnamese full name and whether it is a woman's."""
    female = rng.random() < 0.5
    middle = rng.choice(_MIDDLE_F if female else _MIDDLE_M)
    given = rng.choice(_GIVEN_F if female else _GIVEN_M)
    return f"{rng.choice(_FAMILY)} {middle} {given}", female


def _place_names(rng: Random, n: int) -> list[str]:
    """``n`` distinct place names ("Phú Hòa", "Tân Mai" …)."""
    names = [f"{a} {b}" for a in _PLACE_FIRST for b in _PLACE_SECOND if a != b]
    rng.shuffle(names)
    out = names[:n]
    k = 2
    while len(out) < n:  # more communes than names: number them, as some provinces do
        out.extend(f"{name} {k}" for name in names[: n - len(out)])
        k += 1
    return out


def _sizes(rng: Random, branches: int, communes: int) -> list[int]:
    """Branches per commune: uneven like real communes, the first with room for every state."""
    first_min = min(branches, 6)
    communes = max(1, min(communes, branches - first_min + 1))
    base, extra = divmod(branches, communes)
    sizes = [base + (1 if i < extra else 0) for i in range(communes)]
    for _ in range(communes * 2):  # move a few branches between communes
        i, j = rng.randrange(communes), rng.randrange(communes)
        moved = rng.randint(0, max(0, base // 3))
        if i != j and sizes[j] - moved >= max(1, base // 2):
            sizes[i] += moved
            sizes[j] -= moved
    while sizes[0] < first_min:
        donor = max(range(1, communes), key=lambda k: sizes[k])
        sizes[donor] -= 1
        sizes[0] += 1
    return sizes


def _plans(rng: Random, n: int, first: bool) -> list[str]:
    """The planned state of each branch of a commune.

    The first commune gets every state on purpose (its first branch, the demo
    secretary's, is a repeat flag); elsewhere the states come by chance.
    """
    out = []
    fixed = [flags.REPEAT, flags.FLAGGED, flags.OK, flags.OVERDUE, flags.NEVER] if first else []
    for i in range(n):
        if i < len(fixed):
            out.append(fixed[i])
            continue
        r = rng.random()
        if r < 0.05:
            out.append(flags.NEVER)
        elif r < 0.15:
            out.append(flags.OVERDUE)
        elif r < 0.25:
            out.append(flags.REPEAT)
        elif r < 0.40:
            out.append(flags.FLAGGED)
        else:
            out.append(flags.OK)
    return out


def _build_units(ctx: _Ctx, branches: int, communes: int | None) -> None:
    """The province, its commune/ward unions and their branches, with secretary terms."""
    rng = ctx.rng
    sizes = _sizes(rng, branches, communes if communes else max(1, round(branches / 10)))
    next_id = _next_id(Unit)
    province = Unit(id=next_id, code=PROVINCE_CODE, name=PROVINCE_NAME, kind="province")
    place(province, None)
    units = [province]
    ctx.province = province
    next_id += 1
    codes: set[str] = {PROVINCE_CODE}
    branch_names: set[str] = set()
    numbering: Counter[tuple[str, str]] = Counter()
    hamlets = _place_names(rng, 400)
    terms: list[dict[str, Any]] = []
    for index, (place_name, size) in enumerate(
        zip(_place_names(rng, len(sizes)), sizes, strict=True)
    ):
        ward = rng.random() < 0.3
        initials = "".join(word[0] for word in _ascii(place_name).split() if word[0].isalpha())
        code, k = f"{PROVINCE_CODE}-{initials}", 2
        while code in codes:
            code, k = f"{PROVINCE_CODE}-{initials}{k}", k + 1
        codes.add(code)
        commune = Unit(
            id=next_id,
            code=code,
            name=f"Đoàn {'phường' if ward else 'xã'} {place_name}",
            kind="ward" if ward else "commune",
        )
        next_id += 1
        place(commune, province)
        units.append(commune)
        ctx.communes.append(commune)
        prefix = "khu phố" if ward else "ấp"
        bases = [place_name] + [rng.choice(hamlets) for _ in range(rng.randint(1, 3))]
        for number, plan in enumerate(_plans(rng, size, first=index == 0), start=1):
            base = rng.choice(bases)
            name = ""
            while not name or name in branch_names:
                numbering[(prefix, base)] += 1
                name = f"Chi đoàn {prefix} {base} {numbering[(prefix, base)]}"
            branch_names.add(name)
            unit = Unit(
                id=next_id, code=f"{code}-{number:02d}", name=name, kind="branch", member_count=0
            )
            next_id += 1
            place(unit, commune)
            terms.extend(_secretary(ctx, unit))
            units.append(unit)
            ctx.branches.append(
                _BranchPlan(
                    unit=unit,
                    commune=index,
                    plan=plan,
                    quality=rng.uniform(0.6, 0.95),
                    day=rng.randint(3, 26),
                    evening=rng.random() < 0.65,
                )
            )
    db.session.add_all(units)
    db.session.flush()
    _insert(SecretaryTerm, terms)
    ctx.counts.update(units=len(units), communes=len(sizes), branches=len(ctx.branches))
    ctx.progress(
        f"Units: {PROVINCE_NAME}, {len(sizes)} commune/ward unions, {len(ctx.branches)} branches."
    )


def _secretary(ctx: _Ctx, unit: Unit) -> list[dict[str, Any]]:
    """Fill a branch's profile; return its secretary terms (with turnover on some)."""
    rng, today = ctx.rng, ctx.today
    unit.member_count = rng.randint(10, 40)
    name, _female = _person(rng)
    party = rng.random() < 0.6
    terms: list[dict[str, Any]] = []
    if rng.random() < 0.25:  # a secretary changed within the last year
        changed = today - timedelta(days=rng.randint(20, 350))
        start = changed - timedelta(days=rng.randint(200, 1100))
        if rng.random() < 0.3:  # and changed before that too: a branch that keeps changing
            previous_end = start - timedelta(days=rng.randint(3, 20))
            terms.append(
                _term(rng, unit, previous_end - timedelta(days=rng.randint(120, 300)), previous_end)
            )
        terms.append(_term(rng, unit, start, changed - timedelta(days=rng.randint(0, 10))))
        since = changed
    else:
        since = today - timedelta(days=rng.randint(120, 1500))
    unit.secretary_name, unit.secretary_since, unit.secretary_party_member = name, since, party
    terms.append(
        {
            "branch_id": unit.id,
            "name": name,
            "party_member": party,
            "started_on": since,
            "ended_on": None,
        }
    )
    return terms


def _term(rng: Random, unit: Unit, start: date, end: date) -> dict[str, Any]:
    """An ended secretary term (those who leave early are less often Party members)."""
    return {
        "branch_id": unit.id,
        "name": _person(rng)[0],
        "party_member": rng.random() < 0.35,
        "started_on": start,
        "ended_on": end,
    }


def _username(display_name: str, taken: set[str]) -> str:
    """``tuan.nv`` for Nguyễn Văn Tuấn, numbered if taken."""
    words = _ascii(display_name).lower().split()
    base = f"{words[-1]}.{''.join(word[0] for word in words[:-1])}"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}{k}", k + 1
    taken.add(name)
    return name


def _build_users(ctx: _Ctx) -> None:
    """The demo users and a few more cadres, all with the demo password."""
    rng, province = ctx.rng, ctx.province
    assert province is not None
    first_commune = ctx.communes[0]
    first_branch = next(b.unit for b in ctx.branches if b.commune == 0)
    homes = {
        "admin": ([ADMIN], province, _DEMO_NAMES["admin"]),
        "province": ([PROVINCE], province, _DEMO_NAMES["province"]),
        "cadre": ([CADRE], province, _DEMO_NAMES["cadre"]),
        "commune": ([SECRETARY], first_commune, _person(rng)[0]),
        "secretary": ([SECRETARY], first_branch, first_branch.secretary_name or ""),
    }
    password_hash = ""
    taken = set(DEMO_USERS)
    extra = max(4, min(24, len(ctx.branches) // 50))
    specs: list[tuple[str, list[str], Unit, str]] = [
        (username, roles, home, name) for username, (roles, home, name) in homes.items()
    ]
    for i in range(extra + 1):
        name = _person(rng)[0]
        # The last one works for the first commune only, to show a narrower scope.
        specs.append(
            (_username(name, taken), [CADRE], first_commune if i == extra else province, name)
        )
    for username, roles, home, name in specs:
        user = User(username=username, display_name=name, unit=home)
        user.role_list = roles
        if not password_hash:  # hash once: every demo account shares the password
            user.set_password(DEMO_PASSWORD)
            password_hash = user.password_hash
        user.password_hash = password_hash
        db.session.add(user)
        ctx.users[username] = user
    db.session.flush()
    ctx.cadres = [(ctx.users["cadre"], 3.0, None)]
    for username, _roles, home, _name in specs[len(homes) :]:
        commune = 0 if home is first_commune else None
        ctx.cadres.append((ctx.users[username], rng.uniform(0.3, 2.0), commune))
    ctx.counts["users"] = len(specs)
    ctx.progress(f"Users: {len(specs)} ({', '.join(DEMO_USERS)} and {extra + 1} more cadres).")


def _period(day: date, back: int = 0) -> str:
    """``YYYY-MM`` of the month ``back`` months before ``day``'s."""
    months = day.year * 12 + day.month - 1 - back
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def _build_guidance(ctx: _Ctx) -> dict[str, tuple[int, tuple[str, ...]]]:
    """The province's guidance for this month and the three before: period -> (id, topic codes)."""
    rng, province = ctx.rng, ctx.province
    assert province is not None
    out: dict[str, tuple[int, tuple[str, ...]]] = {}
    for back in range(3, -1, -1):
        period = _period(ctx.today, back)
        year, month = int(period[:4]), int(period[5:])
        theme, topics = MONTHLY_GUIDANCE[month]
        chosen = topics[: rng.randint(3, 5)]
        issued = datetime(year, month, 1, 9, 0, tzinfo=VN) - timedelta(days=rng.randint(3, 8))
        guidance = Guidance(
            unit_id=province.id,
            period=period,
            title=f"Hướng dẫn sinh hoạt chi đoàn tháng {month}/{year}: {theme}",
            material=(
                f"Chủ điểm tháng {month}: {theme}. Các chi đoàn tổ chức sinh hoạt theo "
                "tài liệu của Tỉnh đoàn, lồng ghép tuyên truyền các ngày kỷ niệm trong tháng "
                "và phân công đoàn viên thực hiện công trình, phần việc thanh niên."
            ),
            created_by_id=ctx.users["province"].id,
            created_at=issued.astimezone(UTC),
            topics=[
                GuidanceTopic(position=i, code=f"T{i}", title=title)
                for i, title in enumerate(chosen, start=1)
            ],
        )
        db.session.add(guidance)
        db.session.flush()
        out[period] = (guidance.id, tuple(f"T{i}" for i in range(1, len(chosen) + 1)))
    ctx.counts["guidance"] = len(out)
    return out


def _weighted(rng: Random, choices: Sequence[tuple[str, float]]) -> str:
    r, total = rng.random(), 0.0
    for value, weight in choices:
        total += weight
        if r < total:
            return value
    return choices[-1][0]


def _meeting_dates(ctx: _Ctx, plan: _BranchPlan, months: int) -> list[date]:
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
        period = _period(today, back)
        year, month = int(period[:4]), int(period[5:])
        day = date(year, month, min(28, max(1, plan.day + rng.randint(-3, 3))))
        back += 1
        if day >= today or (back > 3 and rng.random() < 0.05):
            continue  # not held yet this month, or a month nobody evaluated
        if plan.plan == flags.OVERDUE and (today - day).days <= 90:
            continue
        dates.append(day)
        if back > months + 24:
            break
    dates.reverse()
    return dates


def _targets(rng: Random, plan: _BranchPlan, n: int) -> list[bool | None]:
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


def _profiles(items: Sequence[scoring.ItemSpec]) -> dict[str, _Profile]:
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


def _answers(rng: Random, profile: _Profile) -> dict[str, str]:
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


def _meeting(
    rng: Random,
    profiles: dict[str, _Profile],
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
        cause = _weighted(
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
            for code in rng.sample(_CRITICAL_CHOICES, 2):
                answers[code] = scoring.FAIL
        else:
            code = _CRITICAL_CHOICES[bisect(_CUM_CRITICAL, rng.random())]
            answers[code] = scoring.FAIL
    present = max(1, min(total, int(total * ratio) if ratio < 0.5 else round(total * ratio)))
    return answers, present, sorted(rng.sample(topics, covered), key=topics.index)


_CUM_CRITICAL = list(accumulate(_CRITICAL_WEIGHTS))[:-1]


def _local(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN).astimezone(UTC)


def _build_evaluations(
    ctx: _Ctx,
    template_items: Sequence[Any],
    guidance: dict[str, tuple[int, tuple[str, ...]]],
    months: int,
) -> None:
    """Evaluations, their answers, one meeting visit each, and every branch's status."""
    rng, today = ctx.rng, ctx.today
    items = [
        scoring.ItemSpec(item.code, item.section, item.weight, item.critical, item.kind)
        for item in template_items
    ]
    template_id = template_items[0].template_id
    province = ctx.province
    assert province is not None
    settings = settings_for_path(province.path)
    profiles = _profiles(items)
    compliant_fallback = {code: scoring.PASS for code in profiles["good"]}
    # Who may evaluate where: cumulative weights of the cadres in scope, per commune.
    pickers: list[tuple[list[float], list[int]]] = []
    for index in range(len(ctx.communes)):
        eligible = [(u.id, w) for u, w, c in ctx.cadres if c is None or c == index]
        pickers.append(([*accumulate(w for _, w in eligible)], [uid for uid, _ in eligible]))
    demo_cadre = ctx.users["cadre"].id
    usernames = {user.id: user.username for user, _, _ in ctx.cadres}
    next_id = _next_id(Evaluation)
    evaluations: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    total = 0

    def flush() -> None:
        nonlocal total
        if evaluations:
            _insert(Evaluation, evaluations)
            _insert(EvaluationAnswer, answers)
            _insert(Visit, visits)
            total += len(evaluations)
            ctx.progress(f"  evaluations: {total:,}")
        evaluations.clear()
        answers.clear()
        visits.clear()

    for plan in ctx.branches:
        branch = plan.unit
        members = branch.member_count or 10
        dates = _meeting_dates(ctx, plan, months)
        targets = _targets(rng, plan, len(dates))
        cum, ids = pickers[plan.commune]
        summaries: list[flags.EvalSummary] = []
        scores: dict[int, float | None] = {}
        records: list[_EvalRecord] = []
        for meeting_date, target in zip(dates, targets, strict=True):
            guided = guidance.get(_period(meeting_date))
            topics = guided[1] if guided else ()
            must = target if target is not None else rng.random() < plan.quality
            total_members = max(3, members + rng.randint(-2, 1))
            for attempt in range(8):
                if attempt == 7:  # give up on chance: a clean pass, or minutes missing
                    answers_in, present, covered = dict(compliant_fallback), total_members, []
                    covered = list(topics)
                    if not must:
                        answers_in["P10"] = scoring.FAIL
                else:
                    answers_in, present, covered = _meeting(
                        rng, profiles, must, total_members, topics
                    )
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
            ev_id = next_id
            next_id += 1
            if plan.commune == 0 and (today - meeting_date).days <= 90 and rng.random() < 0.8:
                cadre_id = demo_cadre  # the demo cadre mostly covers the first commune
            else:
                cadre_id = ids[bisect(cum, rng.random() * cum[-1])]
            ev_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            hour, minute = (19, rng.choice((0, 15, 30))) if plan.evening else (7, 30)
            started_at = _local(meeting_date, hour, minute) + timedelta(minutes=rng.randint(0, 15))
            submitted_at = started_at + timedelta(minutes=rng.randint(70, 130))
            r = rng.random()
            delay = (
                timedelta(minutes=rng.randint(1, 20))
                if r < 0.7
                else timedelta(hours=rng.randint(1, 14))
                if r < 0.95
                else timedelta(days=rng.randint(1, 3))  # a phone offline for days
            )
            received_at = max(submitted_at, min(submitted_at + delay, ctx.now))
            good_practice = None
            recommend = False
            if outcome.compliant and (outcome.score or 0) >= 85 and rng.random() < 0.08:
                good_practice = rng.choice(_GOOD_PRACTICES)
                recommend = rng.random() < 0.5
            notes = None
            if rng.random() < 0.3:
                notes = rng.choice(_NOTES_GOOD if outcome.compliant else _NOTES_WEAK)
            judged = outcome.columns()
            evaluations.append(
                {
                    "id": ev_id,
                    "uuid": ev_uuid,
                    "content_hash": hashlib.sha256(ev_uuid.encode()).hexdigest(),
                    "branch_id": branch.id,
                    "cadre_id": cadre_id,
                    "template_id": template_id,
                    "guidance_id": guided[0] if guided else None,
                    "meeting_date": meeting_date,
                    "meeting_type": _weighted(rng, _MEETING_TYPES),
                    "mode": "online" if rng.random() < 0.08 else "in_person",
                    "members_total": total_members,
                    "members_present": present,
                    "topics_covered": covered,
                    "notes": notes,
                    "good_practice": good_practice,
                    "recommend_practice": recommend,
                    "supersedes_id": None,
                    "device_id": f"demo-{usernames[cadre_id]}",
                    "started_at": started_at,
                    "submitted_at": submitted_at,
                    "received_at": received_at,
                    **judged,
                }
            )
            for code, value in outcome.effective.items():
                note = None
                failing = value in (scoring.FAIL, scoring.PARTIAL) and code in _ITEM_NOTES
                if failing and rng.random() < 0.3:
                    note = rng.choice(_ITEM_NOTES[code])
                answers.append(
                    {"evaluation_id": ev_id, "item_code": code, "value": value, "note": note}
                )
            visits.append(
                {
                    "user_id": cadre_id,
                    "unit_id": branch.id,
                    "form": "meeting",
                    "start_date": meeting_date,
                    "end_date": meeting_date,
                    "days": 1,
                    "report": None,
                    "reported_at": None,
                    "evaluation_id": ev_id,
                    "created_at": received_at,
                }
            )
            summaries.append(
                flags.EvalSummary(
                    id=ev_id,
                    meeting_date=meeting_date,
                    submitted_at=submitted_at,
                    uuid=ev_uuid,
                    compliant=outcome.compliant,
                    serious=outcome.serious,
                    reasons=tuple(judged["reasons"]),
                )
            )
            scores[ev_id] = outcome.score
            if plan.commune == 0:
                records.append(
                    _EvalRecord(
                        id=ev_id,
                        branch_id=branch.id,
                        cadre_id=cadre_id,
                        meeting_date=meeting_date,
                        received_at=received_at,
                        compliant=outcome.compliant,
                        failed=tuple(
                            code for code, v in outcome.effective.items() if v == scoring.FAIL
                        ),
                    )
                )
        state = flags.compute_state(summaries)
        statuses.append(
            {
                "branch_id": branch.id,
                "state": state.state,
                "since": state.since,
                "evaluation_id": state.evaluation_id,
                "last_meeting_date": state.last_meeting_date,
                "streak": state.streak,
                "serious": state.serious,
                "score": scores.get(state.evaluation_id) if state.evaluation_id else None,
                "reasons": list(state.reasons),
                "updated_at": ctx.now,
            }
        )
        shown = flags.effective_state(state, today, settings.overdue_days)[0]
        ctx.states[shown] += 1
        if plan.commune == 0:
            ctx.first_states[shown] += 1
            ctx.records[branch.id] = records
        if len(answers) >= _CHUNK_ANSWERS:
            flush()
    flush()
    _insert(BranchStatus, statuses)
    ctx.counts.update(evaluations=total, answers=total * len(items), visits=total)
    first = ", ".join(f"{state} {ctx.first_states[state]}" for state in flags.STATES)
    ctx.progress(f"Branch statuses: {len(statuses):,} ({ctx.communes[0].name}: {first}).")


def _build_other_visits(ctx: _Ctx, months: int) -> None:
    """Inspections, co-organised activities, field studies and research by each cadre."""
    rng, today = ctx.rng, ctx.today
    rows: list[dict[str, Any]] = []
    by_commune: dict[int, list[Unit]] = {}
    for plan in ctx.branches:
        by_commune.setdefault(plan.commune, []).append(plan.unit)
    for user, weight, commune in ctx.cadres:
        for back in range(min(months, 12)):
            for _ in range(rng.choice((0, 1, 1, 2)) if weight > 0.5 else rng.choice((0, 0, 1))):
                form = _weighted(rng, _VISIT_FORMS)
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
                    reported_at = _local(reported_on, 16, rng.randint(0, 59))
                rows.append(
                    {
                        "user_id": user.id,
                        "unit_id": unit.id,
                        "form": form,
                        "start_date": start,
                        "end_date": end,
                        "days": days,
                        "report": _VISIT_REPORTS[form] if reported_at else None,
                        "reported_at": reported_at,
                        "evaluation_id": None,
                        "created_at": _local(start, 8, 0),
                    }
                )
    if rows:
        _insert(Visit, rows)
    ctx.counts["visits"] += len(rows)
    ctx.progress(f"Other visits: {len(rows):,}.")


def _build_responses(ctx: _Ctx) -> None:
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

    def action(rec: _EvalRecord, responder: User, code: str | None, **values: Any) -> None:
        unit = units[rec.branch_id]
        created = min(rec.received_at + timedelta(days=2), ctx.now)
        row = {
            "branch_id": rec.branch_id,
            "evaluation_id": rec.id,
            "item_code": code,
            "description": _ACTIONS.get(code or "", "Khắc phục các nội dung chưa đạt"),
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
                reply = rng.choice(_REPLIES)
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
            critical_first = sorted(rec.failed, key=lambda c: c not in _CRITICAL_CHOICES)
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
                    closed = min(_local(due - timedelta(days=rng.randint(0, 10)), 20, 0), ctx.now)
                    action(
                        rec,
                        responder,
                        code,
                        status="done",
                        closed_by_id=responder.id,
                        closed_at=max(closed, rec.received_at + timedelta(days=3)),
                        close_note=rng.choice(_CLOSE_NOTES),
                    )
                else:
                    action(rec, responder, code)
    if feedback:
        _insert(Feedback, feedback)
    if actions:
        _insert(CorrectiveAction, actions)
    ctx.counts.update(feedback=len(feedback), actions=len(actions))
    ctx.progress(f"Feedback: {len(feedback)}; corrective actions: {len(actions)}.")


def _summary(ctx: _Ctx) -> str:
    """What was loaded, in one short paragraph."""
    c = ctx.counts
    states = ", ".join(f"{state} {ctx.states[state]}" for state in flags.STATES)
    return (
        f"Demo province {PROVINCE_NAME}: {c['units']} units ({c['communes']} commune/ward "
        f"unions, {c['branches']} branches), {c['users']} users, {c['evaluations']:,} "
        f"evaluations ({c['answers']:,} answers), {c['visits']:,} visits, {c['feedback']} "
        f"feedback, {c['actions']} corrective actions.\nBranches by state: {states}."
    )
