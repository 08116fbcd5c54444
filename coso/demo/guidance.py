"""The province's monthly guidance: the usual calendar of themes, and the demo's last
four months of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coso.demo.world import VN, Ctx, period_of
from coso.extensions import db
from coso.models import Guidance, GuidanceTopic

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


def build_guidance(ctx: Ctx) -> dict[str, tuple[int, tuple[str, ...]]]:
    """The province's guidance for this month and the three before: period -> (id, topic codes)."""
    rng, province = ctx.rng, ctx.province
    assert province is not None
    out: dict[str, tuple[int, tuple[str, ...]]] = {}
    for back in range(3, -1, -1):
        period = period_of(ctx.today, back)
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
