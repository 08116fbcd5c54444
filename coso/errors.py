"""Error pages for people and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
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


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(500, handle_500)

    @app.after_request
    def vary_on_htmx(response):  # type: ignore[no-untyped-def]
        # Full page or fragment depends on HX-Request: caches must keep them apart.
        if request.endpoint != "static":
            response.vary.add("HX-Request")
        return response
