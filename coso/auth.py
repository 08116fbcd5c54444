"""Signing in and out, sessions, and the login throttle."""

from __future__ import annotations

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
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from coso import audit
from coso.extensions import db, limiter, login_manager
from coso.models import User
from coso.models.types import utcnow

bp = Blueprint("auth", __name__)


def wants_json() -> bool:
    """API routes answer JSON, never an HTML page or a redirect."""
    return request.path.startswith("/api/")


def _login_username() -> str:
    return "login:" + request.form.get("username", "").strip().lower()[:60]


def _login_failed(response: Response) -> bool:
    """Only failed attempts count towards the throttle."""
    return bool(g.get("login_failed"))


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAIL_LIMITS"],
    key_func=_login_username,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=_l("Too many wrong passwords. Please wait and try again."),
)
@limiter.limit(
    lambda: current_app.config["LOGIN_FAIL_LIMITS_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=_l("Too many wrong passwords from this address. Please wait and try again."),
)
def login() -> ResponseReturnValue:
    """Show the sign-in form; check the password; remember the user."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
        if not username or not password:
            error = _("Enter your username and password.")
        elif user is None or not user.check_password(password) or not user.active:
            error = _("Wrong username or password.")
        if error:
            g.login_failed = True
            audit.record("login.failed", user=user, username=username[:60])
            db.session.commit()
            return render_template("auth/login.html", error=error, username=username), 200
        assert user is not None
        login_user(user, remember=True)
        user.last_login_at = utcnow()
        audit.record("login", obj=user, user=user, unit_id=user.unit_id)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next") or request.form.get("next")))
    return render_template("auth/login.html", error=error, username=username)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """End the session. A POST with the CSRF token, so no link can sign anyone out."""
    audit.record("logout", obj=current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


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
