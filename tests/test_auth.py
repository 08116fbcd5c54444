"""Signing in and out, CSRF, the throttle, and where anonymous requests go."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from tests.builders import small_province
from tests.conftest import AuthActions


@pytest.fixture
def province(app: Flask) -> dict:
    with app.app_context():
        return {k: v for k, v in small_province().items() if k != "users"}


def test_login_page_is_vietnamese_by_default(client: FlaskClient, province: dict) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="vi"' in page
    assert "Đăng nhập" in page
    assert 'name="csrf_token"' in page


def test_login_and_logout(client: FlaskClient, auth: AuthActions, province: dict) -> None:
    response = auth.login("cadre")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "cadre"
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/session").status_code == 401


@pytest.mark.parametrize(
    ("username", "password"),
    [("cadre", "wrong-password"), ("nobody", "coso-test-pw"), ("", ""), ("cadre", "")],
)
def test_wrong_credentials(
    client: FlaskClient, auth: AuthActions, province: dict, username: str, password: str
) -> None:
    response = auth.login(username, password)
    assert response.status_code == 200
    assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(app: Flask, auth: AuthActions, province: dict) -> None:
    from coso.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="cadre"))
        user.active = False
        db.session.commit()
    assert auth.login("cadre").status_code == 200


def test_login_without_csrf_is_rejected(client: FlaskClient, province: dict) -> None:
    response = client.post("/login", data={"username": "cadre", "password": "coso-test-pw"})
    assert response.status_code == 403
    assert client.get("/").status_code == 302


def test_logout_needs_csrf(client: FlaskClient, auth: AuthActions, province: dict) -> None:
    auth.login("cadre")
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200


def test_repeated_wrong_passwords_are_throttled(
    client: FlaskClient, auth: AuthActions, province: dict
) -> None:
    for _ in range(5):
        assert auth.login("cadre", "wrong-password").status_code == 200
    response = auth.login("cadre", "wrong-password")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    # Even the right password waits: the account is cooling down.
    assert auth.login("cadre").status_code == 429
    # Another account from the same address is not blocked yet.
    assert auth.login("province").status_code == 302


def test_successful_logins_do_not_count(
    client: FlaskClient, auth: AuthActions, province: dict
) -> None:
    for _ in range(8):
        assert auth.login("cadre").status_code == 302
        auth.logout()


def test_pages_redirect_and_api_answers_401(client: FlaskClient, province: dict) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    response = client.get("/api/v1/session")
    assert response.status_code == 401
    assert response.is_json
    # Anonymous POST without a token: authentication is checked first.
    assert client.post("/api/v1/session").status_code in (401, 405)


def test_htmx_request_gets_hx_redirect(client: FlaskClient, province: dict) -> None:
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_open_redirect_is_refused(client: FlaskClient, auth: AuthActions, province: dict) -> None:
    client.get("/login")
    response = client.post(
        "/login?next=//evil.example",
        data={"username": "cadre", "password": "coso-test-pw", "csrf_token": auth.csrf_token()},
    )
    assert response.headers["Location"] == "/"


def test_session_cookie_flags(client: FlaskClient, auth: AuthActions, province: dict) -> None:
    response = auth.login("cadre")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


def test_language_choice_is_remembered(
    client: FlaskClient, auth: AuthActions, province: dict
) -> None:
    auth.login("cadre")
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": auth.csrf_token()})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("cadre")
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_healthz(client: FlaskClient, province: dict) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
