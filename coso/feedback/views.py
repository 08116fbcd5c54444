"""The secretaries' inbox, the feedback page on one evaluation, and replies.

Corrective actions (their list, one action, creating, proposing and changing
them) are in :mod:`coso.feedback.actions`, on the same blueprint.

Views parse, ask :mod:`coso.scope`, call the queries or the service, then render
or redirect. Every URL answers a full page, or its partial when htmx asks; every
form works without JavaScript and comes back with each error beside its field
(422), storing nothing.

Who may do what (always inside the user's subtree, else 403; unknown ids 404):

- read the feedback page or an action: anyone who may view the branch;
- the inbox and the actions list: secretaries, and read-only the province;
- acknowledge, reply, create, accept, decline, close: secretaries ("respond");
- propose an action on a failed item, mark a reply read: the evaluation's cadre.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from coso import clock, scope
from coso.evaluations import words
from coso.evaluations.queries import evaluation_or_403
from coso.extensions import db
from coso.feedback import alerts, queries, rules, service
from coso.feedback.counts import menu_count, notices, send_counts
from coso.feedback.schema import ReplySchema
from coso.fields import plain_errors
from coso.judging.queries import thresholds
from coso.judging.scoring import FAIL, PARTIAL
from coso.models import BranchStatus, Evaluation, Unit
from coso.photos import queries as photo_queries
from coso.redirects import safe_next
from coso.web import (
    choice_arg,
    page_arg,
    render_page,
    unit_arg,
    unit_choices,
    user_now,
    wants_fragment,
)

bp = Blueprint("feedback", __name__)
bp.after_request(send_counts)  # every htmx change answers with the new counts

Errors = dict[str, list[str]]


def _locale() -> str:
    return str(get_locale())


# ------------------------------------------------------------------- access


def authored_or_403(evaluation_id: int) -> Evaluation:
    """The evaluation, if the user wrote it and may still evaluate its branch."""
    evaluation = evaluation_or_403(current_user, evaluation_id)
    if evaluation.cadre_id != current_user.id or not scope.may(
        current_user, "evaluate", evaluation.branch
    ):
        abort(403, description=_("Only the cadre who wrote this evaluation can do this."))
    return evaluation


def require_lists() -> None:
    """The inbox and the actions list: secretaries, and the province read-only."""
    if not (scope.can(current_user, "respond") or scope.can(current_user, "evaluate_view")):
        abort(403, description=_("Your role does not allow this."))


def next_url(default: str) -> str:
    """Where to go after a form: a local path sent by the form, else ``default``."""
    return safe_next(request.form.get("next", "") or request.args.get("next", ""), default)


# ------------------------------------------------------------------ parsing


# -------------------------------------------------------------------- lists


@bp.get("/feedback")
@login_required
def inbox() -> ResponseReturnValue:
    """The secretary's home: evaluations in my area, newest first, unread ones marked."""
    require_lists()
    errors: Errors = {}
    unit = unit_arg(errors)
    show = choice_arg("show", ("all", "unread"), "all", errors)
    number = page_arg()
    today = clock.today()
    result = queries.inbox(unit, today, unread_only=show == "unread", page=number)
    context = {
        "result": result,
        "unit": unit,
        "units": unit_choices(unit, nearby=True),
        "show": show,
        "errors": errors,
        "today": today,
        "notices": notices(),
    }
    return render_page(
        "feedback/inbox.html", "feedback/_inbox.html", 422 if errors else 200, **context
    )


@bp.get("/feedback/replies")
@login_required
def replies() -> ResponseReturnValue:
    """What branches answered to my evaluations; showing them changes nothing (a GET is
    safe, issue 17 item 14): the page's button POSTs to ``replies_read``."""
    scope.require(current_user, "evaluate")
    number = page_arg()
    result = queries.replies(user_now(), number)
    return render_page("feedback/replies.html", "feedback/_replies.html", result=result)


#: At most this many replies are marked read by one POST (a page holds far fewer).
MAX_MARK = 200


