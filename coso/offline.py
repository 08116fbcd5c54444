"""What makes coso work without signal: the service worker, the web manifest, the outbox page,
and the generic checklist page the worker serves for any branch when offline."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from coso import clock, scope
from coso.assets import asset_url
from coso.checklists.queries import current_template
from coso.difficulties import service as difficulty_service
from coso.judging.queries import settings_for_path
from coso.models.evaluations import MEETING_TYPES, MODES

bp = Blueprint("offline", __name__)

#: Static files every page needs; the worker precaches them at install.
SHELL_ASSETS = (
    "css/coso.css",
    "vendor/htmx-2.0.11.min.js",
    "js/outbox.js",
    "js/app.js",
    "js/menu.js",
    "js/counts.js",
    "js/photos.js",
    "js/checklist.js",
    "js/outbox-page.js",
    "js/search.js",
    "js/visit-offline.js",
    "js/difficulty-offline.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)
#: Pages precached for everyone (navigations are network-first, these the fallback).
SHELL_PAGES = ("/", "/offline")
#: Pages only a cadre may open: precached for cadres alone (issue 16, item 18).
CADRE_PAGES = ("/evaluate", "/evaluate/form", "/outbox")
#: Pages for everyone who goes to the grassroots, whatever their roles: logging a visit and
#: drafting its report with no signal (issue 18, item 5).
VISIT_PAGES = ("/visits/new", "/visits/drafts", "/outbox")
#: Pages for everyone who raises difficulties, a cadre or a secretary (issue 19, item 1), and
#: the good practices spread to them, to read without signal (issue 19, item 4).
DIFFICULTY_PAGES = ("/difficulties/new", "/difficulties/", "/outbox", "/practices")


def shell_pages() -> tuple[str, ...]:
    """The pages kept for offline use for the signed-in user: cadre pages for cadres only.

    The worker script is the same for everyone (a per-user script would reinstall the worker
    at every sign-in) and precaches only the public pages at install. The page hands this
    list to the worker when preparing for the field, so a secretary's, province or admin
    user's worker never asks for cadre pages (each such request was a 403 in the log:
    issue 16, item 18).
    """
    if not current_user.is_authenticated:
        return SHELL_PAGES
    pages = list(SHELL_PAGES[:1])
    if scope.can(current_user, "evaluate"):
        pages += CADRE_PAGES
    if scope.goes_out(current_user):
        pages += [page for page in VISIT_PAGES if page not in pages]
    if difficulty_service.may_send(current_user):
        pages += [page for page in DIFFICULTY_PAGES if page not in pages]
    return (*pages, *SHELL_PAGES[1:])


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, at the root so its scope is the whole app.

    Its version is a hash of the precached assets' URLs (which carry content
    hashes), so any change to them installs a new worker and a new cache.
    """
    assets = [asset_url(path) for path in SHELL_ASSETS]
    version = hashlib.sha256("\n".join(assets).encode()).hexdigest()[:12]
    body = render_template(
        "offline/sw.js",
        version=version,
        assets=assets,
        pages=SHELL_PAGES,
        outbox_js=asset_url("js/outbox.js"),
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    """The installable app's manifest, named in Vietnamese."""
    data = {
        "name": "coso — Đánh giá sinh hoạt chi đoàn",
        "short_name": "coso",
        "description": "Đánh giá sinh hoạt chi đoàn tại cơ sở, cả khi không có mạng.",
        "lang": "vi",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b71c1c",
        "icons": [
            {"src": asset_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": asset_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": asset_url("icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": asset_url("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = current_app.json.response(data)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/outbox")
@login_required
def outbox() -> ResponseReturnValue:
    """What is waiting on this phone; the list itself lives in IndexedDB and is drawn by script."""
    return render_template("offline/outbox.html")


@bp.get("/offline")
def offline_page() -> ResponseReturnValue:
    """Shown by the worker for a page that was never cached while there is no signal."""
    return render_template("offline/offline.html")


@bp.get("/evaluate/form")
@login_required
def checklist_shell() -> ResponseReturnValue:
    """The checklist without a branch: the worker serves it for /evaluate/<id> offline."""
    if not scope.can(current_user, "evaluate"):
        return redirect(url_for("home.index"))
    template = current_template(current_user.unit)
    if template is None:
        return render_template("offline/offline.html"), 409
    values: MultiDict[str, str] = MultiDict(
        {
            "meeting_date": clock.today().isoformat(),
            "meeting_type": "regular",
            "mode": "in_person",
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    return render_template(
        "evaluations/shell.html",
        branch=None,
        template=template,
        guidance=None,
        values=values,
        errors={},
        locale=str(get_locale()),
        meeting_types=MEETING_TYPES,
        modes=MODES,
        settings=settings_for_path(current_user.unit.path),
        last=None,
        correcting=None,
        today=clock.today(),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The page hands its user's list to the worker when preparing for the field.
    app.jinja_env.globals.update(offline_pages=shell_pages)
