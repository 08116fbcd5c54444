"""Language: Vietnamese first, English on request; Vietnamese formats for dates and numbers."""

from __future__ import annotations

from datetime import date, datetime

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

from coso.extensions import babel, db

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The signed-in user's saved choice, else this browser's, else Vietnamese."""
    if not has_request_context():  # a command (flask create-user) speaks the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.post("/lang")
def set_language() -> ResponseReturnValue:
    """Remember the chosen language for this browser and the signed-in user."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    target = request.form.get("next", "")
    # Only local paths: never bounce to another site.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("home.index")
    return redirect(target)


def fmt_date(value: date | datetime | None) -> str:
    """A date as the user's locale writes it (20/11/2026 in Vietnamese)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, "dd/MM/yyyy HH:mm")
    return format_date(value, "dd/MM/yyyy")


def fmt_number(value: float | int | None, digits: int = 1) -> str:
    """A number with the locale's decimal mark (61,5 in Vietnamese)."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def fmt_percent(value: float | None) -> str:
    """A 0..1 share as a whole percentage."""
    if value is None:
        return "—"
    return f"{fmt_number(value * 100, 0)} %"


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    app.jinja_env.filters.update(date=fmt_date, number=fmt_number, percent=fmt_percent)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.register_blueprint(bp)
