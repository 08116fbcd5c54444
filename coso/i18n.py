"""Language: Vietnamese first, English on request; Vietnamese formats for dates and numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_translations,
)
from flask_login import current_user

from coso.extensions import babel, db
from coso.redirects import safe_next

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
    # Only paths on this site: never bounce to another one.
    return redirect(safe_next(request.form.get("next", ""), url_for("home.index")))


def fmt_date(value: date | datetime | str | None) -> str:
    """A date as the user's locale writes it (20/11/2026 in Vietnamese).

    An ISO day ("2026-11-20", as the field pack's plain dicts hold it) is read first.
    """
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return format_datetime(value, "dd/MM/yyyy HH:mm")
    return format_date(value, "dd/MM/yyyy")


def fmt_number(value: float | int | None, digits: int = 1) -> str:
    """A number with the locale's decimal mark (61,5 in Vietnamese)."""
    if value is None:
        return "—"
    locale = get_locale()
    if locale is None:  # outside a request: Flask-Babel's own fallback
        return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))
    # What babel's "#,##0.0" pattern gives (half-even on the decimal text), without
    # parsing the pattern on every call: a page of rates formats thousands of numbers.
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
    text = f"{exact:,.{digits}f}"
    group, decimal = _symbols(str(locale))
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


@cache
def _symbols(locale: str) -> tuple[str, str]:
    """The locale's group and decimal symbols ("." and "," in Vietnamese)."""
    return get_group_symbol(locale), get_decimal_symbol(locale)


#: Between a number and its "%": a break there would strand the sign on the next line.
NBSP = "\u00a0"


def fmt_percent(value: float | None) -> str:
    """A 0..1 share as a whole percentage, "50 %" with a non-breaking space (Vietnamese style)."""
    if value is None:
        return "—"
    return f"{fmt_number(value * 100, 0)}{NBSP}%"


def fmt_month(value: str | date | None) -> str:
    """A month ("2026-12" or a date) in one form: "tháng 12/2026" in Vietnamese, "December 2026"
    in English. Vietnamese people write the month so; babel's own "MMMM yyyy" gives
    "tháng 12 2026", which no one writes.
    """
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            year, month = int(value[:4]), int(value[5:7])
            day = date(year, month, 1)
        except ValueError:
            return value  # not a month: shown as it came rather than failing the page
        if len(value) != 7 or value[4] != "-":
            return value
    else:
        day = value.replace(day=1)
    locale = get_locale()
    if locale is None or locale.language == "vi":
        return f"tháng{NBSP}{day.month:02d}/{day.year}"
    return format_date(day, "MMMM yyyy")


def _translations() -> Any:
    """The request's catalogue, cached in ``g`` for as long as its locale stays the same.

    Keyed by the identity of the locale Flask-Babel holds for the request, so
    ``force_locale`` and a language change within the request are honoured.
    Outside an application context it is Flask-Babel's own answer (no translation).
    """
    if not has_app_context():
        return get_translations()
    state = g._get_current_object().__dict__  # one trip through the context-local proxy
    locale = getattr(state.get("_flask_babel"), "babel_locale", None)
    cached = state.get("_coso_translations")
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    state["_coso_translations"] = (
        getattr(state.get("_flask_babel"), "babel_locale", None),
        translations,
    )
    return translations


def N_(message: str) -> str:
    """Mark ``message`` for extraction only; it is translated where it is shown.

    For tables of labels of which a page shows one: translating the whole table
    on every look-up cost the flagged list a third of its translations.
    """
    return message


def gettext(string: str, **variables: Any) -> str:
    """``flask_babel.gettext``, looked up in the request's cached catalogue.

    The same text; for code that translates hundreds of strings per page (the
    flagged list's reasons), where Flask-Babel's own look-up per string added up.
    """
    text = _translations().ugettext(string)
    return text if not variables else text % variables


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    # Templates translate hundreds of strings per page (the flagged list: ~400): look the
    # catalogue up once per request rather than through Flask-Babel on every string.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters.update(
        date=fmt_date, number=fmt_number, percent=fmt_percent, month=fmt_month
    )
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.register_blueprint(bp)
