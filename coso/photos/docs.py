"""The upload's part of the OpenAPI document (/api/v1/openapi.json), beside the sync."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from coso.photos.rules import MAX_BYTES, MAX_PIXELS, THUMB_EDGE


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def _stored(description: str) -> dict[str, Any]:
    photo = {
        "type": "object",
        "required": ["status", "id", "sha256", "item"],
        "properties": {
            "status": {"type": "string", "enum": ["created", "duplicate"]},
            "id": {"type": "integer"},
            "sha256": {"type": "string"},
            "item": {"type": "string", "nullable": True},
        },
    }
    return {"description": description, "content": {"application/json": {"schema": photo}}}


def add_paths(spec: APISpec) -> None:
    """PUT /api/v1/photos/{evaluation_uuid}/{sha256}."""
    spec.path(
        path="/api/v1/photos/{evaluation_uuid}/{sha256}",
        operations={
            "put": {
                "summary": "Store one photo of an evaluation, or of one of its items.",
                "description": (
                    "The body is the photo's bytes (JPEG, PNG or WebP, at most"
                    f" {MAX_BYTES} bytes and {MAX_PIXELS} pixels); it is decoded whole and"
                    " refused, nothing stored, when it is anything else. The path names the"
                    " evaluation's UUID (the photo may arrive before the evaluation) and the"
                    " SHA-256 of the body in lowercase hex. Idempotent: the same"
                    " (evaluation, item, hash) again is answered 200 `duplicate`. A"
                    f" {THUMB_EDGE} px JPEG thumbnail is kept beside it. The photo is read"
                    " back at /photos/{id} and /photos/{id}/thumb by its author and those"
                    " who may see the evaluation."
                ),
                "security": [{"session": [], "csrf": []}],
                "parameters": [
                    {
                        "name": "evaluation_uuid",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    },
                    {
                        "name": "sha256",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                    {
                        "name": "item",
                        "in": "query",
                        "required": False,
                        "description": "The checklist item's code (P10); none: the evaluation.",
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,20}$"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        kind: {"schema": {"type": "string", "format": "binary"}}
                        for kind in ("image/jpeg", "image/png", "image/webp")
                    },
                },
                "responses": {
                    "201": _stored("Stored."),
                    "200": _stored("Already stored: nothing changed."),
                    "400": _error(
                        "Not a JPEG/PNG/WebP photo, empty, too many pixels, a hash that does"
                        " not match the body, or a bad address (error names which)."
                    ),
                    "401": _error("Not signed in."),
                    "403": _error("Bad CSRF token, or a role that may not submit."),
                    "413": _error(f"Body over {MAX_BYTES} bytes."),
                },
            }
        },
    )
