"""The national demo (``seed-demo --provinces N``): the Central Committee above N provinces.

The first province is the demo province itself, with the demo users; the others are built
the same way (smaller or not: ``--branches`` is per province), their demo users' names
prefixed with the province's code (``hn.province``, ``hn.cadre`` …). The central user
(``central``) sits at the Central Committee's unit.
"""

from __future__ import annotations

from coso.demo.world import PROVINCE_CODE, PROVINCE_NAME
from coso.extensions import db
from coso.models import Unit, User
from coso.models.units import place
from coso.users.rules import CENTRAL

CENTRAL_CODE, CENTRAL_NAME = "TW", "Trung ương Đoàn"
#: The central demo user's username.
CENTRAL_USER = "central"
#: Provinces after the demo's own, by code and name; further ones are numbered.
OTHERS = (
    ("HN", "Thành đoàn Hà Nội"),
    ("HCM", "Thành đoàn Hồ Chí Minh"),
    ("NA", "Tỉnh đoàn Nghệ An"),
    ("LD", "Tỉnh đoàn Lâm Đồng"),
    ("CT", "Thành đoàn Cần Thơ"),
    ("HP", "Thành đoàn Hải Phòng"),
    ("DNG", "Thành đoàn Đà Nẵng"),
    ("TH", "Tỉnh đoàn Thanh Hoá"),
    ("GL", "Tỉnh đoàn Gia Lai"),
    ("AG", "Tỉnh đoàn An Giang"),
)


def province_names(count: int) -> list[tuple[str, str]]:
    """The code and name of each of ``count`` provinces, the demo province first."""
    out = [(PROVINCE_CODE, PROVINCE_NAME), *OTHERS][:count]
    out.extend((f"T{k:02d}", f"Tỉnh đoàn số {k}") for k in range(len(out) + 1, count + 1))
    return out


def user_prefix(index: int, code: str) -> str:
    """What the demo users of the ``index``-th province start with (none for the first)."""
    return "" if index == 0 else f"{code.lower()}."


def build_centre(password_hash: str | None, password: str) -> tuple[Unit, User]:
    """The Central Committee's unit (the tree's root) and its demo user."""
    top = Unit(code=CENTRAL_CODE, name=CENTRAL_NAME, kind="central")
    place(top, None)
    user = User(username=CENTRAL_USER, display_name="Ban Tổ chức Trung ương Đoàn", unit=top)
    user.role_list = [CENTRAL]
    if password_hash:
        user.password_hash = password_hash
    else:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return top, user
