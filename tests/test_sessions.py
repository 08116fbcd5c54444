"""Sign-ins the server can end (issue 17: findings 1, 2, 3, 11, 12, 13).

Every test replays the cookies a browser held, the way the probe did: the ``session``
cookie alone, the ``remember_token`` alone, after logout, a password reset by an
administrator, a spreadsheet import, deactivation (and reactivation), and "sign out
everywhere else" on the page /account/sessions.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, LoginSession, User
from coso.models.types import utcnow
from coso.redirects import safe_next
from coso.sessions import rules
from coso.users.imports import COLUMNS
from tests.admin_support import apply_token, csv_bytes, post, upload
from tests.builders import PASSWORD, small_province
from tests.conftest import AuthActions

SESSION_URL = "/api/v1/session"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        return {name: user.id for name, user in data["users"].items()}


def device(app: Flask, address: str = "127.0.0.1", agent: str = "") -> FlaskClient:
    """A browser of its own (its own cookies), at ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if agent:
        client.environ_base["HTTP_USER_AGENT"] = agent
    return client


def login(client: FlaskClient, username: str = "cadre", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return AuthActions(client).login(username, password)


def cookie(client: FlaskClient, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found is not None else None


def replay(app: Flask, session: str | None = None, remember: str | None = None) -> int:
    """What /api/v1/session answers a fresh browser holding only these cookies."""
    other = app.test_client()
    if session is not None:
        other.set_cookie("session", session)
    if remember is not None:
        other.set_cookie("remember_token", remember)
    return other.get(SESSION_URL).status_code


def signed_in(app: Flask, client: FlaskClient) -> tuple[str | None, str | None]:
    """The two cookies of a signed-in browser; each alone opens the API."""
    held = cookie(client, "session"), cookie(client, "remember_token")
    assert held[0] and held[1]
    assert replay(app, session=held[0]) == 200
    assert replay(app, remember=held[1]) == 200
    return held


def rows(username: str) -> list[LoginSession]:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return list(
        db.session.scalars(
            sa.select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.id)
        )
    )


# ------------------------------------------------------------------ revocation


def test_logout_ends_the_session_and_the_remember_cookie(app: Flask, world: dict) -> None:
    phone = device(app)
    assert login(phone).status_code == 302
    session, remember = signed_in(app, phone)
    assert AuthActions(phone).logout().status_code == 302
    assert phone.get(SESSION_URL).status_code == 401
    assert replay(app, session=session) == 401
    assert replay(app, remember=remember) == 401
    assert replay(app, session=session, remember=remember) == 401
    with app.app_context():
        (row,) = rows("cadre")
        assert row.revoked_at is not None


def test_the_remember_token_is_random_per_login_and_stored_hashed(app: Flask, world: dict) -> None:
    first, second = device(app), device(app)
    login(first), login(second)
    token_one, token_two = cookie(first, "remember_token"), cookie(second, "remember_token")
    assert token_one and token_two and token_one != token_two
    for token in (token_one, token_two):
        key = token.split("|")[0]
        assert key != str(world["cadre"]) and len(key) >= 40
    with app.app_context():
        stored = {row.key_hash for row in rows("cadre")}
        assert len(stored) == 2
        assert all(token.split("|")[0] not in stored for token in (token_one, token_two))
        assert {rules.hash_key(token.split("|")[0]) for token in (token_one, token_two)} == stored


def test_a_forged_or_old_style_remember_cookie_opens_nothing(app: Flask, world: dict) -> None:
    # The old cookie was "<user id>|<hmac of the id>": the id alone is no key any more.
    assert replay(app, remember=f"{world['cadre']}|deadbeef") == 401
    assert replay(app, remember="x" * 500) == 401
    assert replay(app, remember="\u00e9|x") == 401


def test_an_admin_password_reset_ends_every_sign_in_of_that_user(app: Flask, world: dict) -> None:
    phone, laptop, admin = device(app), device(app), device(app)
    login(phone), login(laptop), login(admin, "admin")
    held = [signed_in(app, phone), signed_in(app, laptop)]
    response = post(
        admin,
        f"/admin/users/{world['cadre']}/password",
        {"password": "mot-khau-moi-2026", "password2": "mot-khau-moi-2026"},
    )
    assert response.status_code in (200, 302, 303)
    for session, remember in held:
        assert replay(app, session=session) == 401
        assert replay(app, remember=remember) == 401
    assert phone.get(SESSION_URL).status_code == 401
    assert admin.get(SESSION_URL).status_code == 200  # the administrator's own stays
    # The new password opens a new sign-in.
    assert login(device(app), "cadre", "mot-khau-moi-2026").status_code == 302
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "login.end_all")
        )


