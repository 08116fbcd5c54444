"""Error pages for people and JSON errors for the API."""

from __future__ import annotations

from collections.abc import Iterable

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from coso.auth import wants_json
from coso.extensions import db


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in again."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        413: _("What you sent is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        503: _("The server is busy. Nothing was lost: please try again in a moment."),
        500: _("Something went wrong on the server. Nothing you entered was lost."),
    }


def _render(code: int, message: str, error: str) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=error, message=message), code
    return render_template("errors/error.html", code=code, message=message), code


def handle_http(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    default = exc.description == type(exc).description
    message = _messages().get(code, exc.name) if default else str(exc.description)
    return _render(code, message, exc.name.lower().replace(" ", "_"))


def handle_csrf(exc: CSRFError) -> ResponseReturnValue:
    message = _("Your session has expired or the form is stale. Reload the page and try again.")
    return _render(403, message, "csrf")


def handle_500(exc: Exception) -> ResponseReturnValue:
    db.session.rollback()
    return _render(500, _messages()[500], "server_error")


#: How a database says "wait your turn": SQLite's busy timeout ran out, or PostgreSQL
#: gave up a lock (deadlock, lock timeout, serialization failure).
_BUSY = ("database is locked", "database table is locked", "deadlock detected", "lock timeout")
_BUSY_SQLSTATES = {"40001", "40P01", "55P03"}
RETRY_AFTER_BUSY = 2


def is_busy(exc: OperationalError) -> bool:
    """Whether the database refused for contention (worth retrying), not for a fault."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state in _BUSY_SQLSTATES or any(word in str(exc.orig).lower() for word in _BUSY)


def handle_operational(exc: OperationalError) -> ResponseReturnValue:
    """Contention answers 503 with Retry-After (the outbox waits and resends); the rest is a 500."""
    db.session.rollback()
    if not is_busy(exc):
        current_app.log_exception((type(exc), exc, exc.__traceback__))
        return handle_500(exc)
    current_app.logger.warning("database busy, answered 503: %s", exc.orig)
    response = make_response(_render(503, _messages()[503], "busy"))
    response.headers["Retry-After"] = str(RETRY_AFTER_BUSY)
    g.retry_after = RETRY_AFTER_BUSY  # what retry_after_only_when_due restores
    return response


#: The answers that tell a client to wait: only these carry Retry-After.
_WAIT_STATUSES = (429, 503)


def retry_after_only_when_due(response: Response) -> Response:
    """Retry-After on 429 and 503 only, and with the value meant (issue 17, item 17).

    Flask-Limiter, with its headers on, writes Retry-After on every response of a
    limited route — a 200 sync answer told the outbox to wait — and recomputes it on
    the busy 503 from a rounded-down clock (1 where 2 was meant). This runs after it.
    """
    if response.status_code not in _WAIT_STATUSES:
        response.headers.pop("Retry-After", None)
    elif response.status_code == 503 and "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    elif response.status_code == 429:
        seconds = response.headers.get("Retry-After", "")
        if not seconds.isdecimal() or int(seconds) < 1:
            response.headers["Retry-After"] = "1"  # "0" would make a client hammer
    return response


def init_early(app: Flask) -> None:
    """Hooks that must run after every extension's: registered before them.

    Flask runs ``after_request`` functions in the reverse order of registration,
    so this is called in create_app before the rate limiter is set up.
    """
    app.after_request(retry_after_only_when_due)


def _holds_nul(values: Iterable[tuple[str, str]]) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values)


def reject_nul() -> ResponseReturnValue | None:
    """No page takes a NUL character: 400 before it can reach a query or a column.

    PostgreSQL refuses NUL in text outright, so a NUL would otherwise be a 500
    there and a stored oddity on SQLite. The JSON API checks its own bodies
    (per item, after authentication), so only forms, query strings and file
    names are looked at here.
    """
    if request.path.startswith("/api/"):
        return None
    files = request.files.items(multi=True) if request.mimetype == "multipart/form-data" else []
    if (
        "\x00" in request.path
        or _holds_nul(request.args.items(multi=True))
        or _holds_nul(request.form.items(multi=True))
        or _holds_nul((name, upload.filename or "") for name, upload in files)
    ):
        return _render(
            400, _("What you sent contains a character that is not allowed (NUL)."), "bad_request"
        )
    return None


def init_app(app: Flask) -> None:
    app.before_request(reject_nul)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(OperationalError, handle_operational)
    app.register_error_handler(500, handle_500)
