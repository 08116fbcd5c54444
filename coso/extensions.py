"""Flask extensions as module-level singletons, bound to the app in the factory."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


#: How long a request waits for SQLite's write lock before giving up (then 503, Retry-After).
BUSY_TIMEOUT_MS = 15000


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    """WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.

    pysqlite's own transaction handling is switched off so that ``_sqlite_begin``
    decides how each transaction starts.
    """

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()


def _postgresql_settings(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    """Three planner settings for every PostgreSQL session (issue 22, item 2; bench/README.md).

    - No JIT compilation: the app's queries are short, and past the planner's
      ``jit_above_cost`` (a province's year of evaluations at the national scale) compiling
      took 150–250 ms of a 100 ms query.
    - ``random_page_cost`` 1.1, the usual value for SSDs: at the default 4 the planner scanned
      the whole country's branch states to count one province's (143–266 ms against 53–81).
    - ``parallel_setup_cost`` 25,000 (default 1,000): a province's 7,500 branches were read by
      parallel workers, whose start cost more than they saved (a flagged list's three queries
      22–26 ms each, 15–21 serial); the whole country's scans stay parallel.
    """
    if type(dbapi_connection).__module__.startswith("psycopg"):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET jit = off")
        dbapi_connection.execute("SET random_page_cost = 1.1")
        dbapi_connection.execute("SET parallel_setup_cost = 25000")
        dbapi_connection.autocommit = autocommit


def among(column: Any, values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL one array parameter, ``column = ANY(:values)``.

    An IN list is a new statement for each number of values: SQLAlchemy renders and psycopg
    parses a placeholder per value on every execution, and the server plans it anew (at the
    national scale 0.3 s of a province's field pack of 3,000 branches). With one array the
    statement's text never changes: compiled once, and prepared by psycopg once it recurs.
    """
    values = list(values)
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(values)  # type: ignore[no-any-return]
    array = sa.bindparam(None, values, type_=postgresql.ARRAY(column.type))
    return column == sa.any_(array)  # type: ignore[no-any-return]


def insert_all(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``: on PostgreSQL one statement.

    ``executemany`` sends one INSERT per row, and a statement trigger (the tallies') fires once
    for each: a batch's 1,050 answers were 1,050 trigger runs. On PostgreSQL the rows go as one
    array per column, ``INSERT .. SELECT * FROM unnest(..)``: one statement whose text never
    changes with the number of rows. SQLite's triggers are row triggers; it keeps executemany.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), rows)
        return
    names = list(rows[0])
    connection.execute(sa.insert(table).from_select(names, unnested(table, rows)))


def insert_new(
    connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *returning: Any
) -> list[sa.Row[Any]]:
    """Insert ``rows`` but those a unique key already holds (ON CONFLICT DO NOTHING); the
    ``returning`` columns of the rows inserted. On PostgreSQL one ``unnest`` statement, on
    SQLite executemany with RETURNING (compiled once)."""
    if not rows:
        return []
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(table).from_select(list(rows[0]), unnested(table, rows))
        return list(connection.execute(statement.on_conflict_do_nothing().returning(*returning)))
    statement = sqlite.insert(table).on_conflict_do_nothing().returning(*returning)
    return list(connection.execute(statement, rows))


def unnested(table: sa.Table, rows: list[dict[str, Any]]) -> sa.Select[Any]:
    """PostgreSQL: ``SELECT * FROM unnest(:column_1, :column_2, ..)`` of ``rows`` (dicts with the
    same keys), one array parameter per column typed as ``table``'s column, in ``rows``' order.

    A JSON column goes as an array of its JSON texts, cast back to the column's type: an
    array of JSON lists would be read as one array of more dimensions.
    """
    names = list(rows[0])
    arrays, columns = [], []
    for name in names:
        kind = table.c[name].type
        values = [row[name] for row in rows]
        if isinstance(kind, sa.JSON):
            texts = [None if value is None else json.dumps(value) for value in values]
            arrays.append(sa.bindparam(f"all_{name}", texts, type_=postgresql.ARRAY(sa.Text)))
        else:
            arrays.append(sa.bindparam(f"all_{name}", values, type_=postgresql.ARRAY(kind)))
    source = sa.func.unnest(*arrays).table_valued(*names).render_derived()
    for name in names:
        kind = table.c[name].type
        columns.append(
            sa.cast(source.c[name], kind) if isinstance(kind, sa.JSON) else source.c[name]
        )
    return sa.select(*columns)


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    """Requests that write take SQLite's write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads first and writes later fails at once with
    "database is locked" when another process committed in between; taking the
    lock at BEGIN makes concurrent writers wait their turn instead.
    """
    if conn.dialect.name != "sqlite":
        return
    writes = (
        has_request_context()
        and request.method not in ("GET", "HEAD", "OPTIONS")
        and not g.get("coso_reading", False)
    )
    if writes:
        _begin_immediate(conn)
    else:
        conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn) -> None:  # type: ignore[no-untyped-def]
    """BEGIN IMMEDIATE, retried every millisecond or two until the write lock is free.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms
    between tries whatever happens meanwhile: with a few writers queued, a batch
    waited 20-400 ms for a lock that had been free most of that time (measured
    under ``bench ingest``). Trying again at short intervals starts the next writer
    within a couple of milliseconds of the last commit. After ``BUSY_TIMEOUT_MS``
    the last try's "database is locked" goes up as usual (503 with Retry-After).
    """
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.0005
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                busy = isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig)
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _end_clean_transaction() -> None:
    """Commit the session's transaction if it has nothing to write, keeping what it loaded."""
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def read_first() -> None:
    """This request reads before it writes: its first transaction takes no write lock.

    For a request that manages its own writing (``reading_phase`` then a short write):
    without it, a POST's first query — loading the signed-in user — would take
    SQLite's write lock and hold it until the reading phase began.
    """
    g.coso_reading = True


@contextmanager
def reading_phase() -> Iterator[None]:
    """Run the block's queries in a transaction of their own that takes no write lock.

    On SQLite a writing request holds the database's one write lock from its first
    query (see ``_sqlite_begin``); a sync that validates and scores a batch under it
    makes every other writer wait for Python work. Inside this block the request
    reads in a deferred transaction, which ends with the block; the next query
    takes the write lock as usual. Objects loaded inside stay loaded (not expired).
    Nothing may be written inside the block. On PostgreSQL it only ends the
    transactions early, which is harmless.
    """
    if not has_app_context():
        yield
        return
    _end_clean_transaction()
    g.coso_reading = True
    try:
        yield
    finally:
        g.coso_reading = False
        _end_clean_transaction()


def init_db_events() -> None:
    """Hook the connection set-up (SQLite, PostgreSQL) and SQLite's BEGIN on every engine
    (idempotent)."""
    if not event.contains(Engine, "connect", _postgresql_settings):
        event.listen(Engine, "connect", _postgresql_settings)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
        event.listen(Engine, "begin", _sqlite_begin)
