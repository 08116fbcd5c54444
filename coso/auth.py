"""Signing in and out, sessions, and the login throttle.

The throttle counts only failed sign-ins, on keys that give no stranger a lock-out
switch (issue 17, finding 11): per account *and* address, per account from anywhere
(a higher limit, against many addresses guessing together), and per address; a
browser the account signed in on before (the signed ``coso_device`` cookie) is let
past those and counted on its own key, so the owner's phone still signs in while
someone elsewhere guesses. Each key has windows that grow (5 per 5 minutes, 20 per
hour by default): a guesser waits longer and longer, nobody waits for ever.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_limiter import RouteLimit
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from coso import audit
from coso.extensions import db, limiter, login_manager
from coso.models import LoginSession, User
from coso.models.types import utcnow
from coso.redirects import safe_next
from coso.sessions import devices
from coso.sessions import service as sessions

bp = Blueprint("auth", __name__)


def wants_json() -> bool:
    """API routes answer JSON, never an HTML page or a redirect."""
    return request.path.startswith("/api/")


def _address() -> str:
    return request.remote_addr or "?"


def _form_username() -> str:
    return request.form.get("username", "").strip().lower()[:60]


def _account_address_key() -> str:
    """Wrong guesses at one account from one address: the owner elsewhere is not slowed."""
    return f"login:acct-addr:{_form_username()}:{_address()}"


def _account_key() -> str:
    """Wrong guesses at one account from anywhere (many addresses guessing together)."""
    return "login:acct:" + _form_username()


def _address_key() -> str:
    """Wrong guesses from one address at any account."""
    return "login:addr:" + _address()


def _device_key() -> str:
    """Wrong guesses at one account from a device it signed in on before."""
    return f"login:device:{_form_username()}:{devices.device_tag()}"


def _known_device() -> bool:
    """The owner's own browser (a ``coso_device`` cookie naming the account): let past the
    limits a stranger could exhaust, counted on its own key instead."""
    return devices.is_known(_form_username())


def _unknown_device() -> bool:
    return not _known_device()


def _login_failed(response: Response) -> bool:
    """Only failed attempts count towards the throttle."""
    return bool(g.get("login_failed"))


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_check(password: str) -> None:
    """Spend the time a real password check takes, so a reply does not tell which names exist.

    The hash is made once per method (the method is a setting: tests use a cheap one).
    """
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    check_password_hash(_DUMMY_HASHES[method], password)


def _limit(
    config_key: str,
    key_func: Callable[[], str],
    exempt_when: Callable[[], bool],
    message: LazyString,
) -> RouteLimit:
    """One of the login's failure limits (only failed POSTs count), read from ``config_key``."""
    return limiter.limit(
        lambda: current_app.config[config_key],
        key_func=key_func,
        methods=["POST"],
        deduct_when=_login_failed,
        exempt_when=exempt_when,
        error_message=message,
    )


_TOO_MANY = _l("Too many wrong passwords. Please wait and try again.")


@bp.route("/login", methods=["GET", "POST"])
@_limit("LOGIN_FAIL_LIMITS", _account_address_key, _known_device, _TOO_MANY)
@_limit("LOGIN_FAIL_LIMITS_PER_ACCOUNT", _account_key, _known_device, _TOO_MANY)
@_limit("LOGIN_FAIL_LIMITS", _device_key, _unknown_device, _TOO_MANY)
@_limit(
    "LOGIN_FAIL_LIMITS_PER_ADDRESS",
    _address_key,
    _known_device,
    _l("Too many wrong passwords from this address. Please wait and try again."),
)
def login() -> ResponseReturnValue:
    """Show the sign-in form; check the password; open a server-side session.

    At sign-in the Flask session is emptied (a CSRF token or anything else from
    before the sign-in is not carried over; the chosen language is) and a new
    ``login_session`` row is opened; the browser gets its random key in the session
    and in the remember-me cookie, and a ``coso_device`` cookie naming the account.
    """
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = None
        if username and len(username) <= 60:
            user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
        if not username or not password:
            error = _("Enter your username and password.")
        elif user is None:
            _dummy_check(password)
            error = _("Wrong username or password.")
        elif not user.check_password(password) or not user.active:
            error = _("Wrong username or password.")
        if error:
            g.login_failed = True
            audit.record("login.failed", user=user, username=username[:60])
            db.session.commit()
            return render_template("auth/login.html", error=error, username=username), 200
        assert user is not None
        target = safe_next(request.args.get("next") or request.form.get("next"))
        lang = session.get("lang")
        session.clear()  # nothing from before the sign-in survives it, the CSRF token least
        if lang:
            session["lang"] = lang
        sessions.start(user)
        login_user(user, remember=True)
        user.last_login_at = utcnow()
        audit.record("login", obj=user, user=user, unit_id=user.unit_id)
        db.session.commit()
        response = redirect(target)
        devices.remember(response, user.username)
        return response
    return render_template("auth/login.html", error=error, username=username)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """End the session on the server too: its cookies, replayed, open nothing.

    A POST with the CSRF token, so no link can sign anyone out.
    """
    user = current_user._get_current_object()
    row_id = sessions.current_session_id()
    row = db.session.get(LoginSession, row_id) if row_id is not None else None
    if row is not None:
        sessions.end(row)
    audit.record("logout", obj=user)
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session["_remember"] = "clear"  # logout_user's request to delete the remember-me cookie
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """The user of a live sign-in: ``key`` comes from the session or the remember-me cookie."""
    return sessions.user_for_key(key)


@login_manager.unauthorized_handler
def unauthorized() -> ResponseReturnValue:
    """Pages redirect to the login form; the API answers 401 JSON."""
    if wants_json():
        return jsonify(error="unauthorized", message=_("Please sign in again.")), 401
    if request.headers.get("HX-Request"):
        # A redirect inside an htmx swap would paste the login page into a fragment.
        response = Response(status=401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=request.full_path)
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
