"""The limits of an evaluation as a client submits it, and its identifier.

Pure constants and functions (no Flask, no database): the schema, its fast path
and the catalog of references all check against the same numbers.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import timedelta
from typing import Any

MAX_ITEMS = 100  # answers per evaluation: far above any real checklist
MAX_NOTE = 1000
MAX_TEXT = 4000
MAX_MEMBERS = 5000
MAX_ID = 2**31 - 1  # the largest id a database integer column holds
CLOCK_SKEW = timedelta(days=1)
OLDEST_MEETING = timedelta(days=400)
MAX_TOPICS = 50  # topics covered per evaluation
MAX_CODE = 10  # the length of an item's or a topic's code


def canonical_uuid(value: Any) -> str | None:
    """The canonical text of a UUID, or None when ``value`` is not one."""
    if not isinstance(value, str) or len(value) > 45:
        return None
    try:
        return str(uuid_module.UUID(value.strip()))
    except ValueError:
        return None


def new_uuid() -> str:
    """A fresh identifier for an evaluation (the form's; phones make their own)."""
    return str(uuid_module.uuid4())


def clean_text(text: str | None) -> str | None:
    """Strip blanks and NULs; empty text is no text."""
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    return text or None
