"""Vietnamese names and what the search key makes of them: shared by the Python unit tests
and the browser test that holds static/js/search.js to the same outputs."""

from __future__ import annotations

#: (text, its search key)
KEYS: list[tuple[str, str]] = [
    ("Chi đoàn ấp Hưng Định 1", "chi doan ap hung dinh 1"),
    ("ĐÔNG THỌ", "dong tho"),
    ("Hưng Định", "hung dinh"),
    ("hung dinh", "hung dinh"),
    ("Đoàn xã Hòa Thọ", "doan xa hoa tho"),
    ("Chi đoàn khu phố Phước Lợi 12", "chi doan khu pho phuoc loi 12"),
    ("Nguyễn Thị Ngọc Ánh", "nguyen thi ngoc anh"),
    ("Trường THPT Lê Quý Đôn", "truong thpt le quy don"),
    ("Quảng Ngãi · Bình Sơn", "quang ngai · binh son"),
    ("  Vĩnh \t Thạnh\n", "vinh thanh"),
    ("Xuân\u00a0Lộc", "xuan loc"),  # a no-break space
    ("Tân\u200bMai", "tanmai"),  # a zero-width space vanishes
    # The same words typed as decomposed letters (some phone keyboards do).
    ("Chi \u0111oa\u0300n Hu\u031bng \u0110i\u0323nh", "chi doan hung dinh"),
    ("CD-HD-01", "cd-hd-01"),
    ("50%_thử", "50%_thu"),
    ("", ""),
    ("Ứng Hòa – Đắk Lắk", "ung hoa – dak lak"),
    ("ỷ ỹ ỵ Ỳ Ý", "y y y y y"),
]
