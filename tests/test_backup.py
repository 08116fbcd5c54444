"""Backup and restore (issue 23, item 3): a snapshot taken while evaluations keep arriving,
restored into a fresh database of each engine, compared table by table and row for row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from coso import create_app
from coso.backup import table_contents
from coso.evaluations import service
from coso.extensions import db
from coso.models import Evaluation, User
from tests.builders import payload, small_province, with_checklist
from tests.conftest import BACKENDS, PG_URL
from tests.support import ROOT, fresh_database, pg_url

#: Tables the writer changes in place (a branch's flag row follows its evaluations): the
#: restored rows of every other table must be found, unchanged, in the source afterwards.
UPDATED_IN_PLACE = {
    "branch_status",
    "evaluation_tally",
    "answer_tally",
    "visit_day_tally",
}  # counts kept current


def _app(url: str, media: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MEDIA_DIR": str(media),
        }
    )


def _drop(url: str) -> None:
    if url.startswith("sqlite"):
        return
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(pg_url(PG_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A source and an empty target database of one engine; dropped afterwards."""
    source = fresh_database(request.param, tmp_path, PG_URL, "bsrc")
    target = fresh_database(request.param, tmp_path, PG_URL, "bdst")
    yield source, target
    _drop(source)
    _drop(target)


class Writer(threading.Thread):
    """Evaluations through the real service, a batch of five at a time, until stopped."""

    def __init__(self, app: Flask, cadre_id: int, item_args: tuple[int, int, int]) -> None:
        super().__init__(daemon=True)
        self.app, self.cadre_id, self.item_args = app, cadre_id, item_args
        self.stop = threading.Event()
        self.batches = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with self.app.test_request_context():
                    cadre = db.session.get(User, self.cadre_id)
                    items = [payload(*self.item_args) for _ in range(5)]
                    results = service.submit_batch(items, cadre)
                    assert {r.status for r in results} == {"created"}, results
                    db.session.commit()
                    db.session.remove()
                self.batches += 1
        except BaseException as exc:  # reported by the test
            self.error = exc

    def wait_for(self, batches: int) -> None:
        deadline = time.monotonic() + 60
        while self.batches < batches and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None, self.error
        assert self.batches >= batches, "the writer is stuck"


def _rows(app: Flask) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """Every row of every table, by primary key."""
    with app.app_context(), db.engine.connect() as conn:
        meta = sa.MetaData()
        meta.reflect(bind=conn)
        found = {}
        for name, table in meta.tables.items():
            key = list(table.primary_key.columns) or list(table.columns)
            found[name] = {
                tuple(row._mapping[c.name] for c in key): tuple(row)
                for row in conn.execute(sa.select(table))
            }
        return found


def _evaluations(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) or 0


