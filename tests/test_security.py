"""Hardening: security headers and cookies, rate limits, the password policy, the audit script.

The authorization matrix is tests/test_authz_matrix.py; the browser's view of the
Content-Security-Policy (no violation on any key page) is tests/browser/test_security_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso import config
from coso.extensions import db
from coso.security import CSP_DIRECTIVES
from coso.users import imports as user_imports
from coso.users.rules import COMMON, generate_password
from coso.users.words import password_problems
from tests.admin_support import csv_bytes, post, upload
from tests.builders import PASSWORD, small_province
from tests.conftest import AuthActions
from tests.test_authz_matrix import FIXED_ARGS, RULES, build_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def province(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        return {"branch_id": data["branches"][0].id}


# ------------------------------------------------------------------ headers


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/api/v1/session", "/sw.js", "/static/css/coso.css", "/nope"]
)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    response.close()
    policy = _csp(response)
    assert policy == CSP_DIRECTIVES
    for directive in ("script-src", "style-src", "default-src"):
        assert policy[directive] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_errors_and_rate_limits_carry_the_headers_too(
    app: Flask, client: FlaskClient, auth: AuthActions, province: dict
) -> None:
    app.config["LOGIN_FAIL_LIMITS"] = "1 per minute"
    auth.login("cadre", "wrong-password")
    response = auth.login("cadre", "wrong-password")
    assert response.status_code == 429
    assert _csp(response)["frame-ancestors"] == "'none'"


def test_hsts_only_over_https(app: Flask) -> None:
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://coso.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_when_the_deployment_says_https(app: Flask) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True  # COSO_SECURE_COOKIES=1 (production's default)
    assert "max-age=" in app.test_client().get("/login").headers["Strict-Transport-Security"]


def test_forwarded_headers_are_believed_only_from_trusted_proxies(
    _schema: str, tmp_path: Path
) -> None:
    from coso import create_app

    base = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema, "SECRET_KEY": "x"}
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    untrusting = create_app(base).test_client()
    assert "Strict-Transport-Security" not in untrusting.get("/login", headers=forwarded).headers
    trusting = create_app({**base, "TRUSTED_PROXIES": 1}).test_client()
    assert "Strict-Transport-Security" in trusting.get("/login", headers=forwarded).headers


def test_htmx_is_configured_for_the_policy(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    assert meta, "base.html configures htmx"
    settings = json.loads(meta.group(1))
    assert settings["allowEval"] is False  # no eval: hx-on, js: values and filters are off
    assert settings["includeIndicatorStyles"] is False  # else htmx injects an inline <style>
    assert settings["allowScriptTags"] is False


# ------------------------------------------------------------------ no inline script or style

INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"),
    "event handler attribute": re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE),
    "hx-on attribute": re.compile(r"\shx-on[:-]", re.IGNORECASE),
    "javascript: URL": re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "js: value": re.compile(r"hx-(vals|vars)\s*=\s*[\"']\s*(js|javascript):", re.IGNORECASE),
}


def _inline_problems(html: str) -> list[str]:
    return [f"{name}: {m.group(0)[:80]}" for name, p in INLINE.items() for m in p.finditer(html)]


def test_the_inline_detector_catches_what_it_should() -> None:
    for bad in (
        "<script>alert(1)</script>",
        '<button onclick="x()">',
        '<div hx-on:click="x()">',
        '<a href="javascript:x()">',
        '<p style="color:red">',
        "<style>p{}</style>",
    ):
        assert _inline_problems(bad), bad
    assert not _inline_problems('<script src="/static/x.js" defer></script><p data-on="1">')


def _get_urls(sides: dict[str, dict[str, int]]) -> list[str]:
    """Every GET route, with the arguments of objects inside everyone's area."""
    urls = []
    values = {**sides["in"], **FIXED_ARGS}
    for endpoint, rules in sorted(RULES.items()):
        if endpoint == "static":
            continue
        for rule in rules:
            if "GET" in (rule.methods or ()):
                urls.append(
                    re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)
                )
    return urls


@pytest.mark.parametrize("username", ["admin", "province", "commune", "secretary", "cadre", None])
def test_no_page_carries_inline_script_or_style(app: Flask, username: str | None) -> None:
    """Every page each role can open, full and as an htmx fragment, is free of inline code."""
    with app.app_context():
        sides = build_world(app)
    client = app.test_client()
    if username:
        assert AuthActions(client).login(username).status_code == 302
    checked = 0
    problems = []
    for url in _get_urls(sides):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            response.close()
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            checked += 1
            problems += [f"{url}: {p}" for p in _inline_problems(response.get_data(as_text=True))]
    assert checked >= 2
    assert not problems, "\n".join(problems)