@bp.post("/feedback/replies/read")
@login_required
def replies_read() -> ResponseReturnValue:
    """The cadre marks the replies shown (``feedback_id`` values) read; CSRF-protected."""
    scope.require(current_user, "evaluate")
    ids = [
        int(raw)
        for raw in request.form.getlist("feedback_id")[:MAX_MARK]
        if raw.isdecimal() and len(raw) <= 9
    ]
    if service.mark_replies_read(ids, cadre_id=current_user.id):
        db.session.commit()
    if wants_fragment():
        result = queries.replies(user_now(), 1)
        return render_template("feedback/_replies.html", result=result)
    return redirect(url_for("feedback.replies"), 303)


# ------------------------------------------------------------ feedback page


def not_met(evaluation: Evaluation) -> list[tuple[Any, Any]]:
    """The items failed or partly met, as (checklist item, answer), in checklist order."""
    answers = {answer.item_code: answer for answer in evaluation.answers}
    out = []
    for item in evaluation.template.items:
        answer = answers.get(item.code)
        if answer is not None and answer.value in (FAIL, PARTIAL):
            out.append((item, answer))
    return out


def _state_of(branch: Unit, today: date) -> str:
    row = db.session.get(BranchStatus, branch.id)
    return thresholds(branch).effective_state(row, branch.path, today)[0]


def page_context(evaluation: Evaluation, **extra: Any) -> dict[str, Any]:
    """Everything the feedback page and its sections show."""
    today = clock.today()
    locale = _locale()
    guidance = evaluation.guidance
    covered = set(evaluation.topics_covered or ())
    branch = evaluation.branch
    items = not_met(evaluation)
    context: dict[str, Any] = {
        "evaluation": evaluation,
        "branch": branch,
        "locale": locale,
        "today": today,
        "reasons": [words.describe(r, evaluation.template, locale) for r in evaluation.reasons],
        "not_met": items,
        "item_choices": [(item.code, item.text(locale)) for item, _answer in items],
        "missed": [t for t in guidance.topics if t.code not in covered] if guidance else [],
        "value_label": words.value_label,
        "feedback": queries.feedback_of(evaluation.id),
        "actions": queries.evaluation_actions(evaluation.id),
        "state": _state_of(branch, today),
        "branch_alerts": alerts.alerts_for([branch.id], today),
        "may_respond": scope.may(current_user, "respond", branch),
        "is_author": evaluation.cadre_id == current_user.id,
        "default_owner": branch.secretary_name or "",
        "default_due": rules.default_due(today),
        "errors": {},
        "values": MultiDict(),
        "form": "",
        "next": url_for("feedback.show", evaluation_id=evaluation.id),
        "photos": photo_queries.of_evaluation(evaluation),
    }
    context.update(extra)
    return context


@bp.get("/feedback/<int:evaluation_id>")
@login_required
def show(evaluation_id: int) -> ResponseReturnValue:
    """One evaluation as its branch reads it: scores, what failed and why, the answer so far."""
    evaluation = evaluation_or_403(current_user, evaluation_id)
    context = page_context(evaluation)
    return render_page("feedback/show.html", "feedback/_page.html", **context)


def on_feedback_page(evaluation_id: int | None) -> bool:
    """Whether this htmx request came from the feedback page of that evaluation (htmx names
    the page it was sent from in ``HX-Current-URL``)."""
    if evaluation_id is None:
        return False
    sent_from = urlsplit(request.headers.get("HX-Current-URL", "")).path
    return sent_from == url_for("feedback.show", evaluation_id=evaluation_id)


def branch_now(evaluation: Evaluation) -> str:
    """The feedback page's branch state, alert tags and legend as an out-of-band swap: what an
    action on the page changed outside the section it answers (issue 16, item 10)."""
    today = clock.today()
    branch = evaluation.branch
    return render_template(
        "feedback/_branch_now.html",
        oob=True,
        branch=branch,
        state=_state_of(branch, today),
        branch_alerts=alerts.alerts_for([branch.id], today),
    )


def section(evaluation: Evaluation, partial: str, anchor: str, **extra: Any) -> ResponseReturnValue:
    """After a change: the section for htmx (with the page's branch alerts out of band),
    else back to the page (PRG)."""
    if wants_fragment():
        html = render_template(partial, **page_context(evaluation, **extra))
        return html + branch_now(evaluation)
    return redirect(url_for("feedback.show", evaluation_id=evaluation.id, _anchor=anchor), 303)


