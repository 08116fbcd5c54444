"""Words the demo is made of: Vietnamese names and places, and the free text cadres and
secretaries write (notes, good practices, replies, corrective actions, visit reports).

Plain data and three small pure helpers; nothing here touches the database.
"""

from __future__ import annotations

import unicodedata
from random import Random

# --------------------------------------------------------------------------- names

PLACE_FIRST = (
    "Tân", "Phú", "Long", "Bình", "An", "Xuân", "Phước", "Thạnh", "Hòa", "Vĩnh",
    "Đông", "Bảo", "Gia", "Thanh", "Hưng", "Trung", "Quang", "Thái", "Minh", "Nhơn",
)  # fmt: skip
PLACE_SECOND = (
    "Hòa", "Mai", "Bình", "Hiệp", "Phú", "Lộc", "Thành", "An", "Hưng", "Tân", "Vinh",
    "Thịnh", "Trung", "Lợi", "Phước", "Sơn", "Đông", "Hải", "Định", "Quang", "Nghĩa",
    "Thọ", "Khánh", "Cường",
)  # fmt: skip
FAMILY = (
    "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh",
    "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
)  # fmt: skip
MIDDLE_M = ("Văn", "Minh", "Quốc", "Đức", "Hữu", "Thanh", "Hoàng", "Gia", "Công", "Tấn")
MIDDLE_F = ("Thị", "Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ", "Bảo", "Phương", "Hồng")
GIVEN_M = (
    "An", "Bình", "Dũng", "Duy", "Hải", "Hiếu", "Hùng", "Huy", "Khang", "Khoa", "Long",
    "Nam", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thịnh", "Trí", "Tuấn", "Việt", "Vinh",
)  # fmt: skip
GIVEN_F = (
    "Anh", "Châu", "Giang", "Hà", "Hạnh", "Hương", "Khánh", "Linh", "Mai", "Ngân", "Nhung",
    "Phương", "Quyên", "Tâm", "Thảo", "Trang", "Trinh", "Uyên", "Vy", "Yến", "Loan", "Oanh",
)  # fmt: skip

# Display names of the demo users (the two secretaries take their unit's secretary).
DEMO_NAMES = {
    "admin": "Trần Minh Khoa",
    "province": "Nguyễn Thị Thu Hà",
    "cadre": "Lê Hoàng Nam",
}

# ---------------------------------------------------------------- free-text pieces
# (good practices, notes, replies and closing notes are composed in ``phrases``)

ITEM_NOTES: dict[str, tuple[str, ...]] = {
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
ACTIONS: dict[str, str] = {
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
VISIT_REPORTS = {
    "inspection": "Kiểm tra việc thực hiện nghị quyết và sổ sách chi đoàn; "
    "đa số chi đoàn sinh hoạt đều đặn, một số chưa có biên bản đầy đủ.",
    "coorganise": "Phối hợp tổ chức ngày Chủ nhật xanh; 45 đoàn viên tham gia, "
    "thu gom rác 2 km tuyến đường.",
    "field_study": "Học tập thực tế tại cơ sở; nắm tình hình thanh niên đi làm xa, "
    "đề xuất hình thức sinh hoạt trực tuyến.",
    "research": "Khảo sát mô hình sinh hoạt chi đoàn ghép với hoạt động tình nguyện; "
    "đề xuất nhân rộng.",
}
VISIT_FORMS = (("inspection", 0.4), ("coorganise", 0.3), ("research", 0.15), ("field_study", 0.15))
MEETING_TYPES = (("regular", 0.55), ("theme", 0.3), ("topic", 0.1), ("extraordinary", 0.05))


def ascii_only(text: str) -> str:
    """Vietnamese without its marks ("Đồng Hòa" -> "Dong Hoa"), for codes and usernames."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def person(rng: Random) -> tuple[str, bool]:
    """A Vietnamese full name and whether it is a woman's."""
    female = rng.random() < 0.5
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    return f"{rng.choice(FAMILY)} {middle} {given}", female


def place_names(rng: Random, n: int) -> list[str]:
    """``n`` distinct place names ("Phú Hòa", "Tân Mai" …)."""
    names = [f"{a} {b}" for a in PLACE_FIRST for b in PLACE_SECOND if a != b]
    rng.shuffle(names)
    out = names[:n]
    k = 2
    while len(out) < n:  # more communes than names: number them, as some provinces do
        out.extend(f"{name} {k}" for name in names[: n - len(out)])
        k += 1
    return out
