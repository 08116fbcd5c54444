"""The default checklist of domain.md, and a helper that publishes it for a unit.

The province starts from these 21 items and edits them as new template
versions; the texts here are only the starting point.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coso.extensions import db
from coso.models import ChecklistItem, ChecklistTemplate, Unit
from coso.models.checklists import DRAFT, PUBLISHED
from coso.models.types import utcnow


def _item(
    code: str, section: str, weight: int, text_vi: str, text_en: str, *, critical: bool = False
) -> dict[str, Any]:
    """One item as a plain dict; P4 alone is computed from the attendance counts."""
    return {
        "code": code,
        "section": section,
        "text_vi": text_vi,
        "text_en": text_en,
        "weight": weight,
        "critical": critical,
        "kind": "computed" if code == "P4" else "choice",
    }


_P, _C = "procedure", "content"

#: domain.md's default checklist: procedure 54 + content 46 = 100.
DEFAULT_ITEMS: tuple[dict[str, Any], ...] = (
    _item(
        "P1",
        _P,
        4,
        "Tổ chức đúng thời gian, địa điểm đã thông báo",
        "Held at the announced time and place",
        critical=True,
    ),
    _item(
        "P2",
        _P,
        4,
        "Chủ trì là bí thư, phó bí thư hoặc ủy viên BCH được phân công",
        "Chaired by the secretary, deputy or an assigned committee member",
        critical=True,
    ),
    _item(
        "P3",
        _P,
        3,
        "Điểm danh; công bố số có mặt, vắng có lý do, vắng không lý do",
        "Roll call; present, excused and absent announced",
    ),
    _item(
        "P4",
        _P,
        8,
        "Số đoàn viên dự đạt tỷ lệ quy định",
        "Attendance at or above the required ratio",
        critical=True,
    ),
    _item(
        "P5",
        _P,
        3,
        "Ổn định tổ chức, chào cờ, tuyên bố lý do, giới thiệu đại biểu",
        "Opening: settle, flag salute, purpose, guests introduced",
    ),
    _item(
        "P6",
        _P,
        6,
        "Đánh giá kết quả tháng trước, việc thực hiện nghị quyết kỳ trước",
        "Last month's results and the previous resolution reviewed",
    ),
    _item(
        "P7",
        _P,
        6,
        "Triển khai nhiệm vụ tháng tới, phân công người phụ trách",
        "Next month's tasks set, each with an owner",
    ),
    _item(
        "P8",
        _P,
        5,
        "Đoàn viên thảo luận, phát biểu (ít nhất 3 ý kiến)",
        "Discussion: at least 3 members speak",
    ),
    _item(
        "P9",
        _P,
        5,
        "Kết luận / nghị quyết được biểu quyết thông qua",
        "Conclusion or resolution adopted by vote",
    ),
    _item(
        "P10",
        _P,
        6,
        "Có biên bản ghi vào sổ chi đoàn, thông qua và ký",
        "Minutes in the branch register, read out and signed",
        critical=True,
    ),
    _item(
        "P11",
        _P,
        2,
        "Đoàn vụ: thu đoàn phí, cập nhật biến động đoàn viên",
        "Dues collected, member changes recorded",
    ),
    _item(
        "P12",
        _P,
        2,
        "Bắt đầu đúng giờ, nghiêm túc, thời lượng hợp lý",
        "On time, orderly, reasonable length",
    ),
    _item(
        "C1",
        _C,
        10,
        "Nội dung chủ điểm tháng theo hướng dẫn của cấp trên",
        "The month's guided theme covered",
        critical=True,
    ),
    _item(
        "C2",
        _C,
        8,
        "Nội dung chính trị, tư tưởng theo hướng dẫn "
        "(học tập và làm theo Bác, nghị quyết, thời sự)",
        "Political education content as guided",
    ),
    _item(
        "C3",
        _C,
        3,
        "Tuyên truyền các ngày lễ, kỷ niệm trong tháng",
        "The month's anniversaries marked",
    ),
    _item(
        "C4",
        _C,
        6,
        "Phổ biến chương trình, chỉ tiêu của cấp trên, cụ thể hóa cho chi đoàn",
        "Upper-level programmes and targets passed on, made concrete",
    ),
    _item(
        "C5",
        _C,
        4,
        "Hình thức sinh hoạt phong phú, thu hút đoàn viên",
        "Engaging format (quiz, forum, video …)",
    ),
    _item(
        "C6",
        _C,
        4,
        "Nội dung phù hợp đặc điểm chi đoàn",
        "Content fits the branch's setting",
    ),
    _item(
        "C7",
        _C,
        4,
        "Lắng nghe, tổng hợp tâm tư, ý kiến đoàn viên để phản ánh lên cấp trên",
        "Members' concerns gathered and passed upward",
    ),
    _item(
        "C8",
        _C,
        5,
        "Không có nội dung trái quan điểm, đường lối; đúng trọng tâm",
        "Nothing contrary to the Union's line; on topic",
        critical=True,
    ),
    _item(
        "C9",
        _C,
        2,
        "Sử dụng tài liệu sinh hoạt chi đoàn của cấp trên",
        "The official monthly material used",
    ),
)


def create_default_template(
    unit: Unit,
    *,
    name: str = "Phiếu đánh giá sinh hoạt chi đoàn",
    published: bool = True,
) -> ChecklistTemplate:
    """Add the default checklist as ``unit``'s next template version (1 for a new unit).

    Published right away unless ``published`` is false (then a draft to edit);
    flushed so the caller can use its id and items.
    """
    latest = db.session.scalar(
        sa.select(sa.func.max(ChecklistTemplate.version)).where(
            ChecklistTemplate.unit_id == unit.id
        )
    )
    template = ChecklistTemplate(
        unit_id=unit.id,
        name=name,
        version=(latest or 0) + 1,
        status=PUBLISHED if published else DRAFT,
        published_at=utcnow() if published else None,
        items=[
            ChecklistItem(position=position, **item)
            for position, item in enumerate(DEFAULT_ITEMS, start=1)
        ],
    )
    db.session.add(template)
    db.session.flush()
    return template