def test_changing_my_own_password_keeps_this_sign_in_and_ends_the_others(
    app: Flask, world: dict
) -> None:
    here, elsewhere = device(app), device(app)
    login(here, "admin"), login(elsewhere, "admin")
    other = signed_in(app, elsewhere)
    response = post(
        here,
        f"/admin/users/{world['admin']}/password",
        {"password": "mot-khau-moi-2026", "password2": "mot-khau-moi-2026"},
    )
    assert response.status_code in (200, 302, 303)
    assert here.get(SESSION_URL).status_code == 200
    assert replay(app, session=other[0]) == 401
    assert replay(app, remember=other[1]) == 401


def test_deactivation_ends_the_sessions_and_reactivation_does_not_revive_them(
    app: Flask, world: dict
) -> None:
    phone, admin = device(app), device(app)
    login(phone), login(admin, "admin")
    session, remember = signed_in(app, phone)
    url = f"/admin/users/{world['cadre']}/active"
    assert post(admin, url, {"active": "0"}).status_code == 303
    assert replay(app, session=session) == 401
    assert replay(app, remember=remember) == 401
    assert post(admin, url, {"active": "1"}).status_code == 303
    assert replay(app, session=session) == 401
    assert replay(app, remember=remember) == 401
    assert phone.get(SESSION_URL).status_code == 401
    assert login(device(app)).status_code == 302  # a fresh sign-in works again


def test_an_import_that_sets_a_password_or_deactivates_ends_the_sessions(
    app: Flask, world: dict
) -> None:
    cadre, commune, province = device(app), device(app), device(app)
    login(cadre), login(commune, "commune"), login(province, "province")
    held_cadre, held_commune = signed_in(app, cadre), signed_in(app, commune)
    header = list(COLUMNS)
    assert header[:4] == ["username", "display_name", "roles", "unit_code"]
    content = csv_bytes(
        [header, ["cadre", "", "", "", "mat-khau-moi-9", ""], ["commune", "", "", "", "", "no"]]
    )
    dry = upload(province, "/admin/users/import", "users.csv", content)
    assert dry.status_code == 200
    done = post(
        province,
        "/admin/users/import/apply",
        {"token": apply_token(dry.get_data(as_text=True)), "filename": "users.csv"},
    )
    assert done.status_code == 200
    for session, remember in (held_cadre, held_commune):
        assert replay(app, session=session) == 401
        assert replay(app, remember=remember) == 401
    assert province.get(SESSION_URL).status_code == 200


def test_a_sign_in_unused_for_too_long_ends(app: Flask, world: dict) -> None:
    phone = device(app)
    login(phone)
    session, remember = signed_in(app, phone)
    with app.app_context():
        (row,) = rows("cadre")
        row.last_seen_at = utcnow() - timedelta(days=app.config["LOGIN_SESSION_IDLE_DAYS"] + 1)
        db.session.commit()
    assert replay(app, session=session) == 401
    assert replay(app, remember=remember) == 401


def test_use_is_noted_now_and_then(app: Flask, world: dict) -> None:
    phone = device(app)
    login(phone)
    past = utcnow() - timedelta(hours=1)
    with app.app_context():
        (row,) = rows("cadre")
        row.last_seen_at = past
        db.session.commit()
    assert phone.get("/").status_code == 200
    with app.app_context():
        (row,) = rows("cadre")
        assert row.last_seen_at > past + timedelta(minutes=59)


# ------------------------------------------------------------------ the sessions page


def test_the_sessions_page_lists_mine_and_marks_this_device(app: Flask, world: dict) -> None:
    android = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
    windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
    phone, laptop, stranger = (
        device(app, "10.0.0.5", android),
        device(app, "10.0.0.6", windows),
        device(app),
    )
    login(phone), login(laptop), login(stranger, "province")
    page = phone.get("/account/sessions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count('name="session"') == 1  # only the other one has an "end" button
    assert "Chrome" in text and "Android" in text and "Firefox" in text and "Windows" in text
    assert "10.0.0.6" in text
    assert re.search(r'<li aria-current="true">', text)
    assert "/account/sessions" in phone.get("/").get_data(as_text=True)  # linked from the footer


def test_ending_one_other_session(app: Flask, world: dict) -> None:
    phone, laptop = device(app), device(app)
    login(phone), login(laptop)
    session, remember = signed_in(app, laptop)
    with app.app_context():
        laptop_row = rows("cadre")[1]
    response = post(phone, "/account/sessions/end", {"session": str(laptop_row.id)})
    assert response.status_code == 303
    assert replay(app, session=session) == 401
    assert replay(app, remember=remember) == 401
    assert phone.get(SESSION_URL).status_code == 200


def test_ending_this_device_signs_out(app: Flask, world: dict) -> None:
    phone = device(app)
    login(phone)
    with app.app_context():
        (row,) = rows("cadre")
    response = post(phone, "/account/sessions/end", {"session": str(row.id)})
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]
    assert phone.get(SESSION_URL).status_code == 401


