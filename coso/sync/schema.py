"""The shapes of the sync API's requests and answers, as marshmallow schemas.

They validate nothing at run time (``EvaluationSchema`` does, in coso.evaluations):
they document the contract. :mod:`coso.sync.docs` builds ``/api/v1/openapi.json``
from them, and tests/test_fuzz_api.py holds every answer of the API to that document.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from coso.evaluations.schema import EvaluationSchema

STATUSES = ("created", "duplicate", "conflict", "rejected")


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)


class SessionUserSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    unit_id = fields.Integer(required=True)


class SessionSchema(Schema):
    user = fields.Nested(SessionUserSchema, required=True)
    csrf_token = fields.String(required=True)


class SyncRequestSchema(Schema):
    device_id = fields.String(allow_none=True, metadata={"maxLength": 100})
    evaluations = fields.List(
        fields.Nested(EvaluationSchema),
        required=True,
        metadata={"minItems": 1, "maxItems": 100},
    )


class ReasonSchema(Schema):
    rule = fields.String(required=True)
    items = fields.List(fields.String(), required=True)
    value = fields.Float(allow_none=True)
    threshold = fields.Float(allow_none=True)


class OutcomeSchema(Schema):
    compliant = fields.Boolean(required=True)
    serious = fields.Boolean(required=True)
    score = fields.Float(required=True, allow_none=True)
    procedure_score = fields.Float(required=True, allow_none=True)
    content_score = fields.Float(required=True, allow_none=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)


class SyncResultSchema(Schema):
    uuid = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    id = fields.Integer(required=True, allow_none=True)
    errors = fields.Dict(required=True, allow_none=True)
    outcome = fields.Nested(OutcomeSchema, required=True, allow_none=True)


class SyncResponseSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema), required=True)


class LastEvaluationSchema(Schema):
    id = fields.Integer(required=True)
    meeting_date = fields.Date(required=True)
    score = fields.Float(required=True, allow_none=True)
    compliant = fields.Boolean(required=True)


class PackRecentSchema(Schema):
    """An evaluation in force of a recent meeting: who and when, the UUID only of the user's own."""

    meeting_date = fields.Date(required=True)
    cadre = fields.String(required=True)
    received_at = fields.String(required=True, metadata={"format": "date-time"})
    mine = fields.Boolean(required=True)
    uuid = fields.String(required=True, allow_none=True)


class PackMeetingSchema(Schema):
    """A declared meeting of a branch (issue 18, item 1): when, where, moved or cancelled."""

    id = fields.Integer(required=True)
    branch_id = fields.Integer(required=True)
    date = fields.Date(required=True)
    time = fields.String(required=True, metadata={"pattern": "^[0-2][0-9]:[0-5][0-9]$"})
    place = fields.String(required=True, allow_none=True)
    link = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, metadata={"enum": ["regular", "themed", "other"]})
    moved_from = fields.Date(required=True, allow_none=True)
    cancelled = fields.Boolean(required=True)
    cancel_reason = fields.String(required=True, allow_none=True)


class BriefActionSchema(Schema):
    """An open corrective action of the branch, as the brief lists it."""

    id = fields.Integer(required=True)
    text = fields.String(required=True)
    owner = fields.String(required=True)
    due = fields.Date(required=True)
    item = fields.String(metadata={"description": "the checklist item it corrects"})
    overdue = fields.Boolean(metadata={"description": "present (true) when past its due date"})
    seen = fields.Boolean(metadata={"description": "present (true) when a cadre saw it done"})


class BriefSecretarySchema(Schema):
    name = fields.String(required=True, allow_none=True)
    since = fields.Date()
    party = fields.Boolean(metadata={"description": "Party member; absent when not known"})


