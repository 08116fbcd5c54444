"""The OpenAPI document of /api/v1, generated from the marshmallow schemas (apispec)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from coso.evaluations.schema import AnswerSchema, EvaluationSchema
from coso.sync.schema import (
    ErrorSchema,
    FieldPackSchema,
    SessionSchema,
    SyncRequestSchema,
    SyncResponseSchema,
)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def build_spec(max_body: int) -> dict[str, Any]:
    """The OpenAPI 3 document as a dict."""
    spec = APISpec(
        title="coso sync API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Authentication is the browser session opened at /login. Every POST "
            "sends the CSRF token from GET /api/v1/session in the X-CSRFToken header."
        },
        components={
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            }
        },
        security=[{"session": []}],
    )
    for name, schema in (
        ("Error", ErrorSchema),
        ("Answer", AnswerSchema),
        ("Evaluation", EvaluationSchema()),
        ("SyncRequest", SyncRequestSchema),
        ("SyncResponse", SyncResponseSchema),
        ("Session", SessionSchema),
        ("FieldPack", FieldPackSchema),
    ):
        spec.components.schema(name, schema=schema)
    unauthorized = _error("Not signed in.")
    spec.path(
        path="/api/v1/session",
        operations={
            "get": {
                "summary": "Who is signed in, and a fresh CSRF token.",
                "responses": {
                    "200": {
                        "description": "Signed in.",
                        "content": {"application/json": {"schema": "Session"}},
                    },
                    "401": unauthorized,
                },
            }
        },
    )
    spec.path(
        path="/api/v1/field-pack",
        operations={
            "get": {
                "summary": "Everything needed to fill a checklist offline.",
                "parameters": [
                    {
                        "in": "header",
                        "name": "If-None-Match",
                        "schema": {"type": "string"},
                        "required": False,
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The pack, with an ETag.",
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": "FieldPack"}},
                    },
                    "304": {"description": "Unchanged since the ETag sent."},
                    "401": unauthorized,
                },
            }
        },
    )
    spec.path(
        path="/api/v1/sync",
        operations={
            "post": {
                "summary": "Store 1 to 100 queued evaluations; one result per item, in order.",
                "security": [{"session": [], "csrf": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "SyncRequest"}},
                },
                "responses": {
                    "200": {
                        "description": (
                            "created | duplicate | conflict | rejected per item; an item"
                            " that cannot be stored is rejected alone, the others stored."
                        ),
                        "content": {"application/json": {"schema": "SyncResponse"}},
                    },
                    "400": _error("Malformed JSON or shape, or more than 100 items."),
                    "401": unauthorized,
                    "403": _error("Bad CSRF token, or a role that may not submit."),
                    "413": _error(f"Body over {max_body} bytes."),
                    "429": {
                        **_error("Rate-limited; retry after the Retry-After seconds."),
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    },
                    "503": {
                        **_error("The database is busy; nothing stored, retry after Retry-After."),
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    },
                },
            }
        },
    )
    return spec.to_dict()
