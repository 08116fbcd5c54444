"""The practices' words: where a practice came from."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from coso.practices.rules import EVALUATION, OWN, VISIT

SOURCE_LABELS: dict[str, Any] = {
    EVALUATION: _l("From an evaluation"),
    VISIT: _l("Seen on a visit"),
    OWN: _l("Recorded on its own"),
}


def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source))
