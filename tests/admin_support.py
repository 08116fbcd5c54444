"""Helpers shared by the administration tests."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent


def token(client: FlaskClient) -> str:
    """The CSRF token of the signed-in session."""
    return client.get("/api/v1/session").get_json()["csrf_token"]


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """POST a form with the session's CSRF token, as a browser would."""
    body = dict(data or {})
    body["csrf_token"] = token(client)
    return client.post(url, data=body, **kwargs)


def upload(client: FlaskClient, url: str, name: str, content: bytes):  # type: ignore[no-untyped-def]
    """Upload a file through a form with the CSRF token."""
    return client.post(
        url,
        data={"csrf_token": token(client), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def csv_bytes(rows: list[list[Any]]) -> bytes:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def events(action: str) -> list[AuditEvent]:
    """Audit events of one action, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def apply_token(page: str) -> str:
    """The signed rows a dry-run page hands to its apply form."""
    import re

    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match, "the dry run offers to apply"
    return match.group(1)
