"""deploy/ as written: the environment file names every setting the Caddyfile and the app need,
Caddy accepts the Caddyfile with it, and systemd accepts the units (issue 23, item 1).

The topology test runs Caddy and the app from these files; systemd itself cannot run here, so
its units are checked with ``systemd-analyze verify`` (missing /opt/coso is expected).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from coso.config import from_environment
from tests.topology import DEPLOY, REQUIRE, read_env_file

CADDYFILE = (DEPLOY / "Caddyfile").read_text()


def test_env_file_names_every_caddy_placeholder_without_default() -> None:
    env = read_env_file(DEPLOY / "coso.env")
    required = set(re.findall(r"\{\$(COSO_\w+)\}", CADDYFILE))
    assert required == {"COSO_SITE", "COSO_TLS", "COSO_UPSTREAMS"}
    assert required <= set(env), required - set(env)
    assert env["COSO_UPSTREAMS"].split() == ["127.0.0.1:8001", "127.0.0.1:8002"]


def test_env_file_makes_a_production_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = read_env_file(DEPLOY / "coso.env")
    assert env["SECRET_KEY"] == "", "the template holds no secret"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        from_environment(tmp_path)  # refused until the operator fills it in
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    config = from_environment(tmp_path)
    assert config["COSO_ENV"] == "production"
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["TRUSTED_PROXIES"] == 1
    assert config["RATELIMIT_STORAGE_URI"] == env["REDIS_URL"]
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


@pytest.mark.skipif(
    shutil.which("caddy") is None and not REQUIRE, reason="caddy is not installed"
)  # CI sets COSO_REQUIRE_CADDY: a missing Caddy there fails the test instead
def test_caddy_accepts_the_caddyfile_with_the_env_file(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **read_env_file(DEPLOY / "coso.env")}
    result = subprocess.run(
        ["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"dial":"127.0.0.1:8001"' in result.stdout
    assert '"dial":"127.0.0.1:8002"' in result.stdout
    assert '"coso.example.org"' in result.stdout


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    shutil.copy(DEPLOY / "coso@.service", tmp_path / "coso@8001.service")
    units = ["coso@8001.service", "coso-migrate.service", "coso-notifications.service"]
    for unit in units[1:]:
        shutil.copy(DEPLOY / unit, tmp_path / unit)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "is not executable: No such file or directory" not in line
    ]
    assert not complaints, complaints


def test_the_worker_unit_runs_the_worker_with_the_apps_environment() -> None:
    app_unit = (DEPLOY / "coso@.service").read_text()
    unit = (DEPLOY / "coso-notifications.service").read_text()
    assert "EnvironmentFile=/etc/coso/coso.env" in app_unit
    assert "EnvironmentFile=/etc/coso/coso.env" in unit
    assert "ExecStart=/opt/coso/.venv/bin/flask --app app notifications run\n" in unit
    assert "KillSignal=SIGTERM" in unit  # the worker finishes the notice in hand
