"""The province's view of its branches: flags, where to act, good practices, drill-down.

``rules.py`` holds the pure rules (periods, rates, the charts' geometry);
``flagged.py``, ``analysis.py`` and ``timeline.py`` are the reads of the flagged
list, of "where to act" and the unit pages, and of a branch's story; ``words.py``
says states and reasons in the user's language; ``views.py`` is the blueprint.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from coso.dashboard import views

    views.init_app(app)