def test_nobody_ends_another_users_session(app: Flask, world: dict) -> None:
    victim, other = device(app), device(app)
    login(victim), login(other, "cadre_b")
    with app.app_context():
        (row,) = rows("cadre")
    for value in (str(row.id), "", "abc", "9" * 40, "9" * 12, "-1", "\u0661"):
        response = post(other, "/account/sessions/end", {"session": value})
        assert response.status_code == 303
    assert victim.get(SESSION_URL).status_code == 200


def test_end_all_others_keeps_this_device(app: Flask, world: dict) -> None:
    here, lost_phone, laptop, someone = device(app), device(app), device(app), device(app)
    for client in (here, lost_phone, laptop):
        login(client)
    login(someone, "cadre_b")
    held = [signed_in(app, lost_phone), signed_in(app, laptop)]
    response = post(here, "/account/sessions/end-others")
    assert response.status_code == 303
    assert here.get(SESSION_URL).status_code == 200
    for session, remember in held:
        assert replay(app, session=session) == 401
        assert replay(app, remember=remember) == 401
    assert someone.get(SESSION_URL).status_code == 200
    page = here.get("/account/sessions").get_data(as_text=True)
    assert 'name="session"' not in page


def test_the_sessions_page_speaks_vietnamese_and_english(app: Flask, world: dict) -> None:
    phone = device(app)
    login(phone)
    assert "Các lần đăng nhập" in phone.get("/account/sessions").get_data(as_text=True)
    post(phone, "/lang", {"lang": "en", "next": "/account/sessions"})
    assert "Your sign-ins" in phone.get("/account/sessions").get_data(as_text=True)


# ------------------------------------------------------------------ the session at login


def test_a_pre_login_csrf_token_is_refused_after_login(app: Flask, world: dict) -> None:
    browser = device(app)
    page = browser.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    before = match.group(1)
    response = browser.post(
        "/login", data={"username": "cadre", "password": PASSWORD, "csrf_token": before}
    )
    assert response.status_code == 302
    stale = browser.post("/lang", data={"lang": "en", "next": "/", "csrf_token": before})
    assert stale.status_code in (400, 403)
    fresh = browser.get(SESSION_URL).get_json()["csrf_token"]
    assert browser.post("/lang", data={"lang": "en", "csrf_token": fresh}).status_code == 302


def test_the_language_chosen_before_login_survives_it(app: Flask, world: dict) -> None:
    browser = device(app)
    token = AuthActions(browser).csrf_token()
    browser.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": token})
    login(browser)
    assert 'lang="en"' in browser.get("/").get_data(as_text=True)


def test_the_sync_api_keeps_working_with_the_cookie_login(app: Flask, world: dict) -> None:
    phone = device(app)
    login(phone)
    info = phone.get(SESSION_URL)
    assert info.status_code == 200 and info.get_json()["user"]["username"] == "cadre"
    pack = phone.get("/api/v1/field-pack")
    assert pack.status_code == 200
    response = phone.post(
        "/api/v1/sync",
        json={"evaluations": []},
        headers={"X-CSRFToken": info.get_json()["csrf_token"]},
    )
    assert response.status_code not in (401, 403)  # past the sign-in and CSRF gates
    assert response.is_json


# ------------------------------------------------------------------ safe redirects


@pytest.mark.parametrize(
    "value",
    [
        "//evil.example",
        "/\t/evil.example/",
        "/\n/x",
        "/\r\n/x",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        " /x",
        "/\u3000/evil",
        "/\x00/x",
        "/\ud800",
        "evil.example",
        "",
        None,
        42,
        "/" + "a" * 3000,
    ],
)
def test_safe_next_refuses(value: object) -> None:
    assert safe_next(value) == "/"
    assert safe_next(value, "/home") == "/home"


