"""The read API in the OpenAPI document (added to the sync API's by coso.sync.docs)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from coso.feedback.rules import ACTION_STATUSES
from coso.judging.flags import STATES
from coso.read_api import schema
from coso.read_api.params import DEFAULT_LIMIT, MAX_LIMIT

BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A personal access token made on /account/tokens (coso_pat_...).",
}


def _query(name: str, description: str, **schema_: Any) -> dict[str, Any]:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "description": description,
        "schema": schema_ or {"type": "string"},
    }


UNIT = _query(
    "unit",
    "A unit of your area: only its subtree is read (default: your own unit).",
    type="integer",
    minimum=0,
    maximum=2**31 - 1,
)
PERIOD = [
    _query("from", "First day included (YYYY-MM-DD).", type="string", format="date"),
    _query("to", "Last day included (YYYY-MM-DD).", type="string", format="date"),
]
PAGE = [
    _query(
        "limit",
        f"Rows per page (default {DEFAULT_LIMIT}).",
        type="integer",
        minimum=1,
        maximum=MAX_LIMIT,
    ),
    _query("cursor", "The next_cursor of the previous page.", type="string"),
]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def _get(summary: str, page: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "tags": ["read"],
            "security": [{"bearer": []}, {"session": []}],
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": "One page of rows.",
                    "content": {"application/json": {"schema": page}},
                },
                "400": {
                    "description": "A parameter the API cannot take; `parameter` names it.",
                    "content": {"application/json": {"schema": "ParameterError"}},
                },
                "401": _error("No valid token or session (expired or revoked token)."),
                "403": _error("The unit lies outside your area."),
                "404": _error("No such unit."),
                "429": {
                    **_error("Rate-limited; retry after the Retry-After seconds."),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                },
            },
        }
    }


def add_paths(spec: APISpec) -> None:
    """Register the read API's schemas, security scheme and paths on ``spec``."""
    spec.components.security_scheme("bearer", BEARER)
    for name, row in (
        ("UnitPage", schema.UnitPage),
        ("BranchPage", schema.BranchPage),
        ("EvaluationPage", schema.EvaluationPage),
        ("AnswerPage", schema.AnswerPage),
        ("ActionPage", schema.ActionPage),
        ("VisitPage", schema.VisitPage),
        ("EvaluationDetail", schema.EvaluationDetail),
        ("ParameterError", schema.ParameterError),
    ):
        spec.components.schema(name, schema=row)
    kinds = {"type": "string", "enum": ["central", "province", "district", "commune", "branch"]}
    spec.path(
        path="/api/v1/units",
        operations=_get(
            "Units of your area, in id order.",
            "UnitPage",
            [UNIT, _query("kind", "Only units of this kind.", **kinds), *PAGE],
        ),
    )
    spec.path(
        path="/api/v1/branches",
        operations=_get(
            "Branches with their state as the province sees it today.",
            "BranchPage",
            [
                UNIT,
                _query("state", "Only branches in this state.", type="string", enum=list(STATES)),
                *PAGE,
            ],
        ),
    )
    spec.path(
        path="/api/v1/evaluations",
        operations=_get(
            "Evaluations of meetings held in from..to (corrected ones too, marked superseded).",
            "EvaluationPage",
            [UNIT, *PERIOD, *PAGE],
        ),
    )
    spec.path(
        path="/api/v1/answers",
        operations=_get(
            "Every answer of the evaluations of meetings held in from..to, one row per item.",
            "AnswerPage",
            [UNIT, *PERIOD, *PAGE],
        ),
    )
    spec.path(
        path="/api/v1/actions",
        operations=_get(
            "Corrective actions created in from..to.",
            "ActionPage",
            [
                UNIT,
                *PERIOD,
                _query(
                    "status",
                    "Only actions in this status.",
                    type="string",
                    enum=list(ACTION_STATUSES),
                ),
                *PAGE,
            ],
        ),
    )
    spec.path(
        path="/api/v1/visits",
        operations=_get(
            "Visits started in from..to: your area's if you plan or read the ledger,"
            " else your own.",
            "VisitPage",
            [UNIT, *PERIOD, *PAGE],
        ),
    )
    detail = _get("One evaluation with every answer.", "EvaluationDetail", [])
    detail["get"]["parameters"] = [
        {
            "in": "path",
            "name": "evaluation_id",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        }
    ]
    detail["get"]["responses"]["200"]["description"] = "The evaluation."
    detail["get"]["responses"]["403"] = _error("The evaluation's branch lies outside your area.")
    detail["get"]["responses"]["404"] = _error("No such evaluation.")
    del detail["get"]["responses"]["400"]
    spec.path(path="/api/v1/evaluations/{evaluation_id}", operations=detail)
