"""The administration's blueprint (``admin``, under ``/admin``).

Each part of the domain that has administration pages (units, users, checklists,
guidance, judging) attaches its routes to this one blueprint from its own
``views.py``, so the endpoint names stay ``admin.*``; ``coso.admin.init_app``
registers it once every part has attached its routes.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
