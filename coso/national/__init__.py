"""The Central Committee's view of the provinces (issue 22, item 1).

``rules.py`` holds the roll-up's pure rules (a province's row, the nation's total, the
order); ``queries.py`` reads every province's figures in a few grouped queries, reusing
the province pages' own reads; ``words.py`` says them in words; ``views.py`` is
``/national`` and its export.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from coso.national import views

    views.init_app(app)
