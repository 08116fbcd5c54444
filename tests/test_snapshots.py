"""tests.snapshots: a seed put back is the seed, row for row, with its triggers still there."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Flask

from coso import demo
from coso.extensions import db
from tests import snapshots
from tests.conftest import _empty_tables

TODAY = date(2025, 11, 20)


def _everything() -> dict[str, object]:
    """Every row of every table, and what each table's next id would be."""
    engine = db.engine
    found: dict[str, object] = {}
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            found[table.name] = sorted(conn.execute(sa.select(*table.columns)).all(), key=repr)
        if engine.dialect.name == "postgresql":
            names = conn.execute(
                sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            for name in names:
                found[name] = tuple(
                    conn.exec_driver_sql(f'SELECT last_value, is_called FROM "{name}"').one()
                )
        else:
            found["triggers"] = sorted(
                conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                ).all()
            )
    return found


def test_a_seed_put_back_is_the_seed_row_for_row(app: Flask) -> None:
    key = ("test_snapshots", TODAY)
    runs: list[str] = []

    def seed() -> str:
        runs.append("seeded")
        return demo.seed(branches=6, months=2, today=TODAY)

    with app.app_context():
        summary = snapshots.seeded(key, seed)
        seeded = _everything()
        _empty_tables()
        again = snapshots.seeded(key, seed)
        put_back = _everything()
    assert runs == ["seeded"], "the second time, the rows were put back, not seeded"
    assert again == summary
    assert seeded["evaluation"] and seeded["branch_status"]
    assert set(put_back) == set(seeded)
    for name in seeded:
        assert put_back[name] == seeded[name], name


def test_a_seed_over_rows_already_there_is_run(app: Flask) -> None:
    with app.app_context():
        snapshots.seeded(("test_snapshots", "first"), lambda: demo.seed(branches=5, months=1))
        runs: list[int] = []
        snapshots.seeded(("test_snapshots", "first"), lambda: runs.append(1))
    assert runs == [1]
