"""What the next training should cover (issue 19, item 3).

The checklist items that fail most, for a unit's whole area and for each of its child units
(the communes of a province), over a period long enough for an annual training plan — with
the evidence (which branches, which evaluations) one click away, and an export the province
files with its plan. rules.py ranks (pure); queries.py counts; views.py serves the page, the
evidence and the exports.

The difficulty categories of issue 19, item 1 join this view when difficulties exist.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from coso.training import views

    app.register_blueprint(views.bp)
