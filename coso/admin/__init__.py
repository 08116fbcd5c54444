"""Administration: the unit tree, users, checklist versions, monthly guidance, settings, audit log.

Everything the seed data sets up can be managed here by the people who own it.
One blueprint (``admin``, under ``/admin``), one module per thing; every route
asks coso.scope, and every change is written to the audit log with before/after.
"""

from __future__ import annotations

from flask import Flask, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from coso import scope
from coso.admin.blueprint import bp
from coso.web import wants_fragment

#: The sections of the administration and the permission each needs.
SECTIONS = (
    ("units", "administer"),
    ("users", "manage_users"),
    ("templates", "publish"),
    ("guidance", "publish"),
    ("settings", "publish"),
    ("audit", "administer"),
)


def sections_for(user: object) -> list[str]:
    """The sections of the administration this user may open."""
    return [name for name, action in SECTIONS if scope.can(user, action)]  # type: ignore[arg-type]


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The administration's front page: a card per section the user may open."""
    sections = sections_for(current_user)
    if not sections:
        abort(403)
    template = "admin/_index.html" if wants_fragment() else "admin/index.html"
    return render_template(template, sections=sections)


def init_app(app: Flask) -> None:
    from coso.admin import audit_log  # noqa: F401

    app.register_blueprint(bp)
    app.jinja_env.globals["admin_sections"] = sections_for
