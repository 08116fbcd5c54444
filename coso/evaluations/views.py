"""The cadre's pages: find a branch, fill the checklist, see the result, correct it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from coso import clock, scope
from coso.brief.queries import brief_of
from coso.checklists.queries import current_template
from coso.evaluations import service, twins, words
from coso.evaluations.queries import evaluation_or_403
from coso.evaluations.rules import correction_open, new_uuid
from coso.extensions import db
from coso.fields import parse_day
from coso.guidance.queries import guidance_for
from coso.guidance.rules import period_of
from coso.judging.queries import Thresholds, settings_for_path, thresholds
from coso.meetings import queries as meetings
from coso.models import BranchStatus, ChecklistTemplate, Evaluation, Guidance, Unit
from coso.models.evaluations import MEETING_TYPES, MODES
from coso.photos import queries as photo_queries
from coso.units.queries import matching
from coso.web import page_arg, wants_fragment

bp = Blueprint("evaluations", __name__)
PAGE_SIZE = 30


@bp.get("/evaluate")
@login_required
def start() -> ResponseReturnValue:
    """Pick a branch in my area to evaluate; htmx live-searches by name or code.

    Every branch is reachable: the list is paged ("Tất cả chi đoàn" holds them all), and
    offline static/js/search.js lists and searches every branch of the field pack instead.
    """
    scope.require(current_user, "evaluate")
    q = request.args.get("q", "").strip()[:100]
    page = page_arg()
    total = branch_count(q)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    branches = branches_in_scope(q, offset=(page - 1) * PAGE_SIZE)
    context = {"branches": branches, "q": q, "page": page, "pages": pages, "total": total}
    if wants_fragment():
        return render_template("evaluations/_branch_results.html", **context)
    return render_template("evaluations/start.html", **context)


def _branch_query(q: str) -> sa.Select[Any]:
    """Active branches in the user's subtree whose name or code contains ``q`` (any accents)."""
    query = sa.select(Unit).where(
        scope.scope_clause(current_user), Unit.kind == "branch", Unit.active.is_(True)
    )
    return query.where(matching(q)) if q else query


def branch_count(q: str = "") -> int:
    """How many branches :func:`branches_in_scope` pages through."""
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(_branch_query(q).subquery())) or 0
    )


def branches_in_scope(
    q: str = "", limit: int = PAGE_SIZE, resolved: Thresholds | None = None, offset: int = 0
) -> list[tuple[Unit, str]]:
    """Active branches in the user's subtree matching ``q``, worst state first.

    :param resolved: the request's thresholds of the user's unit, if it has them already.
    :param offset: how many to skip (a page of the list).
    """
    today = clock.today()
    state = (resolved or thresholds(current_user.unit)).state_expr(today)
    query = (
        _branch_query(q)
        .add_columns(state)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
    )
    order = sa.case(
        {"repeat": 0, "flagged": 1, "overdue": 2, "never": 3, "ok": 4}, value=state, else_=5
    )
    rows = db.session.execute(
        query.order_by(order, Unit.name, Unit.id).offset(offset).limit(limit)
    ).all()
    return [(unit, st) for unit, st in rows]


