"""``flask --app app backup PATH`` and ``flask --app app restore PATH [--force]``.

A backup is a directory:

- ``database.sqlite`` (SQLite's online backup API: one consistent copy while the app writes)
  or ``database.dump`` (``pg_dump -Fc`` of one exported snapshot);
- ``media/``: a copy of ``COSO_MEDIA_DIR`` when it is set and exists;
- ``manifest.json``: the engine, the schema revision (``alembic_version``), every table's
  row count and a digest of its rows in primary-key order, all read from the very snapshot
  that was saved, and the SHA-256 of every file of the backup.

Restore checks the files against the manifest before touching anything, refuses a database
(or media directory) that holds data unless ``--force``, restores, and then reads every
table back and compares counts and digests with the manifest: a restore that says "done"
holds row for row what the snapshot held.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, Connection

from coso.extensions import db
from coso.models.tally_triggers import drop_trigger_statements
from coso.models.visit_days import drop_visit_trigger_statements

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.dump"
MEDIA = "media"
#: Tables that say what the schema is, not what the province did: a database holding only
#: these is empty for ``restore``.
BOOKKEEPING = {"alembic_version"}


class BackupError(click.ClickException):
    """A refusal or failure told in one line, exit status 1, no traceback."""


# ------------------------------------------------------------------ what a database holds


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def table_contents(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every table's row count and the SHA-256 of its rows in primary-key order."""
    meta = sa.MetaData()
    meta.reflect(bind=conn)
    found: dict[str, dict[str, Any]] = {}
    for name in sorted(meta.tables):
        table = meta.tables[name]
        order = list(table.primary_key.columns) or list(table.columns)
        digest = hashlib.sha256()
        rows = 0
        result = conn.execution_options(yield_per=2000).execute(sa.select(table).order_by(*order))
        for row in result:
            line = json.dumps([_plain(v) for v in row], sort_keys=True, default=str)
            digest.update(line.encode() + b"\n")
            rows += 1
        found[name] = {"rows": rows, "sha256": digest.hexdigest()}
    return found