def test_the_service_worker_and_scripts_need_no_eval() -> None:
    sources = [ROOT / "templates/offline/sw.js", *sorted((ROOT / "static/js").glob("*.js"))]
    for source in sources:
        text = source.read_text()
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*[\"']", text), source


# ------------------------------------------------------------------ cookies


def _cookie(response: Any, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def test_session_cookies_are_httponly_and_lax(
    client: FlaskClient, auth: AuthActions, province: dict
) -> None:
    response = auth.login("cadre")
    for name in ("session", "remember_token"):
        cookie = _cookie(response, name)
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # not configured here


def test_cookies_are_secure_when_configured(app: Flask, province: dict) -> None:
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    client = app.test_client()
    response = AuthActions(client).login("cadre")
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        cookie = _cookie(response, name)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(("env", "secure"), [("production", True), ("development", False)])
def test_secure_cookies_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str, secure: bool
) -> None:
    monkeypatch.setenv("COSO_ENV", env)
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.delenv("COSO_SECURE_COOKIES", raising=False)
    settings = config.from_environment(tmp_path)
    assert settings["SESSION_COOKIE_SECURE"] is secure
    assert settings["REMEMBER_COOKIE_SECURE"] is secure
    monkeypatch.setenv("COSO_SECURE_COOKIES", "0" if secure else "1")
    assert config.from_environment(tmp_path)["SESSION_COOKIE_SECURE"] is not secure


# ------------------------------------------------------------------ rate limits


