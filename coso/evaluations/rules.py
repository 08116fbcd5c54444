"""The limits of an evaluation as a client submits it, and its identifier.

Pure constants and functions (no Flask, no database): the schema, its fast path
and the catalog of references all check against the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import uuid as uuid_module
from datetime import datetime, timedelta
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
MAX_SEEN_DONE = 50  # corrective actions ticked "seen done" in one evaluation


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


#: The fields of a submitted evaluation that make up its content.
CONTENT_FIELDS = (
    "uuid",
    "branch_id",
    "template_id",
    "guidance_id",
    "meeting_date",
    "meeting_type",
    "mode",
    "members_total",
    "members_present",
    "answers",
    "topics_covered",
    "notes",
    "good_practice",
    "recommend_practice",
    "supersedes",
    "started_at",
    "submitted_at",
)


def content_hash(item: dict[str, Any]) -> str:
    """A fingerprint of what the client sent, to tell a replay from a different evaluation."""
    content = {key: item.get(key) for key in CONTENT_FIELDS}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def correction_open(received_at: datetime, now: datetime, hours: int) -> bool:
    """Whether an evaluation the server received at ``received_at`` may still be corrected."""
    return now - received_at <= timedelta(hours=hours)
