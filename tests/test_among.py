"""``coso.extensions.among``: IN on SQLite, one array parameter (= ANY) on PostgreSQL."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Flask

from coso.extensions import among, db
from coso.models import Unit
from tests.builders import make_unit


def test_among_selects_exactly_the_values_given(app: Flask) -> None:
    with app.app_context():
        province = make_unit("T-A", "province")
        units = [make_unit(f"X-{n}", "commune", province) for n in range(5)]
        db.session.commit()
        ids = [u.id for u in units]

        def found(values: object) -> set[int]:
            return set(db.session.scalars(sa.select(Unit.id).where(among(Unit.id, values))))

        assert found(ids[1:4]) == set(ids[1:4])
        assert found({ids[0], ids[4], 10**9}) == {ids[0], ids[4]}
        assert found([]) == set()
        assert found(iter([ids[2]])) == {ids[2]}
        text = str(sa.select(Unit.id).where(among(Unit.id, ids)).compile(db.engine))
        if db.engine.dialect.name == "postgresql":
            assert "= ANY" in text and " IN " not in text
        else:
            assert " IN " in text
        # A date column: the array takes the column's type.
        from coso.models import Evaluation

        none = db.session.scalars(
            sa.select(Evaluation.id).where(among(Evaluation.meeting_date, [date(2026, 1, 1)]))
        ).all()
        assert none == []