def _login_from(client: FlaskClient, address: str, username: str, password: str) -> Any:
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_login_throttle_per_address(app: Flask, client: FlaskClient, province: dict) -> None:
    """Wrong passwords for many accounts from one address: that address waits, others do not."""
    app.config["LOGIN_FAIL_LIMITS_PER_ADDRESS"] = "3 per minute"
    for username in ("cadre", "province", "commune"):
        assert _login_from(client, "198.51.100.1", username, "wrong-pw").status_code == 200
    response = _login_from(client, "198.51.100.1", "secretary", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "từ địa chỉ này" in response.get_data(as_text=True)  # says why, in Vietnamese
    other = app.test_client()
    assert _login_from(other, "198.51.100.2", "secretary", PASSWORD).status_code == 302


def test_login_throttle_per_account_across_addresses(
    app: Flask, client: FlaskClient, province: dict
) -> None:
    """Guessing one account's password from many addresses holds that account, for browsers
    it never signed in on (its owner's known devices: tests/test_sessions.py)."""
    app.config["LOGIN_FAIL_LIMITS_PER_ACCOUNT"] = "3 per minute"
    for i in range(3):
        assert _login_from(client, f"198.51.100.{i + 10}", "cadre", "wrong-pw").status_code == 200
    response = _login_from(client, "198.51.100.99", "cadre", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert _login_from(client, "198.51.100.99", "province", PASSWORD).status_code == 302


def test_sync_limit_is_per_user(app: Flask, province: dict) -> None:
    """One user's burst does not hold back another user on the same address."""
    app.config["SYNC_LIMIT"] = "1 per minute"
    clients = {}
    for username in ("cadre", "cadre_b"):
        clients[username] = app.test_client()
        assert AuthActions(clients[username]).login(username).status_code == 302

    def sync(username: str) -> Any:
        c = clients[username]
        token = c.get("/api/v1/session").get_json()["csrf_token"]
        return c.post("/api/v1/sync", data="{}", headers={"X-CSRFToken": token})

    assert sync("cadre").status_code == 400  # counted, then refused as malformed
    limited = sync("cadre")
    assert limited.status_code == 429 and limited.is_json
    assert int(limited.headers["Retry-After"]) > 0
    assert sync("cadre_b").status_code == 400


# ------------------------------------------------------------------ password policy


@pytest.mark.parametrize(
    ("password", "username", "fragment"),
    [
        ("short", "", "at least 8 characters"),
        ("12345678901", "", "only digits"),
        ("Mat-Khau 123", "", "too common"),
        ("PASSWORD", "", "too common"),
        ("cosodemo", "", "too common"),
        ("aaaaaaaaaa", "", "different characters"),
        ("abababab", "", "different characters"),
        ("nguyen.van.a", "nguyen.van.a", "not be the username"),
        ("nguyenvana-2026", "nguyen.van.a", "not contain the username"),
        ("x" * 201, "", "at most 200"),
    ],
)
def test_weak_passwords_are_refused(
    app_ctx: Flask, password: str, username: str, fragment: str
) -> None:
    with app_ctx.test_request_context(headers={"Accept-Language": "en"}):
        from flask import session

        session["lang"] = "en"
        problems = password_problems(password, username)
    assert any(fragment in problem for problem in problems), problems


@pytest.mark.parametrize("password", [PASSWORD, "mat-khau-moi-1", "Hoa sen nở 2026", "ab12cd34"])
def test_good_passwords_pass(app_ctx: Flask, password: str) -> None:
    with app_ctx.test_request_context():
        assert password_problems(password, "cadre") == []


def test_generated_passwords_meet_the_policy(app_ctx: Flask) -> None:
    with app_ctx.test_request_context():
        for _ in range(50):
            assert password_problems(generate_password()) == []
    assert "matkhau123" in COMMON


WEAK = "matkhau123"
WEAK_VI = "Mật khẩu này quá phổ biến"


@pytest.fixture
def admin(client: FlaskClient, auth: AuthActions, province: dict) -> FlaskClient:
    auth.login("admin")
    return client


def test_policy_on_create_user(admin: FlaskClient) -> None:
    form = {"username": "moi", "display_name": "Mới", "roles": ["cadre"], "unit_code": "XA-A"}
    response = post(admin, "/admin/users/new", {**form, "password": WEAK, "password2": WEAK})
    assert response.status_code == 422
    assert WEAK_VI in response.get_data(as_text=True)


def test_policy_on_reset(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        from coso.models import User

        user_id = db.session.scalar(db.select(User.id).where(User.username == "cadre"))
    response = post(
        admin, f"/admin/users/{user_id}/password", {"password": WEAK, "password2": WEAK}
    )
    assert response.status_code == 422
    assert WEAK_VI in response.get_data(as_text=True)
    assert AuthActions(admin.application.test_client()).login("cadre", WEAK).status_code == 200


def test_policy_on_import(admin: FlaskClient) -> None:
    rows = [list(user_imports.COLUMNS), ["moi", "Mới", "cadre", "XA-A", WEAK, ""]]
    response = upload(admin, "/admin/users/import", "users.csv", csv_bytes(rows))
    assert response.status_code == 422
    assert WEAK_VI in response.get_data(as_text=True)


def test_policy_on_the_command_line(app: Flask, province: dict) -> None:
    args = ["create-user", "moi", "--roles", "cadre", "--unit", "XA-A", "--password", WEAK]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert WEAK_VI in result.output
    args[-1] = "hoa-sen-no-2026"
    assert app.test_cli_runner().invoke(args=args).exit_code == 0


# ------------------------------------------------------------------ the dependency audit


def _fake_pip_audit(tmp_path: Path, report: dict[str, Any] | None, stderr: str = "") -> Path:
    """A stand-in for pip-audit that writes ``report`` where --output points."""
    script = tmp_path / "pip-audit"
    body = json.dumps(report) if report is not None else ""
    script.write_text(
        "#!/usr/bin/env bash\n"
        'while [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done\n'
        f"printf '%s' {json.dumps(body)} > \"$out\"\n"
        f"printf '%s' {json.dumps(stderr)} >&2\n"
        f"exit {1 if report and any(d.get('vulns') for d in report['dependencies']) else 0}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _audit(fake: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_AUDIT": str(fake)}
    return subprocess.run(
        [str(ROOT / ".ci/audit")], env=env, capture_output=True, text=True, timeout=60
    )


def test_audit_fails_on_a_vulnerability(tmp_path: Path) -> None:
    vuln = {"id": "PYSEC-0000-1", "fix_versions": ["3.1.99"], "aliases": ["CVE-0000-1"]}
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": [vuln]},
            {"name": "jinja2", "version": "3.1.6", "vulns": []},
        ]
    }
    result = _audit(_fake_pip_audit(tmp_path, report))
    assert result.returncode == 1
    assert "VULNERABLE flask 3.1.3: PYSEC-0000-1" in result.stdout


def test_audit_says_loudly_when_it_could_not_run(tmp_path: Path) -> None:
    skipped = {"name": "flask", "skip_reason": "Dependency not found on PyPI"}
    result = _audit(_fake_pip_audit(tmp_path, {"dependencies": [skipped]}))
    assert result.returncode == 0
    assert "DEPENDENCY AUDIT BLOCKED" in result.stdout and "NOT a pass" in result.stdout
    unreachable = _fake_pip_audit(tmp_path, None, "requests.exceptions.ConnectionError: osv")
    result = _audit(unreachable)
    assert result.returncode == 0 and "DEPENDENCY AUDIT BLOCKED" in result.stdout


def test_audit_passes_a_clean_lock(tmp_path: Path) -> None:
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}
    result = _audit(_fake_pip_audit(tmp_path, report))
    assert result.returncode == 0
    assert "no known vulnerabilities" in result.stdout and "BLOCKED" not in result.stdout


def test_the_lock_pins_every_runtime_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pins = {
        re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
        for line in lines
        if line and not line.startswith("#")
    }
    assert all("==" in line for line in lines if line and not line.startswith("#"))
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0]
        assert re.sub(r"[-_.]+", "-", name).lower() in pins, name
