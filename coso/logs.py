"""Logs: one line per request, and a request id that ties a phone's error to its line.

Every request gets an id — the ``X-Request-ID`` a proxy sent (letters, digits, ``.-_:``,
at most 128), or a short one made here (``3f9a-1c0b-7e2d``, easy to read out on the phone).
It is returned in the ``X-Request-ID`` header, shown on error pages, and carried by every
log line written while the request runs. When the request ends, ``coso.access`` logs its
endpoint, method, path, status, duration, user id and address.

``COSO_LOG_FORMAT``: ``json`` (one JSON object per line; the default in production) or
``text`` (readable lines; the default elsewhere). ``COSO_LOG_LEVEL``: ``INFO`` by default.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
_INCOMING = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
#: The fields an access line carries besides the message (JSON keys, in this order).
FIELDS = (
    "request_id",
    "user_id",
    "endpoint",
    "method",
    "path",
    "status",
    "duration_ms",
    "remote_addr",
)

access_log = logging.getLogger("coso.access")


def new_request_id() -> str:
    digits = secrets.token_hex(6)
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def request_id() -> str:
    """This request's id (made on first use); empty outside a request."""
    if not has_request_context():
        return ""
    found = g.get("request_id")
    if found is None:
        incoming = request.headers.get(HEADER, "").strip()
        found = incoming if _INCOMING.fullmatch(incoming) else new_request_id()
        g.request_id = found
    return str(found)


def start_request() -> None:
    request_id()
    g.request_started = time.perf_counter()


def _user_id() -> int | None:
    """The signed-in user's id if this request loaded one (never a query of its own)."""
    # Read from the identity map: the user's attributes may be expired after a commit, and
    # loading them again would open a transaction (on SQLite, wait for the write lock).
    state = sa.inspect(g.get("_login_user"), raiseerr=False)
    identity = state.identity if state is not None else None
    return int(identity[0]) if identity else None


def finish_request(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    fields = {
        "user_id": _user_id(),
        "endpoint": request.endpoint,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": duration,
        "remote_addr": request.remote_addr,
    }
    message = f"{request.method} {request.path} {response.status_code} {duration} ms"
    access_log.info(message, extra=fields)
    return response


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id() or "-"
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None and value != "-":
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is written (gunicorn's, a test's)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure(app: Flask) -> None:
    """Give the ``coso`` logger (``app.logger``) one handler of the configured format."""
    kind = app.config.get("LOG_FORMAT", "text")
    if kind not in ("json", "text"):
        raise RuntimeError(f"COSO_LOG_FORMAT must be json or text, not {kind!r}")
    logger = logging.getLogger("coso")
    logger.removeHandler(default_handler)
    for old in [h for h in logger.handlers if getattr(h, "coso", False)]:
        logger.removeHandler(old)
    handler = StderrHandler()
    handler.coso = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JSONFormatter() if kind == "json" else logging.Formatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Tests read records at the root (pytest's caplog); a server writes each line once.
    logger.propagate = app.testing


def init_app(app: Flask) -> None:
    configure(app)
    app.before_request(start_request)
    app.after_request(finish_request)
    app.context_processor(lambda: {"request_id": request_id()})
