"""One-line builders for test data (in the spirit of CTFd's gen_* helpers)."""

from __future__ import annotations

from typing import Any

from coso.extensions import db
from coso.models import Unit, User
from coso.models.units import place

PASSWORD = "coso-test-pw"


def make_unit(code: str, kind: str = "branch", parent: Unit | None = None, **kwargs: Any) -> Unit:
    unit = Unit(code=code, name=kwargs.pop("name", f"Unit {code}"), kind=kind, **kwargs)
    place(unit, parent)
    db.session.flush()
    return unit


def make_user(username: str, roles: str, unit: Unit, password: str = PASSWORD) -> User:
    user = User(username=username, display_name=username.title(), unit=unit)
    user.role_list = roles.split()
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def small_province(parent: Unit | None = None) -> dict[str, Any]:
    """A province with two communes of two branches each, and one user per role."""
    province = make_unit("TINH", "province", parent, name="Tỉnh đoàn Thử nghiệm")
    c1 = make_unit("XA-A", "commune", province, name="Đoàn xã An Bình")
    c2 = make_unit("XA-B", "commune", province, name="Đoàn xã Bình Minh")
    b11 = make_unit("CD-A1", "branch", c1, name="Chi đoàn ấp 1", member_count=20)
    b12 = make_unit("CD-A2", "branch", c1, name="Chi đoàn ấp 2", member_count=25)
    b21 = make_unit("CD-B1", "branch", c2, name="Chi đoàn khu phố 1", member_count=30)
    b22 = make_unit("CD-B2", "branch", c2, name="Chi đoàn khu phố 2", member_count=18)
    users = {
        "admin": make_user("admin", "admin", province),
        "province": make_user("province", "province", province),
        "cadre": make_user("cadre", "cadre", province),
        "commune": make_user("commune", "secretary", c1),
        "secretary": make_user("secretary", "secretary", b11),
        "cadre_b": make_user("cadre_b", "cadre", c2),
    }
    db.session.commit()
    return {
        "province": province,
        "communes": [c1, c2],
        "branches": [b11, b12, b21, b22],
        "users": users,
    }


def with_checklist(data: dict[str, Any], topics: int = 4) -> dict[str, Any]:
    """Add the default template and this month's guidance (``topics`` topics) to a province."""
    from datetime import date

    from coso.checklists.service import create_default_template
    from coso.guidance.rules import period_of
    from coso.models import Guidance, GuidanceTopic

    province = data["province"]
    template = create_default_template(province)
    guidance = Guidance(
        unit_id=province.id, period=period_of(date.today()), title="Hướng dẫn tháng"
    )
    guidance.topics = [
        GuidanceTopic(position=i, code=f"T{i}", title=f"Chủ đề {i}") for i in range(1, topics + 1)
    ]
    db.session.add(guidance)
    db.session.commit()
    data["template"] = template
    data["guidance"] = guidance
    return data


def payload(
    branch_id: int, template_id: int, guidance_id: int | None = None, **overrides: Any
) -> dict[str, Any]:
    """A complete, compliant sync item (every choice item passes)."""
    import uuid
    from datetime import UTC, date, datetime

    from coso.checklists.rules import DEFAULT_ITEMS

    answers = overrides.pop("answers", None)
    if answers is None:
        values = overrides.pop("values", {})
        answers = [
            {"item": item["code"], "value": values.get(item["code"], "pass")}
            for item in DEFAULT_ITEMS
            if item["kind"] == "choice"
        ]
    item = {
        "uuid": str(uuid.uuid4()),
        "branch_id": branch_id,
        "template_id": template_id,
        "guidance_id": guidance_id,
        "meeting_date": date.today().isoformat(),
        "meeting_type": "regular",
        "mode": "in_person",
        "members_total": 20,
        "members_present": 18,
        "answers": answers,
        "topics_covered": ["T1", "T2", "T3"] if guidance_id else [],
        "notes": None,
        "good_practice": None,
        "recommend_practice": False,
        "supersedes": None,
        "started_at": datetime.now(UTC).isoformat(),
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    item.update(overrides)
    return item