def invalid_form(
    evaluation: Evaluation, partial: str, form: str, errors: Errors
) -> ResponseReturnValue:
    """A rejected form: nothing stored; the section (htmx) or the page, errors beside fields."""
    db.session.rollback()
    context = page_context(evaluation, errors=errors, values=request.form, form=form)
    if wants_fragment():
        return render_template(partial, **context), 422
    return render_template("feedback/show.html", **context), 422


@bp.post("/feedback/<int:evaluation_id>/acknowledge")
@login_required
def acknowledge(evaluation_id: int) -> ResponseReturnValue:
    """Mark the evaluation read for the branch (the first acknowledgement stands)."""
    evaluation = evaluation_or_403(current_user, evaluation_id, "respond")
    service.acknowledge(evaluation, user_now())
    db.session.commit()
    if not wants_fragment():
        flash(_("Marked as read."), "info")
    return section(evaluation, "feedback/_response.html", "response")


@bp.post("/feedback/<int:evaluation_id>/reply")
@login_required
def reply(evaluation_id: int) -> ResponseReturnValue:
    """Write or change the branch's reply; the cadre and the province see it."""
    evaluation = evaluation_or_403(current_user, evaluation_id, "respond")
    try:
        data = ReplySchema().load(request.form)
    except ValidationError as exc:
        return invalid_form(
            evaluation, "feedback/_response.html", "reply", plain_errors(exc.messages)
        )
    service.reply(evaluation, user_now(), data["reply"])
    db.session.commit()
    if not wants_fragment():
        flash(_("Your reply was sent."), "info")
    return section(evaluation, "feedback/_response.html", "response")


# ------------------------------------------------------------ the cadre's side


def failed_items(evaluation: Evaluation, locale: str) -> list[tuple[str, str]]:
    """(code, text) of the items the evaluation failed: what a cadre may propose actions on."""
    return [
        (item.code, item.text(locale))
        for item, answer in not_met(evaluation)
        if answer.value == FAIL
    ]


def result_context(evaluation: Evaluation) -> dict[str, Any]:
    """What the result page's feedback section shows (a Jinja global for that include)."""
    today = clock.today()
    is_author = current_user.is_authenticated and evaluation.cadre_id == current_user.id
    choices = failed_items(evaluation, _locale())
    return {
        "feedback": queries.feedback_of(evaluation.id),
        "actions": queries.evaluation_actions(evaluation.id),
        "today": today,
        "is_author": is_author,
        "may_respond": scope.may(current_user, "respond", evaluation.branch),
        "can_propose": bool(
            is_author
            and choices
            and evaluation.superseded_by is None
            and scope.may(current_user, "evaluate", evaluation.branch)
        ),
        "item_choices": choices,
        "default_owner": evaluation.branch.secretary_name or "",
        "default_due": rules.default_due(today),
    }


@bp.post("/feedback/<int:evaluation_id>/read")
@login_required
def mark_read(evaluation_id: int) -> ResponseReturnValue:
    """The cadre marks the branch's reply as read."""
    evaluation = authored_or_403(evaluation_id)
    feedback = queries.feedback_of(evaluation.id)
    if feedback is None or feedback.reply is None:
        abort(404)
    if service.mark_reply_read(feedback):
        db.session.commit()
    if wants_fragment():
        return render_template(
            "feedback/_reply.html", evaluation=evaluation, feedback=feedback, is_author=True
        )
    default = url_for("evaluations.result", evaluation_id=evaluation.id)
    return redirect(next_url(default), 303)


# ----------------------------------------------------------- template globals


def branch_alerts(branch_ids: Any) -> dict[int, rules.Alerts]:
    """Alerts for the branches a template lists, in one call (no query per row)."""
    return alerts.alerts_for([int(i) for i in branch_ids], clock.today())


def secretary_summary() -> dict[str, Any]:
    """The home page's secretary panel: counts and the newest evaluations."""
    today = clock.today()
    return {
        "notices": notices(),
        "inbox": queries.inbox(current_user.unit, today, size=5),
        "today": today,
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        feedback_notices=notices,
        feedback_menu_count=menu_count,
        feedback_alerts=branch_alerts,
        secretary_summary=secretary_summary,
        result_feedback=result_context,
        action_shown=rules.shown_status,
    )