@bp.route("/evaluate/<int:branch_id>", methods=["GET", "POST"])
@login_required
def checklist(branch_id: int) -> ResponseReturnValue:
    """The checklist form: GET shows it, POST stores it or shows the errors beside the fields."""
    branch = scope.unit_or_403(current_user, branch_id, "evaluate")
    if not branch.is_branch:
        abort(404)
    if request.method == "POST":
        return _post_checklist(branch)
    template = current_template(branch)
    if template is None:
        return render_template("evaluations/no_template.html", branch=branch), 409
    meeting = _parse_date(request.args.get("meeting_date")) or clock.today()
    values: MultiDict[str, str] = MultiDict(
        {
            "uuid": new_uuid(),
            "meeting_date": meeting.isoformat(),
            "meeting_type": "regular",
            "mode": "in_person",
            "members_total": str(branch.member_count or ""),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    correcting = None
    if "correct" in request.args:
        correcting = _own_correctable(request.args["correct"], branch)
        values = _values_from(correcting)
        values["uuid"] = new_uuid()
        values["supersedes"] = correcting.uuid
    return _render_form(branch, template, values, {}, correcting=correcting)


def _post_checklist(branch: Unit) -> ResponseReturnValue:
    form = request.form
    template = db.session.get(ChecklistTemplate, _int(form.get("template_id")) or 0)
    if template is None:
        template = current_template(branch)
        if template is None:
            abort(409)
    payload = payload_from_form(form, template, branch.id)
    result = service.submit(payload, current_user._get_current_object())
    if result.status in (service.CREATED, service.DUPLICATE):
        db.session.commit()
        assert result.id is not None
        target = url_for("evaluations.result", evaluation_id=result.id)
        if wants_fragment():
            return Response(status=204, headers={"HX-Redirect": target})
        return redirect(target, code=303)
    db.session.rollback()
    errors = result.errors or {}
    correcting = None
    if form.get("supersedes"):
        # Only the cadre's own evaluation: a refused form must not show another
        # cadre's evaluation (its meeting date) to whoever typed its UUID (issue 17, item 15).
        correcting = db.session.scalar(
            sa.select(Evaluation).where(
                Evaluation.uuid == (form.get("supersedes") or "")[:36],
                Evaluation.cadre_id == current_user.id,
            )
        )
    response = _render_form(branch, template, form, errors, correcting=correcting)
    return response, 422


def _render_form(
    branch: Unit,
    template: ChecklistTemplate,
    values: MultiDict[str, str] | Any,
    errors: dict[str, Any],
    *,
    correcting: Evaluation | None = None,
) -> str:
    meeting = _parse_date(values.get("meeting_date")) or clock.today()
    guidance = guidance_for(branch, period_of(meeting))
    last = _last_result(branch)
    settings = settings_for_path(branch.path)
    today = clock.today()
    brief = brief_of(branch, last, current_user.id, today)
    coming = meetings.next_by_branch(meetings.upcoming([branch.id], today))
    context = {
        "branch": branch,
        "template": template,
        "guidance": guidance,
        "values": values,
        "errors": errors,
        "locale": str(get_locale()),
        "meeting_types": MEETING_TYPES,
        "modes": MODES,
        "settings": settings,
        "last": last,
        "correcting": correcting,
        "today": today,
        "brief": brief,
        "failed_last": set(brief.get("failed", ())),
        "declared_meeting": coming.get(branch.id),
        "earlier": _earlier(branch, meeting, values.get("supersedes"), settings.correction_hours),
    }
    if wants_fragment() and request.method == "POST":
        return render_template("evaluations/_form.html", **context)
    return render_template("evaluations/checklist.html", **context)


@bp.get("/evaluate/<int:branch_id>/topics")
@login_required
def topics(branch_id: int) -> ResponseReturnValue:
    """The guidance-topics block for the month of the chosen meeting date (htmx)."""
    branch = scope.unit_or_403(current_user, branch_id, "evaluate")
    meeting = _parse_date(request.args.get("meeting_date")) or clock.today()
    guidance = guidance_for(branch, period_of(meeting))
    settings = settings_for_path(branch.path)
    topics_block = render_template(
        "evaluations/_topics.html",
        guidance=guidance,
        values=MultiDict(),
        errors={},
        settings=settings,
    )
    # The same change of date also asks whether that meeting was evaluated already (out of band).
    meeting_day = _parse_date(request.args.get("meeting_date"))
    earlier = _earlier(
        branch, meeting_day, request.args.get("supersedes"), settings.correction_hours
    )
    warning = render_template(
        "evaluations/_duplicate.html", branch=branch, earlier=earlier, oob=True
    )
    return topics_block + warning


def _earlier(
    branch: Unit, meeting: date | None, supersedes: str | None, hours: int
) -> list[twins.Warning]:
    """The evaluations in force of this meeting, but the one being corrected (issue 16, item 3)."""
    return twins.warnings_for(
        branch.id,
        meeting,
        user_id=current_user.id,
        now=datetime.now(UTC),
        correction_hours=hours,
        excluding=supersedes,
    )


@bp.get("/evaluations/<int:evaluation_id>")
@login_required
def result(evaluation_id: int) -> ResponseReturnValue:
    """Scores, compliance and every reason in words."""
    evaluation = evaluation_or_403(current_user, evaluation_id)
    locale = str(get_locale())
    template = evaluation.template
    reasons = [words.describe(reason, template, locale) for reason in evaluation.reasons]
    answers = {answer.item_code: answer for answer in evaluation.answers}
    guidance: Guidance | None = evaluation.guidance
    missed = (
        [t for t in guidance.topics if t.code not in set(evaluation.topics_covered)]
        if guidance
        else []
    )
    return render_template(
        "evaluations/result.html",
        evaluation=evaluation,
        template=template,
        reasons=reasons,
        answers=answers,
        missed=missed,
        locale=locale,
        value_label=words.value_label,
        can_correct=_correctable(evaluation),
        branch_status=db.session.get(BranchStatus, evaluation.branch_id),
        photos=photo_queries.of_evaluation(evaluation),
    )


def _correctable(evaluation: Evaluation) -> bool:
    if evaluation.cadre_id != current_user.id or evaluation.superseded_by is not None:
        return False
    hours = settings_for_path(evaluation.branch.path).correction_hours
    # The server's clock only: when the original arrived (issue 17, item 4).
    return correction_open(evaluation.received_at, datetime.now(UTC), hours)


def _own_correctable(uuid: str, branch: Unit) -> Evaluation:
    evaluation = db.session.scalar(sa.select(Evaluation).where(Evaluation.uuid == uuid[:36]))
    if evaluation is None or evaluation.branch_id != branch.id:
        abort(404)
    if not _correctable(evaluation):
        abort(403, description=_("This evaluation can no longer be corrected."))
    return evaluation


def _values_from(evaluation: Evaluation) -> MultiDict[str, str]:
    """Form values that reproduce a stored evaluation (to start a correction)."""
    values: MultiDict[str, str] = MultiDict(
        {
            "meeting_date": evaluation.meeting_date.isoformat(),
            "meeting_type": evaluation.meeting_type,
            "mode": evaluation.mode,
            "members_total": str(evaluation.members_total),
            "members_present": str(evaluation.members_present),
            "notes": evaluation.notes or "",
            "good_practice": evaluation.good_practice or "",
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    if evaluation.recommend_practice:
        values["recommend_practice"] = "1"
    for answer in evaluation.answers:
        values[f"answer-{answer.item_code}"] = answer.value
        if answer.note:
            values[f"note-{answer.item_code}"] = answer.note
    for code in evaluation.topics_covered:
        values.add("topics", code)
    return values


def _last_result(branch: Unit) -> Evaluation | None:
    row = db.session.get(BranchStatus, branch.id)
    return row.evaluation if row is not None else None


def payload_from_form(
    form: MultiDict[str, str], template: ChecklistTemplate, branch_id: int
) -> dict[str, Any]:
    """The form's fields in the sync API's shape, so one schema validates both."""
    answers = []
    for item in template.items:
        if item.kind != "choice":
            continue
        value = form.get(f"answer-{item.code}", "").strip()
        if value:
            answers.append(
                {"item": item.code, "value": value, "note": form.get(f"note-{item.code}") or None}
            )
    return {
        "uuid": form.get("uuid", "").strip(),
        "branch_id": branch_id,
        "template_id": template.id,
        "guidance_id": _int(form.get("guidance_id")),
        "meeting_date": form.get("meeting_date", "").strip() or None,
        "meeting_type": form.get("meeting_type") or None,
        "mode": form.get("mode") or None,
        "members_total": _int_or_text(form.get("members_total")),
        "members_present": _int_or_text(form.get("members_present")),
        "answers": answers,
        "topics_covered": form.getlist("topics"),
        "seen_done": [n for text in form.getlist("seen_done") if (n := _int(text)) is not None],
        "notes": form.get("notes") or None,
        "good_practice": form.get("good_practice") or None,
        "recommend_practice": bool(form.get("recommend_practice")),
        "supersedes": form.get("supersedes") or None,
        "started_at": form.get("started_at") or None,
        "submitted_at": None,
    }


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def _int_or_text(text: str | None) -> int | str | None:
    """An integer when the text is one; else the text, so the schema reports it."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _parse_date(text: str | None) -> date | None:
    try:
        return parse_day(text or "")
    except ValueError:
        return None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["describe_reason"] = words.describe
    app.jinja_env.globals["short_reason"] = words.short_reason
