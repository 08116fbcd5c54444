"""Fixtures: an app on a fresh database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from coso import create_app
from coso.extensions import db, limiter
from tests.support import ensure_database, pg_url, without_waiting_for_the_disk, worker_url

# The tests read "today" where the app does: in Vietnam. Without this, date.today() in a
# test and clock.today() in the app disagree from 17:00 to midnight UTC.
os.environ["TZ"] = "Asia/Ho_Chi_Minh"
time.tzset()

#: Under pytest-xdist each worker (gw0, gw1, ...) has databases of its own: its PostgreSQL
#: database is ``<COSO_TEST_DATABASE_URL's database>_<worker>`` (made in pytest_configure),
#: and every database a test derives from it (tests.support.fresh_database) carries the
#: worker's name too. Without xdist, WORKER is empty and nothing changes.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
PG_URL = worker_url(os.environ.get("COSO_TEST_DATABASE_URL", "").strip(), WORKER)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    if PG_URL and WORKER:
        ensure_database(PG_URL)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per backend for the whole run; tables are emptied between tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    return pg_url(PG_URL)


@pytest.fixture(scope="session")
def _schema(database_url: str) -> str:
    """Create the schema once per backend from the models (migrations are tested apart)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        if db.engine.dialect.name == "postgresql":
            without_waiting_for_the_disk(db.engine)
        db.engine.dispose()
    return database_url


def _config(database_url: str) -> dict[str, object]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


@pytest.fixture(scope="session")
def _shared_app(_schema: str) -> Iterator[Flask]:
    """One app per backend for the whole run: building one (158 URL rules compiled, every
    blueprint registered) costs more than most tests, so each test borrows this one."""
    app = create_app(_config(_schema))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(_shared_app: Flask) -> Iterator[Flask]:
    """The app over empty tables (emptied before each test: what the last one left goes).

    What a test may change is put back afterwards: the configuration, the rate limits
    counted so far and the database session; the app holds no other state between requests.
    """
    app = _shared_app
    config = dict(app.config)
    limiter.reset()
    with app.app_context():
        _empty_tables()
    yield app
    app.config.clear()
    app.config.update(config)
    with app.app_context():
        db.session.remove()


#: Every sequence PostgreSQL has handed out a value from, set back to start again at 1.
_RESTART_USED_SEQUENCES = (
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false)"
    " FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


def _empty_tables() -> None:
    """Delete every row, children first, and let ids start again at 1 as on a new database.

    A DELETE of a few rows is far quicker than PostgreSQL's TRUNCATE, which makes new files
    for every table (~100 ms a test for the schema's tables); SQLite reuses ids by itself.
    On PostgreSQL the deletes go as one string, one round trip (13 → 5 ms a test).
    """
    engine = db.engine
    tables = list(reversed(db.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            deletes = "; ".join(f'DELETE FROM "{table.name}"' for table in tables)
            conn.exec_driver_sql(f"{deletes}; {_RESTART_USED_SEQUENCES}".replace("%", "%%"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class AuthActions:
    """Sign in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str = "cadre", password: str = "coso-test-pw"):  # type: ignore[no-untyped-def]
        self._client.get("/login")
        return self._client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.csrf_token()},
        )

    def csrf_token(self) -> str:
        response = self._client.get("/api/v1/session")
        if response.status_code == 200:
            return response.get_json()["csrf_token"]
        page = self._client.get("/login").get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, "login page carries a csrf_token"
        return match.group(1)

    def logout(self):  # type: ignore[no-untyped-def]
        return self._client.post("/logout", data={"csrf_token": self.csrf_token()})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)
