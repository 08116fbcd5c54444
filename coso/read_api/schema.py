"""The rows the read API returns, as marshmallow schemas (they dump the rows and document them)."""

from __future__ import annotations

from marshmallow import Schema, fields


class UnitRow(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(
        required=True, metadata={"enum": ["central", "province", "district", "commune", "branch"]}
    )
    parent_id = fields.Integer(allow_none=True, required=True)
    depth = fields.Integer(required=True)
    active = fields.Boolean(required=True)


class BranchRow(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent_id = fields.Integer(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    member_count = fields.Integer(allow_none=True, required=True)
    state = fields.String(
        required=True,
        metadata={
            "description": "The branch's flag as the province sees it today:"
            " ok, flagged, repeat, overdue, never."
        },
    )
    since = fields.Date(allow_none=True, required=True)
    streak = fields.Integer(required=True)
    serious = fields.Boolean(required=True)
    score = fields.Float(allow_none=True, required=True)
    last_meeting_date = fields.Date(allow_none=True, required=True)
    last_evaluation_id = fields.Integer(allow_none=True, required=True)


class EvaluationRow(Schema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    branch_id = fields.Integer(required=True)
    cadre_id = fields.Integer(required=True)
    cadre_name = fields.String(required=True)
    template_id = fields.Integer(required=True)
    guidance_id = fields.Integer(allow_none=True, required=True)
    meeting_date = fields.Date(required=True)
    meeting_type = fields.String(required=True)
    mode = fields.String(required=True)
    members_total = fields.Integer(required=True)
    members_present = fields.Integer(required=True)
    attendance = fields.Float(allow_none=True, required=True)
    topic_coverage = fields.Float(allow_none=True, required=True)
    score = fields.Float(allow_none=True, required=True)
    procedure_score = fields.Float(allow_none=True, required=True)
    content_score = fields.Float(allow_none=True, required=True)
    compliant = fields.Boolean(required=True)
    serious = fields.Boolean(required=True)
    reasons = fields.List(fields.Dict(), required=True)
    topics_covered = fields.List(fields.String(), required=True)
    supersedes_id = fields.Integer(allow_none=True, required=True)
    superseded = fields.Boolean(
        required=True, metadata={"description": "A later correction replaces this one."}
    )
    submitted_at = fields.DateTime(required=True)
    received_at = fields.DateTime(required=True)


class AnswerRow(Schema):
    evaluation_id = fields.Integer(required=True)
    item_code = fields.String(required=True)
    value = fields.String(required=True)
    note = fields.String(allow_none=True, required=True)


class EvaluationDetail(EvaluationRow):
    notes = fields.String(allow_none=True, required=True)
    good_practice = fields.String(allow_none=True, required=True)
    answers = fields.List(fields.Nested(AnswerRow), required=True)


class ActionRow(Schema):
    id = fields.Integer(required=True)
    branch_id = fields.Integer(required=True)
    evaluation_id = fields.Integer(allow_none=True, required=True)
    item_code = fields.String(allow_none=True, required=True)
    description = fields.String(required=True)
    owner = fields.String(required=True)
    due_date = fields.Date(required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True, required=True)


class VisitRow(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    form = fields.String(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    days = fields.Integer(required=True)
    reported_at = fields.DateTime(allow_none=True, required=True)
    evaluation_id = fields.Integer(allow_none=True, required=True)


def page_schema(name: str, row: type[Schema]) -> type[Schema]:
    """``{"items": [row, ...], "next_cursor": str | null}`` for one kind of row."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(row), required=True),
            "next_cursor": fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "Pass as ?cursor= for the next page; null at the end."},
            ),
        },
        name=name,
    )


UnitPage = page_schema("UnitPage", UnitRow)
BranchPage = page_schema("BranchPage", BranchRow)
EvaluationPage = page_schema("EvaluationPage", EvaluationRow)
AnswerPage = page_schema("AnswerPage", AnswerRow)
ActionPage = page_schema("ActionPage", ActionRow)
VisitPage = page_schema("VisitPage", VisitRow)


class ParameterError(Schema):
    """A 400 of the read API: which query parameter, and why."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    parameter = fields.String(required=True)
