"""Upgrades from every release (issue 23, item 4), on SQLite and PostgreSQL.

A database populated at each earlier Alembic revision is migrated up to head: nothing it held
is lost, and every branch's state is what it was. The database "populated at revision R" is
the demo province built at head and carried down to R by the migrations' own downgrades (the
code that wrote older demos is gone, so this is how a fixture per revision is made without
keeping one): every row of every table that exists at R, in the columns that exist at R, must
come back unchanged after ``upgrade`` to head; and the downgrade of each revision is exercised
on the way (so the last revision's is always tested, on both engines).

A new migration keeps this green by upgrading data as well as schema: a column it adds must be
filled from what is there (as ``unit.search`` is), and a downgrade must not lose what the
revision below it can hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade

from coso import create_app
from coso.extensions import db
from tests.conftest import BACKENDS, PG_URL
from tests.support import fresh_database

pytestmark = pytest.mark.slow

#: A table as read back: its column names, and its rows (in primary-key order).
Snapshot = dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]


@pytest.fixture(params=BACKENDS)
def demo_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    url = fresh_database(request.param, tmp_path, PG_URL, "upgrades")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        result = app.test_cli_runner().invoke(
            args=["seed-demo", "--branches", "40", "--communes", "4", "--months", "4"]
        )
        assert result.exit_code == 0, result.output
        yield app
        db.session.remove()
        db.engine.dispose()


def _revisions() -> list[str]:
    """The chain from head down to the first revision."""
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in script.walk_revisions()]


def _current() -> str:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def _snapshot() -> Snapshot:
    """Every table's rows, read without the models (the schema may be an older one)."""
    out: Snapshot = {}
    with db.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            columns = tuple(c["name"] for c in inspector.get_columns(table))
            key = inspector.get_pk_constraint(table).get("constrained_columns") or list(columns)
            quoted = ", ".join(f'"{c}"' for c in columns)
            order = ", ".join(f'"{c}"' for c in key)
            rows = conn.execute(sa.text(f'SELECT {quoted} FROM "{table}" ORDER BY {order}'))
            out[table] = (columns, [tuple(r) for r in rows])
    return out


def _project(snapshot: Snapshot, table: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """``table``'s rows at head, in the columns an older revision has."""
    names, rows = snapshot[table]
    at = [names.index(c) for c in columns]
    return [tuple(row[i] for i in at) for row in rows]


def test_every_earlier_revision_upgrades_to_head_without_loss(demo_app: Flask) -> None:
    revisions = _revisions()
    head = revisions[0]
    assert _current() == head
    at_head = _snapshot()
    # The demo fills what the checks below look at.
    for table in ("unit", "evaluation", "evaluation_answer", "branch_status"):
        assert at_head[table][1], f"the demo left {table} empty"
    states = at_head["branch_status"]

    for revision in revisions[1:]:  # newest first, down to the initial schema
        downgrade(revision=revision)
        assert _current() == revision
        before = _snapshot()
        assert before["branch_status"][1], "the branches' states were lost on the way down"

        upgrade()
        assert _current() == head
        after = _snapshot()
        for table, (columns, rows) in before.items():
            assert table in after, f"{table} disappeared on the way up from {revision}"
            assert set(columns) <= set(after[table][0]), f"{table} lost columns from {revision}"
            moved = _project(after, table, columns)
            assert len(moved) == len(rows), f"{table}: row count changed from {revision}"
            assert moved == rows, f"{table}: rows changed on the way up from {revision}"
        # Every branch's state (its flag, its run, since when) is what it was at head.
        assert _project(after, "branch_status", states[0]) == states[1], revision

        downgrade(revision=revision)  # and on down from there