@pytest.mark.parametrize(
    "value", ["/", "/feedback/3?show=unread", "/units/2#top", "/tìm?q=Đoàn", "/%2F%2Fx"]
)
def test_safe_next_keeps_same_site_paths(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "query", ["/%09/evil.example/", "/%0a/x", "/%0d%0a/x", "//evil.example", "/%5Cevil.example"]
)
def test_login_next_never_leaves_the_site(app: Flask, world: dict, query: str) -> None:
    browser = device(app)
    browser.get("/login")
    response = browser.post(
        f"/login?next={query}",
        data={
            "username": "cadre",
            "password": PASSWORD,
            "csrf_token": AuthActions(browser).csrf_token(),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # Signed in, the GET redirects the same way.
    again = browser.get(f"/login?next={query}")
    assert again.status_code == 302 and again.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/\n/x", "//evil.example", "/\\x"])
def test_lang_next_never_leaves_the_site(app: Flask, world: dict, target: str) -> None:
    browser = device(app)
    login(browser)
    response = post(browser, "/lang", {"lang": "vi", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# ------------------------------------------------------------------ the throttle


def test_a_strangers_guesses_do_not_lock_the_owner_out(app: Flask, world: dict) -> None:
    owner = device(app, "10.0.0.1")
    assert login(owner).status_code == 302
    AuthActions(owner).logout()
    attacker = device(app, "203.0.113.9")
    for _ in range(5):
        assert login(attacker, "cadre", "doan-sai").status_code == 200
    assert login(attacker, "cadre", "doan-sai").status_code == 429
    assert login(attacker, "cadre", PASSWORD).status_code == 429  # the guesser waits
    # The owner, elsewhere or on the same network, signs in.
    assert login(owner).status_code == 302
    assert login(device(app, "10.0.0.2")).status_code == 302


def test_the_owners_device_is_let_through_at_the_guessers_address(app: Flask, world: dict) -> None:
    owner = device(app, "198.51.100.7")
    assert login(owner).status_code == 302
    assert cookie(owner, "coso_device")
    AuthActions(owner).logout()
    attacker = device(app, "198.51.100.7")  # the same address (one office network)
    for _ in range(6):
        login(attacker, "cadre", "doan-sai")
    assert login(attacker, "cadre", PASSWORD).status_code == 429
    assert login(owner).status_code == 302


def test_many_addresses_guessing_one_account_are_held_but_not_the_owner(
    app: Flask, world: dict
) -> None:
    app.config["LOGIN_FAIL_LIMITS_PER_ACCOUNT"] = "8 per hour"
    owner = device(app, "10.1.1.1")
    assert login(owner).status_code == 302
    AuthActions(owner).logout()
    for n in range(8):
        assert login(device(app, f"203.0.113.{n + 1}"), "cadre", "doan-sai").status_code == 200
    assert login(device(app, "203.0.113.99"), "cadre", "doan-sai").status_code == 429
    assert login(owner).status_code == 302  # a known device is not held by the account's key


def test_a_known_device_still_has_a_limit_of_its_own(app: Flask, world: dict) -> None:
    phone = device(app, "10.2.2.2")
    assert login(phone).status_code == 302
    AuthActions(phone).logout()
    for _ in range(5):
        assert login(phone, "cadre", "doan-sai").status_code == 200
    assert login(phone, "cadre", "doan-sai").status_code == 429


def test_a_forged_device_cookie_is_not_known(app: Flask, world: dict) -> None:
    attacker = device(app, "203.0.113.50")
    attacker.set_cookie("coso_device", '{"d":"x","u":["cadre"]}')
    for _ in range(5):
        login(attacker, "cadre", "doan-sai")
    assert login(attacker, "cadre", "doan-sai").status_code == 429


def test_unknown_names_cost_a_password_check_too(
    app: Flask, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coso.auth

    calls: list[str] = []
    real = coso.auth.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(coso.auth, "check_password_hash", counting)
    response = login(device(app), "khong-ai-ca", "mat-khau-thu")
    assert response.status_code == 200
    assert calls == ["mat-khau-thu"]
    response = login(device(app), "x" * 500, "mat-khau-thu")
    assert response.status_code == 200
    assert len(calls) == 2


def test_describe_agent() -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit"
        " Version/17.0 Mobile/15E148 Safari/604.1"
    )
    assert rules.describe_agent(iphone) == ("Safari", "iPhone")
    assert rules.describe_agent("") == (None, None)
    assert rules.describe_agent("curl/8.0") == (None, None)
    assert rules.remembered(["a", "b", 3], "b") == ["b", "a"]
    assert len(rules.remembered([str(n) for n in range(10)], "z")) == rules.DEVICE_MAX_USERS
    assert not rules.plausible_key("a b") and not rules.plausible_key("x" * 101)
