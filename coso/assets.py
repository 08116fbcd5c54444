"""Static files with a content hash in their URL, cached for a year."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for

YEAR = 365 * 24 * 3600


@cache
def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """URL of a static file carrying its content hash, so it can be cached forever."""
    assert current_app.static_folder is not None
    digest = _digest(str(Path(current_app.static_folder) / filename))
    return url_for("static", filename=filename, v=digest)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["asset"] = asset_url

    @app.after_request
    def cache_static(response: Response) -> Response:
        if request.endpoint == "static" and request.args.get("v"):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
