"""A seeded database made once per worker and database, then put back row for row.

Seeding the demo province through the services (every evaluation scored, every tally and
flag kept by the triggers) costs 0.8 s a test on SQLite and 2 s on PostgreSQL, and some 250
tests of each backend start from the same seed. The first test that asks for a seed runs it
and takes every row of every table (and where PostgreSQL's sequences stood); each later
one, on the emptied tables the ``app`` fixture leaves, inserts those rows again with the
tables' triggers held off, so the tallies come back as they were taken, not counted twice.

What a test gets is the same database either way: the rows, their ids, and the next id each
table hands out. A seed asked for over tables that are not empty is run, not restored.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from coso.extensions import db, insert_all

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """Every table's rows (columns in the table's order), each sequence's value and whether
    it was handed out (PostgreSQL), and what the seed returned."""

    rows: dict[str, list[tuple[object, ...]]]
    sequences: list[tuple[str, int, bool]]
    returned: Any = None


_TAKEN: dict[tuple[str, Hashable], Snapshot] = {}

_SEQUENCES = sa.text(
    "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences"
    " WHERE schemaname = current_schema()"
)
_SET_SEQUENCES = sa.text(
    "SELECT setval(CAST(name AS regclass), value, called)"
    " FROM unnest(CAST(:names AS text[]), CAST(:values AS bigint[]), CAST(:called AS boolean[]))"
    " AS s(name, value, called)"
)


def seeded(key: Hashable, seed: Callable[[], T]) -> T:
    """Run ``seed`` (it commits what it writes) the first time, or put back what it wrote;
    either way return what it returned the first time.

    ``key`` names the seed and its arguments; snapshots are kept per database URL, so each
    backend (and each xdist worker, a process of its own) takes its own.
    """
    engine = db.engine
    url = engine.url.render_as_string(hide_password=False)
    if not _empty(engine):
        return seed()
    snapshot = _TAKEN.get((url, key))
    if snapshot is None:
        returned = seed()
        db.session.remove()
        _TAKEN[(url, key)] = _take(engine, returned)
        return returned
    db.session.remove()
    _put_back(engine, snapshot)
    return snapshot.returned  # type: ignore[no-any-return]


def _empty(engine: sa.Engine) -> bool:
    tables = db.metadata.sorted_tables
    anything = sa.or_(*(sa.exists(sa.select(sa.literal(1)).select_from(t)) for t in tables))
    with engine.connect() as conn:
        return not conn.execute(sa.select(anything)).scalar_one()


def _take(engine: sa.Engine, returned: object) -> Snapshot:
    rows: dict[str, list[tuple[object, ...]]] = {}
    sequences: list[tuple[str, int, bool]] = []
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            found = conn.execute(sa.select(*table.columns)).all()
            if found:
                rows[table.name] = [tuple(row) for row in found]
        if engine.dialect.name == "postgresql":
            for name in conn.execute(_SEQUENCES).scalars().all():
                value, called = conn.exec_driver_sql(
                    f"SELECT last_value, is_called FROM {name}"
                ).one()
                sequences.append((name, int(value), bool(called)))
    return Snapshot(rows=rows, sequences=sequences, returned=returned)


def _put_back(engine: sa.Engine, snapshot: Snapshot) -> None:
    """Insert the snapshot's rows, parents first, with the triggers held off."""
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        triggers: list[tuple[str, str]] = []
        if postgresql:
            # Neither the tallies' triggers nor the foreign keys' run for this transaction.
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            found_triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            )
            triggers = [(name, sql) for name, sql in found_triggers]
            for name, _sql in triggers:
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for table in db.metadata.sorted_tables:
            found = snapshot.rows.get(table.name)
            if found:
                keys = [column.key for column in table.columns]
                insert_all(conn, table, [dict(zip(keys, row, strict=True)) for row in found])
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)
        if snapshot.sequences:
            names, values, called = zip(*snapshot.sequences, strict=True)
            conn.execute(
                _SET_SEQUENCES,
                {"names": list(names), "values": list(values), "called": list(called)},
            )
