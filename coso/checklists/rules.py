"""The checklist's pure rules: the default checklist as data, and items as scoring sees them.

The province starts from these 21 items and edits them as new template
versions; the texts here are only the starting point. Nothing here touches
Flask or the database: functions take a template or item and read its fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coso.judging.scoring import ItemSpec

if TYPE_CHECKING:
    from coso.models import ChecklistItem, ChecklistTemplate

#: The name of a checklist started from the default items.
DEFAULT_NAME = "Phiếu đánh giá sinh hoạt chi đoàn"
#: What the weights of a checklist's items add up to.
TOTAL_WEIGHT = 100
#: An item code (and a guidance topic code): short, no spaces.
CODE_RE = r"^[A-Za-z0-9._-]{1,10}$"
#: The fields of an item that a version copies, edits and shows.
ITEM_FIELDS = ("code", "section", "text_vi", "text_en", "weight", "critical", "kind", "position")


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


def item_dict(item: ChecklistItem) -> dict[str, Any]:
    """An item's fields as a plain dict (to copy, compare in the audit log, or show)."""
    return {name: getattr(item, name) for name in ITEM_FIELDS}


def stored_data(template: ChecklistTemplate) -> dict[str, Any]:
    """A template as the form would submit it, to validate before publishing."""
    return {"name": template.name, "items": [item_dict(item) for item in template.items]}


def item_specs(template: ChecklistTemplate) -> tuple[ItemSpec, ...]:
    """The template's items as plain data for coso.judging.scoring."""
    return tuple(
        ItemSpec(
            code=item.code,
            section=item.section,
            weight=item.weight,
            critical=item.critical,
            kind=item.kind,
        )
        for item in template.items
    )


#: What makes two versions the same checklist: the order of items and what each says and weighs.
CONTENT_FIELDS = ("code", "section", "text_vi", "text_en", "weight", "critical", "kind")


def content_of(data: dict[str, Any]) -> tuple[Any, ...]:
    """A draft's name and items reduced to what a cadre would see, to compare two versions.

    Items are put in the order a save gives them (by the order number, then as
    listed) and the order numbers themselves dropped, so "1, 2, 3" and "10, 20, 30"
    compare equal; an empty English text equals a missing one.
    """
    ordered = sorted(
        enumerate(data["items"]),
        key=lambda pair: (pair[1].get("position") is None, pair[1].get("position") or 0, pair[0]),
    )
    items = tuple(
        tuple(
            (item.get(name) or "") if name == "text_en" else item.get(name)
            for name in CONTENT_FIELDS
        )
        for _index, item in ordered
    )
    return (data["name"], items)


def fields_named(rows: list[dict[str, Any]]) -> dict[int, set[str]]:
    """Which fields of the editor's rows a whole-draft error names, by row index.

    Repeated codes name those rows' codes; weights not adding up to 100 name every
    weight; more than one computed item names those rows' kinds. Used to put
    ``aria-invalid`` on the very fields the error summary speaks of.
    """
    named: dict[int, set[str]] = {}
    codes = [str(row.get("code") or "").upper() for row in rows]
    weights = [str(row.get("weight") or "") for row in rows]
    total = sum(int(w) for w in weights if w.isdecimal() and len(w) < 6)
    computed = [i for i, row in enumerate(rows) if row.get("kind") == "computed"]
    for i, code in enumerate(codes):
        if code and codes.count(code) > 1:
            named.setdefault(i, set()).add("code")
        if total != TOTAL_WEIGHT:
            named.setdefault(i, set()).add("weight")
        if len(computed) > 1 and i in computed:
            named.setdefault(i, set()).add("kind")
    return named