@pytest.mark.slow
def test_backup_under_write_load_restores_row_for_row(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source_url, target_url = databases
    media = tmp_path / "media"
    (media / "photos").mkdir(parents=True)
    (media / "photos" / "meeting.jpg").write_bytes(os.urandom(4096))
    (media / "note.txt").write_text("biên bản", encoding="utf-8")
    source = _app(source_url, media)
    with source.app_context():
        upgrade()
        data = with_checklist(small_province())
        db.session.commit()
        args = (data["branches"][0].id, data["template"].id, data["guidance"].id)
        cadre_id = data["users"]["cadre"].id
        db.session.remove()

    writer = Writer(source, cadre_id, args)
    writer.start()
    try:
        writer.wait_for(3)
        before, batches = _evaluations(source), writer.batches
        result = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")])
        assert result.exit_code == 0, result.output
        after = _evaluations(source)
        assert writer.batches > batches, "the writer went on while the backup ran"
        writer.wait_for(writer.batches + 3)  # still writing after the snapshot
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    with source.app_context():
        db.engine.dispose()

    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["engine"] == ("sqlite" if source_url.startswith("sqlite") else "postgresql")
    assert len(manifest["schema_revision"]) == 1
    assert before <= manifest["tables"]["evaluation"]["rows"] <= after
    assert set(manifest["files"]) >= {"media/photos/meeting.jpg", "media/note.txt"}

    target_media = tmp_path / "restored-media"
    target = _app(target_url, target_media)
    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert "checked against the manifest" in result.output

    # Row for row: the restored database is the snapshot (its counts and row digests) ...
    with target.app_context(), db.engine.connect() as conn:
        assert table_contents(conn) == manifest["tables"]
    restored, final = _rows(target), _rows(source)
    assert set(restored) == set(final)
    assert len(restored["evaluation"]) < len(final["evaluation"])  # writes went on after it
    # ... and every restored row stands unchanged in the source, written before the snapshot.
    for name, rows in restored.items():
        assert len(rows) == manifest["tables"][name]["rows"], name
        if name not in UPDATED_IN_PLACE:
            changed = [key for key, row in rows.items() if final[name].get(key) != row]
            assert not changed, f"{name}: {changed[:3]}"
    # Each restored evaluation has all its answers (no evaluation caught half-written).
    answers = {key: row for key, row in restored["evaluation_answer"].items()}
    per_evaluation = {key[0]: 0 for key in restored["evaluation"]}
    column = _column_index(target, "evaluation_answer", "evaluation_id")
    for row in answers.values():
        per_evaluation[row[column]] += 1
    assert len(set(per_evaluation.values())) == 1
    assert (target_media / "photos" / "meeting.jpg").read_bytes() == (
        media / "photos" / "meeting.jpg"
    ).read_bytes()
    assert (target_media / "note.txt").read_text(encoding="utf-8") == "biên bản"

    # A database that holds data is not overwritten without --force; with it, it is.
    again = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert again.exit_code == 1 and "not empty" in again.output
    assert isinstance(again.exception, SystemExit)
    forced = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk"), "--force"])
    assert forced.exit_code == 0, forced.output
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


def _column_index(app: Flask, table: str, column: str) -> int:
    with app.app_context(), db.engine.connect() as conn:
        names = [c["name"] for c in sa.inspect(conn).get_columns(table)]
    return names.index(column)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["missing", "manifest", "database", "media"])
def test_damaged_backups_are_refused_before_anything_changes(tmp_path: Path, damage: str) -> None:
    """A missing or corrupt backup: one clear line, exit status 1, the database untouched."""
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.txt").write_text("a")
    source = _app(f"sqlite:///{tmp_path / 'src.sqlite'}", media)
    with source.app_context():
        upgrade()
        with_checklist(small_province())
        db.session.commit()
    backup = tmp_path / "bk"
    assert source.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
    expected = {
        "missing": "No backup at",
        "manifest": "is not a coso backup",
        "database": "database.sqlite does not match its checksum",
        "media": "media/a.txt is missing",
    }[damage]
    if damage == "missing":
        backup = tmp_path / "nothing-here"
    elif damage == "manifest":
        (backup / "manifest.json").write_text("{not json")
    elif damage == "database":
        with (backup / "database.sqlite").open("r+b") as handle:
            handle.seek(200)
            handle.write(b"\xff\xff")
    else:
        (backup / "media" / "a.txt").unlink()
    target = _app(f"sqlite:///{tmp_path / 'dst.sqlite'}", tmp_path / "dst-media")
    result = target.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert expected in result.output
    assert not (tmp_path / "dst-media").exists()
    with target.app_context(), db.engine.connect() as conn:
        assert not sa.inspect(conn).get_table_names()


@pytest.mark.slow
def test_backup_refuses_a_path_in_use_and_the_command_prints_no_traceback(
    tmp_path: Path,
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    for argv in (["backup", str(used)], ["restore", str(tmp_path / "absent")]):
        run = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 1
        assert "Traceback" not in run.stderr
        assert ("not empty" if argv[0] == "backup" else "No backup at") in run.stderr


@pytest.mark.parametrize("installed", [None, "13.14"])
def test_a_missing_or_older_pg_dump_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: str | None
) -> None:
    from coso.backup import BackupError, _tool

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if installed:
        fake = bin_dir / "pg_dump"
        fake.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {installed}'\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(BackupError, match="apt-get install postgresql-client-15"):
        _tool("pg_dump", 15)
    if installed:
        assert _tool("pg_dump", 13) == str(bin_dir / "pg_dump")


@pytest.mark.slow
def test_restore_into_a_migrated_empty_database_needs_no_force(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    """An operator's usual path: a new database, `db upgrade`, then `restore`."""
    source_url, target_url = databases
    source = _app(source_url, tmp_path / "media")
    with source.app_context():
        upgrade()
        with_checklist(small_province())
        db.session.commit()
    assert source.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    target = _app(target_url, tmp_path / "target-media")
    with target.app_context():
        upgrade()
    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert _rows(target) == _rows(source)
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()
