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


def test_insert_all_stores_every_row_as_given_in_one_statement(app: Flask) -> None:
    from datetime import UTC, datetime

    from coso.extensions import insert_all
    from coso.models import Visit
    from tests.builders import make_user

    with app.app_context():
        province = make_unit("T-I", "province")
        branch = make_unit("T-I-B", "branch", province)
        user = make_user("insert-all", "cadre", branch)
        db.session.commit()
        now = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)
        rows = [
            {
                "user_id": user.id,
                "unit_id": branch.id,
                "form": form,
                "start_date": date(2026, 12, day),
                "end_date": date(2026, 12, day),
                "days": 1,
                "report": report,
                "created_at": now,
            }
            for day, form, report in ((1, "meeting", None), (2, "work", "Báo cáo ‘đủ’ — 100%"))
        ]
        statements: list[tuple[str, bool]] = []

        def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            statements.append((statement, executemany))

        sa.event.listen(db.engine, "before_cursor_execute", seen)
        try:
            insert_all(db.session.connection(), Visit.__table__, rows)
            insert_all(db.session.connection(), Visit.__table__, [])  # nothing to do
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", seen)
        db.session.commit()
        stored = db.session.execute(
            sa.select(
                Visit.user_id, Visit.unit_id, Visit.form, Visit.start_date, Visit.end_date,
                Visit.days, Visit.report, Visit.created_at,
            ).order_by(Visit.start_date)
        ).all()  # fmt: skip
        assert [tuple(r) for r in stored] == [tuple(row.values()) for row in rows]
        if db.engine.dialect.name == "postgresql":
            assert len(statements) == 1 and not statements[0][1]
            assert "unnest" in statements[0][0]
        else:
            assert len(statements) == 1 and statements[0][1]  # executemany