class BriefPlanSchema(Schema):
    """One of the user's own plans of the branch that is not over: what to look at."""

    id = fields.Integer(required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    form = fields.String(required=True)
    form_label = fields.String(required=True)
    focus = fields.String()
    day_before = fields.Boolean()
    proposed = fields.Boolean(metadata={"description": "present (true) while awaiting approval"})


class PackBriefSchema(Schema):
    """The brief before leaving (issue 18, item 4). Every key is optional: an empty part is
    left out to keep the pack small. ``failed`` and ``notes`` are of ``last_evaluation``."""

    failed = fields.List(fields.String())
    notes = fields.String()
    actions = fields.List(fields.Nested(BriefActionSchema))
    unanswered = fields.Integer(metadata={"description": "evaluations not acknowledged yet"})
    secretary = fields.Nested(BriefSecretarySchema)
    plans = fields.List(fields.Nested(BriefPlanSchema))


class PackBranchSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent_name = fields.String(required=True, allow_none=True)
    state = fields.String(
        required=True, metadata={"enum": ["ok", "flagged", "repeat", "overdue", "never"]}
    )
    members = fields.Integer(required=True, allow_none=True)
    guidance_id = fields.Integer(required=True, allow_none=True)
    template_id = fields.Integer(required=True, allow_none=True)
    last_evaluation = fields.Nested(LastEvaluationSchema, required=True, allow_none=True)
    open_actions = fields.Integer(required=True)
    #: Optional and additive (older clients ignore it): meetings of the last 93 days already
    #: evaluated, for the "evaluated already?" warning (issue 16, item 3).
    recent_evaluations = fields.List(fields.Nested(PackRecentSchema))
    #: Optional and additive: the branch's next declared meeting that is not cancelled, in
    #: the coming weeks, or null (issue 18, item 1).
    next_meeting = fields.Nested(PackMeetingSchema, allow_none=True)
    #: Optional and additive: the brief before leaving (issue 18, item 4).
    brief = fields.Nested(PackBriefSchema)


class PackItemSchema(Schema):
    code = fields.String(required=True)
    section = fields.String(required=True, metadata={"enum": ["procedure", "content"]})
    text = fields.String(required=True)
    text_vi = fields.String(required=True)
    text_en = fields.String(required=True)
    weight = fields.Integer(required=True)
    critical = fields.Boolean(required=True)
    kind = fields.String(required=True, metadata={"enum": ["choice", "computed"]})


class PackTemplateSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    items = fields.List(fields.Nested(PackItemSchema), required=True)


class TopicSchema(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)


class PackGuidanceSchema(Schema):
    id = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    period = fields.String(required=True)
    title = fields.String(required=True)
    link = fields.String(required=True, allow_none=True)
    #: Optional and additive: the month's material as text (issue 18, item 4).
    material = fields.String(allow_none=True)
    topics = fields.List(fields.Nested(TopicSchema), required=True)


class PackPracticeSchema(Schema):
    """A good practice spread to the user's area, for reading offline (issue 19, item 4)."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    unit_name = fields.String(required=True)
    source = fields.String(required=True, metadata={"enum": ["evaluation", "visit", "own"]})
    spread_on = fields.Date(required=True, allow_none=True)
    new = fields.Boolean(required=True, metadata={"description": "not opened by the user yet"})


class FieldPackSchema(Schema):
    generated_at = fields.DateTime(required=True)
    user = fields.Nested(SessionUserSchema, required=True)
    period = fields.String(required=True)
    branches = fields.List(fields.Nested(PackBranchSchema), required=True)
    templates = fields.List(fields.Nested(PackTemplateSchema), required=True)
    guidance = fields.List(fields.Nested(PackGuidanceSchema), required=True)
    settings = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    #: Optional and additive: the declared meetings of the area's branches in the coming
    #: weeks, cancelled ones too, by branch and date (issue 18, item 1).
    meetings = fields.List(fields.Nested(PackMeetingSchema))
    #: Optional and additive: good practices spread to the user's area (issue 19, item 4).
    practices = fields.List(fields.Nested(PackPracticeSchema))