def schema_revision(conn: Connection) -> list[str]:
    """The Alembic revision(s) the database is at; empty when it was not built by migrations."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return []
    return sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def holds_data(conn: Connection) -> list[str]:
    """The tables (other than the bookkeeping) that hold at least one row."""
    meta = sa.MetaData()
    meta.reflect(bind=conn)
    return [
        name
        for name, table in sorted(meta.tables.items())
        if name not in BOOKKEEPING
        and conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
    ]


# ------------------------------------------------------------------ files


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_dir() -> Path | None:
    value = current_app.config.get("MEDIA_DIR")
    return Path(value) if value else None


def _copy_media(source: Path | None, target: Path) -> list[Path]:
    """Copy the media tree (absent or not set: nothing); the files copied, relative."""
    if source is None or not source.is_dir():
        return []
    shutil.copytree(source, target, symlinks=False)
    return sorted(p.relative_to(target.parent) for p in target.rglob("*") if p.is_file())


# ------------------------------------------------------------------ PostgreSQL tools


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment carrying it (not argv)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str, server_major: int) -> str:
    """The path of ``pg_dump``/``pg_restore``, refused when missing or older than the server."""
    path = shutil.which(name)
    package = f"postgresql-client-{server_major}"
    if path is None:
        raise BackupError(
            f"{name} was not found; install the PostgreSQL client of the server's version "
            f"(Debian: apt-get install {package})."
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    major = int(match.group(1)) if match else 0
    if major < server_major:
        raise BackupError(
            f"{name} {major} is older than the server ({server_major}); "
            f"install {package} (Debian: apt-get install {package})."
        )
    return path


def _server_major(conn: Connection) -> int:
    return int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        tail = " ".join(result.stderr.strip().splitlines()[-3:])
        raise BackupError(f"{what} failed: {tail}")


# ------------------------------------------------------------------ backup


def _snapshot_sqlite(engine: sa.Engine, work: Path) -> tuple[list[str], dict[str, Any]]:
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    target = work / SQLITE_FILE
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        # One step (pages=-1): a read transaction over the whole copy, so the copy is one
        # moment of the database; in WAL mode the app's writers are not held meanwhile.
        source.backup(dest, pages=-1)
    finally:
        dest.close()
        source.close()
    copy = sa.create_engine(f"sqlite:///{target}")
    try:
        with copy.connect() as conn:
            return schema_revision(conn), table_contents(conn)
    finally:
        copy.dispose()


def _snapshot_postgresql(engine: sa.Engine, work: Path) -> tuple[list[str], dict[str, Any]]:
    uri, env = _libpq(engine.url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            pg_dump = _tool("pg_dump", _server_major(conn))
            # pg_dump reads the very snapshot this transaction counts.
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            argv = [pg_dump, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
            _run([*argv, "-f", str(work / PG_FILE), "--dbname", uri], env, "pg_dump")
            return schema_revision(conn), table_contents(conn)


def make_backup(path: Path) -> dict[str, Any]:
    """Write a backup directory at ``path`` (which must not exist, or be empty)."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} already exists and is not empty; choose a new path.")
    work = path.parent / f".{path.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        engine = db.engine
        kind = engine.dialect.name
        if kind == "sqlite":
            revision, tables = _snapshot_sqlite(engine, work)
        elif kind == "postgresql":
            revision, tables = _snapshot_postgresql(engine, work)
        else:
            raise BackupError(f"Backups of {kind} databases are not supported.")
        files = [Path(SQLITE_FILE if kind == "sqlite" else PG_FILE)]
        files += _copy_media(media_dir(), work / MEDIA)
        manifest = {
            "format": FORMAT,
            "app": "coso",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": kind,
            "schema_revision": revision,
            "tables": tables,
            "files": {str(f): sha256_file(work / f) for f in files},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if path.exists():
            path.rmdir()
        work.rename(path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


# ------------------------------------------------------------------ restore


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup whose every file is present and intact."""
    if not path.is_dir():
        raise BackupError(f"No backup at {path}.")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        ok = (
            manifest.get("format") == FORMAT
            and manifest.get("engine") in ("sqlite", "postgresql")
            and isinstance(manifest.get("tables"), dict)
            and isinstance(manifest.get("files"), dict)
        )
    except (OSError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise BackupError(f"{path} is not a coso backup: its {MANIFEST} is missing or unreadable.")
    for name, expected in sorted(manifest["files"].items()):
        file = path / name
        if ".." in Path(name).parts or not file.is_file():
            raise BackupError(f"The backup is damaged: {name} is missing.")
        if sha256_file(file) != expected:
            raise BackupError(f"The backup is damaged: {name} does not match its checksum.")
    return manifest


def _restore_sqlite(engine: sa.Engine, source: Path) -> None:
    target = engine.url.database
    if not target or target == ":memory:":
        raise BackupError("Cannot restore into an in-memory SQLite database.")
    engine.dispose()
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        src.backup(dest, pages=-1)
    finally:
        dest.close()
        src.close()


def _restore_postgresql(engine: sa.Engine, dump: Path) -> None:
    with engine.begin() as conn:
        pg_restore = _tool("pg_restore", _server_major(conn))
        meta = sa.MetaData()
        meta.reflect(bind=conn)
        meta.drop_all(bind=conn)  # only reached on an empty database or with --force
        dialect = conn.dialect.name
        for statement in drop_trigger_statements(dialect) + drop_visit_trigger_statements(dialect):
            conn.exec_driver_sql(statement)  # the dump makes them again
    engine.dispose()
    uri, env = _libpq(engine.url)
    argv = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction"]
    _run([*argv, "--exit-on-error", "--dbname", uri, str(dump)], env, "pg_restore")


def _restore_media(path: Path, manifest: dict[str, Any]) -> int:
    names = [n for n in manifest["files"] if Path(n).parts[0] == MEDIA]
    target = media_dir()
    if target is None:
        return 0
    shutil.rmtree(target, ignore_errors=True)
    if names:
        shutil.copytree(path / MEDIA, target)
    else:
        target.mkdir(parents=True, exist_ok=True)
    return len(names)


def restore_backup(path: Path, force: bool) -> dict[str, Any]:
    """Restore ``path`` into the configured database (and media directory), then verify."""
    manifest = read_manifest(path)
    engine = db.engine
    kind = engine.dialect.name
    if manifest["engine"] != kind:
        raise BackupError(
            f"This backup is of a {manifest['engine']} database; the app uses {kind}."
        )
    media = media_dir()
    has_media = any(Path(n).parts[0] == MEDIA for n in manifest["files"])
    if has_media and media is None:
        raise BackupError("The backup holds media files: set COSO_MEDIA_DIR to restore them.")
    with engine.connect() as conn:
        full = holds_data(conn)
    if media is not None and media.is_dir() and any(media.iterdir()):
        full.append(f"the media directory {media}")
    if full and not force:
        raise BackupError(
            "The database is not empty (" + ", ".join(full[:5]) + "); "
            "run with --force to replace it with the backup."
        )
    db.session.remove()
    if kind == "sqlite":
        _restore_sqlite(engine, path / SQLITE_FILE)
    else:
        _restore_postgresql(engine, path / PG_FILE)
    restored_media = _restore_media(path, manifest)
    with engine.connect() as conn:
        found = table_contents(conn)
    wrong = sorted(
        name
        for name in set(found) | set(manifest["tables"])
        if found.get(name) != manifest["tables"].get(name)
    )
    if wrong:
        raise BackupError("Restored, but these tables differ from the backup: " + ", ".join(wrong))
    if media is not None:
        for name, expected in manifest["files"].items():
            if Path(name).parts[0] == MEDIA:
                copy = media / Path(name).relative_to(MEDIA)
                if not copy.is_file() or sha256_file(copy) != expected:
                    raise BackupError(f"Restored, but the media file {name} differs.")
    return {"tables": found, "media": restored_media}


# ------------------------------------------------------------------ commands


def _rows(tables: dict[str, Any]) -> int:
    return sum(t["rows"] for t in tables.values())


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent backup (database, media, manifest) into the new directory PATH."""
    manifest = make_backup(path)
    click.echo(
        f"Backup written to {path}: {manifest['engine']}, schema "
        f"{', '.join(manifest['schema_revision']) or '(no revision)'}, "
        f"{len(manifest['tables'])} tables, {_rows(manifest['tables'])} rows, "
        f"{len(manifest['files']) - 1} media files."
    )


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore the backup at PATH, then check every table against its manifest."""
    done = restore_backup(path, force)
    click.echo(
        f"Restored {path}: {len(done['tables'])} tables, {_rows(done['tables'])} rows and "
        f"{done['media']} media files, each table checked against the manifest."
    )


def init_app(app: Flask) -> None:
    for command in (backup_command, restore_command):
        app.cli.add_command(command)
