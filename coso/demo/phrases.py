"""Free text composed from parts: good practices, cadres' notes, secretaries' replies and
closing notes, so a demo of thousands of evaluations never repeats itself word for word.

Each text is drawn with the seed's own random generator (the same seed gives the same
words) and ``Phrases`` remembers what it has written: a text already used is drawn
again, and in the rare case the parts run out it gets a distinguishing tail.
Pure: nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from random import Random

TOPICS = (
    "lịch sử Đoàn", "chủ điểm tháng", "an toàn giao thông", "phòng, chống ma túy",
    "chuyển đổi số", "khởi nghiệp của thanh niên nông thôn", "bảo vệ môi trường",
    "tấm gương đạo đức Hồ Chí Minh", "pháp luật cho thanh niên", "kỹ năng sơ cấp cứu",
    "phòng, chống đuối nước", "an toàn thông tin trên mạng", "bình đẳng giới",
    "nghĩa vụ quân sự", "lập nghiệp tại quê hương", "văn hóa ứng xử nơi công cộng",
)  # fmt: skip
GUESTS = (
    "cựu chiến binh của ấp", "bí thư chi bộ ấp", "cán bộ trạm y tế xã", "công an xã",
    "thầy cô trường trung học cơ sở", "một doanh nhân trẻ của địa phương",
    "một đoàn viên vừa xuất ngũ", "cán bộ hội nông dân xã",
)  # fmt: skip
PLACES = (
    "nhà văn hóa ấp", "sân trường tiểu học", "khu di tích của xã", "công viên trung tâm",
    "vườn cây của một đoàn viên", "nhà truyền thống xã", "bờ kênh vừa được dọn sạch",
)  # fmt: skip
PRACTICES = (
    "Tổ chức hái hoa dân chủ về {topic}",
    "Mời {guest} nói chuyện về {topic}",
    "Chia {groups} nhóm thảo luận về {topic}, mỗi nhóm cử một bạn trình bày",
    "Xem phim tư liệu ngắn về {topic} rồi trao đổi",
    "Tổ chức đố vui trên điện thoại về {topic}",
    "Sinh hoạt ngoài trời tại {place}, gắn với chủ đề {topic}",
    "Giao mỗi tổ chuẩn bị một tiểu phẩm về {topic}",
    "Mời {guest} chia sẻ kinh nghiệm, sau đó đoàn viên đặt câu hỏi về {topic}",
    "Gửi tài liệu về {topic} qua nhóm Zalo trước {days} ngày để đoàn viên đọc trước",
    "Đoàn viên thay phiên làm chủ tọa; buổi này bàn về {topic}",
    "Kết hợp sinh hoạt với ra quân dọn vệ sinh tại {place}, lồng ghép nội dung {topic}",
    "Tổ chức tranh biện hai đội về {topic}",
)
RESULTS = (
    "; {present} đoàn viên tham gia, nhiều bạn lần đầu phát biểu.",
    "; đoàn viên hưởng ứng sôi nổi, buổi sinh hoạt kéo dài hơn dự kiến.",
    "; sau buổi sinh hoạt có {volunteers} đoàn viên đăng ký làm tình nguyện.",
    "; kết thúc đúng giờ, không khí vui tươi, {present} bạn có mặt.",
    ". Cách làm này nên nhân rộng ra các chi đoàn trong xã.",
    "; các bạn trẻ mới kết nạp cũng mạnh dạn góp ý kiến.",
    ". Chi đoàn dự định duy trì hằng quý.",
    "; {present}/{total} đoàn viên dự, cao nhất từ đầu năm.",
)

GOOD_OPENERS = (
    "Buổi sinh hoạt sôi nổi", "Chi đoàn chuẩn bị chu đáo", "Bí thư điều hành tốt",
    "Đoàn viên đến đông đủ, đúng giờ", "Nội dung bám sát chủ điểm tháng",
    "Không khí cởi mở, thân thiện", "Ban Chấp hành phân công nhiệm vụ rõ ràng",
    "Chương trình sinh hoạt được gửi trước",
)  # fmt: skip
GOOD_DETAILS = (
    ", {present}/{total} đoàn viên có mặt",
    ", có trình chiếu tài liệu sinh hoạt",
    ", {speakers} ý kiến phát biểu",
    ", có mời đại diện chi bộ ấp dự",
    ", biên bản ghi đầy đủ và thông qua tại chỗ",
    ", nghị quyết tháng có người phụ trách từng việc",
    "",
)
GOOD_CLOSINGS = (
    ". Đề nghị phát huy.",
    ". Nên chia sẻ cách làm với các chi đoàn bạn.",
    ". Cần duy trì đều đặn hằng tháng.",
    ". Có thể mời đoàn viên đi làm xa dự trực tuyến.",
    ".",
    ". Gợi ý bổ sung phần học tập và làm theo Bác.",
)
WEAK_OPENERS = (
    "Chưa chuẩn bị sổ biên bản",
    "Nội dung chủ yếu đọc lại văn bản, ít thảo luận",
    "Đoàn viên vắng nhiều do đi làm ca",
    "Chưa triển khai chủ điểm tháng theo hướng dẫn",
    "Bắt đầu trễ {late} phút",
    "Chưa đánh giá việc thực hiện nghị quyết tháng trước",
    "Bí thư vắng, người chủ trì còn lúng túng",
    "Địa điểm chật, đoàn viên phải đứng",
    "Chưa phân công người phụ trách các việc của tháng",
)
WEAK_DETAILS = (
    "; chỉ {present}/{total} đoàn viên có mặt",
    "; thời gian sinh hoạt bị rút ngắn",
    "; {speakers} ý kiến, chủ yếu của Ban Chấp hành",
    "; tài liệu của Tỉnh đoàn chưa được dùng",
    "",
)
WEAK_CLOSINGS = (
    ". Đề nghị chi đoàn khắc phục trước buổi sau.",
    ". Cần chọn giờ phù hợp với đoàn viên hơn.",
    ". Đề nghị Đoàn xã hỗ trợ tài liệu.",
    ". Sẽ dự lại vào tháng tới.",
    ". Đã góp ý trực tiếp với bí thư sau buổi sinh hoạt.",
    ".",
)
REPLY_OPENERS = (
    "Chi đoàn đã tiếp thu",
    "Cảm ơn anh/chị đã dự và góp ý",
    "Ban Chấp hành chi đoàn đã họp rút kinh nghiệm",
    "Chi đoàn xin giải trình: tháng này đoàn viên đi làm ca nhiều",
    "Chi đoàn ghi nhận các góp ý",
)
REPLY_CLOSINGS = (
    ", sẽ khắc phục trong buổi sinh hoạt tháng {month}.",
    ", đã phân công đồng chí phó bí thư theo dõi.",
    "; kính mời anh/chị dự buổi sinh hoạt ngày {day}.",
    ", đã bổ sung sổ biên bản.",
    ", sẽ báo cáo kết quả với Đoàn xã trước ngày {day}.",
)
THANKS = (
    "Cảm ơn anh/chị đã dự; chi đoàn sẽ tiếp tục phát huy.",
    "Chi đoàn cảm ơn góp ý, sẽ giữ nếp sinh hoạt như tháng này.",
    "Cảm ơn anh/chị; tháng tới chi đoàn sẽ thử thêm hình thức mới.",
)
CLOSE_NOTES = (
    "Đã thực hiện trong buổi sinh hoạt tháng {month}",
    "Đã mua sổ biên bản mới, biên bản có chữ ký đầy đủ",
    "Đã phân công phó bí thư phụ trách",
    "Đã nhắn lịch qua nhóm Zalo, {present} đoàn viên dự buổi sau",
    "Đã bổ sung nội dung chủ điểm tháng",
)
DECLINE_NOTES = (
    "Chi đoàn đã có kế hoạch khác cho nội dung này.",
    "Trùng với biện pháp đã nhận ở buổi trước.",
    "Chi đoàn đề nghị để Đoàn xã hướng dẫn chung cho cả xã.",
)


@dataclass
class Phrases:
    """A composer that never hands out the same good practice or note twice."""

    rng: Random
    used: set[str] = field(default_factory=set)

    def _fresh(self, make: Callable[[], str]) -> str:
        """The first of a few draws not written before, else the last with a number."""
        text = ""
        for _ in range(12):
            text = make()
            if text not in self.used:
                break
        base, k = text, 2
        while text in self.used:
            text = f"{base.rstrip('.')} (lần {k})."
            k += 1
        self.used.add(text)
        return text

    def good_practice(self, present: int, total: int) -> str:
        """What a branch did well, worth copying."""
        rng = self.rng

        def make() -> str:
            practice = rng.choice(PRACTICES).format(
                topic=rng.choice(TOPICS),
                guest=rng.choice(GUESTS),
                place=rng.choice(PLACES),
                groups=rng.randint(2, 5),
                days=rng.randint(2, 5),
            )
            result = rng.choice(RESULTS).format(
                present=present, total=total, volunteers=rng.randint(3, max(3, present // 2))
            )
            return practice + result

        return self._fresh(make)

    def note(self, compliant: bool, present: int, total: int) -> str:
        """The cadre's note on a meeting: what went well, or what was missing."""
        rng = self.rng
        openers, details, closings = (
            (GOOD_OPENERS, GOOD_DETAILS, GOOD_CLOSINGS)
            if compliant
            else (WEAK_OPENERS, WEAK_DETAILS, WEAK_CLOSINGS)
        )

        if not compliant and present >= 0.6 * total:
            details = details[1:]  # "only 12/30 present" is for a meeting half empty

        def make() -> str:
            words = {
                "present": present,
                "total": total,
                "speakers": rng.randint(2, 9),
                "late": rng.choice((20, 25, 30, 40, 45)),
            }
            return (
                rng.choice(openers).format(**words)
                + rng.choice(details).format(**words)
                + rng.choice(closings)
            )

        return self._fresh(make)

    def reply(self, compliant: bool, next_meeting: date) -> str:
        """A secretary's reply to an evaluation, looking to the next meeting."""
        rng = self.rng
        if compliant:
            return rng.choice(THANKS)
        return rng.choice(REPLY_OPENERS) + rng.choice(REPLY_CLOSINGS).format(
            month=next_meeting.month, day=next_meeting.strftime("%d/%m")
        )

    def close_note(self, next_month: int, present: int) -> str:
        """What a secretary wrote when closing a corrective action."""
        return self.rng.choice(CLOSE_NOTES).format(month=next_month, present=present) + "."

    def decline_note(self) -> str:
        """Why a secretary declined a cadre's proposal."""
        return self.rng.choice(DECLINE_NOTES)
