"""The OpenAPI document of /api/v1, generated from the marshmallow schemas (apispec)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from coso.difficulties.rules import TEXT_MAX
from coso.difficulties.schema import DIFFICULTY, DifficultyItemSchema
from coso.evaluations.schema import AnswerSchema, EvaluationSchema
from coso.sync.schema import (
    ErrorSchema,
    FieldPackSchema,
    SessionSchema,
    SyncRequestSchema,
    SyncResponseSchema,
)
from coso.visits.schema import EVALUATION, KINDS, MAX_REPORT, ReportItemSchema, VisitItemSchema


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def build_spec(max_body: int) -> dict[str, Any]:
    """The OpenAPI 3 document as a dict."""
    spec = APISpec(
        title="coso API: sync and read",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Authentication is the browser session opened at /login. Every POST "
            "sends the CSRF token from GET /api/v1/session in the X-CSRFToken header. The "
            "read endpoints (tag read) also take a personal access token from /account/tokens "
            "as Authorization: Bearer coso_pat_...; it reads exactly what its user may see."
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
        ("VisitItem", VisitItemSchema()),
        ("VisitReportItem", ReportItemSchema()),
        ("DifficultyItem", DifficultyItemSchema()),
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
                "summary": "Store 1 to 100 queued items; one result per item, in order.",
                "description": (
                    "The batch's `evaluations` list holds items of four kinds, told apart"
                    " by `kind`: an evaluation (no `kind`, or `evaluation`: every batch"
                    " sent before kinds existed), a visit other than a branch meeting"
                    " (`visit`), one version of a visit's written report"
                    " (`visit_report`) and a difficulty or proposal (`difficulty`). A visit"
                    " is stored once per UUID; a report version is stored when it is later"
                    " than the one stored for the same draft (`uuid`) of the same visit"
                    " (`visit_uuid`), a duplicate when it is that version again, a conflict"
                    " otherwise. A report names a visit sent before it (earlier in the same"
                    " batch counts). A difficulty is stored once per UUID, about a unit the"
                    " sender may raise one for, in one of its province's categories; a"
                    " secretary who does not evaluate may send difficulties alone. Results"
                    " of visits, reports and difficulties carry their `kind`; an"
                    " evaluation's result is unchanged."
                ),
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
    from coso.read_api.docs import add_paths

    add_paths(spec)  # the read API (issue 21, item 5), beside the sync API
    from coso.photos.docs import add_paths as add_photo_paths

    add_photo_paths(spec)  # photo evidence (issue 20)
    document = spec.to_dict()
    _describe_kinds(document["components"]["schemas"])
    return document


def _describe_kinds(schemas: dict[str, Any]) -> None:
    """The batch's items are one of the four kinds (marshmallow has no "one of" field)."""
    schemas["Evaluation"]["properties"]["kind"] = {
        "type": "string",
        "enum": [EVALUATION],
        "default": EVALUATION,
        "description": "Optional: an item without `kind` is an evaluation.",
    }
    for name, kind in (
        ("VisitItem", "visit"),
        ("VisitReportItem", "visit_report"),
        ("DifficultyItem", DIFFICULTY),
    ):
        schemas[name]["properties"]["kind"] = {"type": "string", "enum": [kind]}
    schemas["DifficultyItem"]["properties"]["text"]["maxLength"] = TEXT_MAX
    for name in ("VisitItem", "VisitReportItem"):
        schemas[name]["properties"]["report"]["maxLength"] = MAX_REPORT
    schemas["VisitItem"]["properties"]["unit_id"].update(minimum=1, maximum=2**31 - 1)
    batch = schemas["SyncRequest"]["properties"]["evaluations"]
    batch["items"] = {
        "oneOf": [
            {"$ref": "#/components/schemas/Evaluation"},
            {"$ref": "#/components/schemas/VisitItem"},
            {"$ref": "#/components/schemas/VisitReportItem"},
            {"$ref": "#/components/schemas/DifficultyItem"},
        ]
    }
    result = schemas["SyncResult"]["properties"]
    result["kind"] = {
        "type": "string",
        "enum": [kind for kind in KINDS if kind != EVALUATION],
        "description": "Only on the result of a visit, a report version or a difficulty.",
    }
