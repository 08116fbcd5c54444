"""URL converters of the app: an ``int`` that never reaches the database out of range.

Every ``<int:...>`` route looks its id up in an integer column. Werkzeug's own
converter takes any number of digits, so ``/units/2147483648`` reached PostgreSQL
as an out-of-range parameter and SQLite as an overflowing one (ids of 2^63 and
more): a 500 on some 22 routes (issue 17, item 8). This converter matches at most
ten digits and at most ``MAX_ID``, so anything larger is simply no page: 404.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

#: The largest id a database integer column holds (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


class BoundedInt(IntegerConverter):
    """``int`` in URLs: 0 to ``MAX_ID`` (or the rule's own ``max`` when smaller), else 404."""

    regex = r"[0-9]{1,10}"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        # Werkzeug's signature names its bounds min/max, shadowing the builtins here.
        bound = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)


def init_app(app: Flask) -> None:
    """Register before any blueprint: rules take their converter when they are added."""
    app.url_map.converters["int"] = BoundedInt
