"""The read API (issue 21, item 5): units, branches with their state, evaluations and their
answers, corrective actions and visits, for other systems, under /api/v1.

A caller signs in with a personal access token (``Authorization: Bearer coso_pat_...``, made
on /account/tokens) or with the browser session; either way it reads exactly what its user
may see (coso.scope). Lists are filtered by unit and period and paged by an opaque cursor.
schema.py describes the rows (and, through apispec, the OpenAPI document); params.py reads
the query string; queries.py the rows; views.py the endpoints; docs.py their contract.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from coso.read_api import views

    app.register_blueprint(views.bp)
    app.after_request(views.note_token_use)
