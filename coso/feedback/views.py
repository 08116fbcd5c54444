"""The secretaries' inbox, the feedback page, replies and corrective actions.

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

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from coso import clock, scope
from coso.evaluations import words
from coso.extensions import db
from coso.feedback import queries, rules, service
from coso.feedback.schema import (
    AcceptSchema,
    ActionSchema,
    CloseSchema,
    DeclineSchema,
    ReplySchema,
    errors_of,
)
from coso.htmx import wants_fragment
from coso.judging import flags
from coso.judging.queries import settings_for_path
from coso.judging.scoring import FAIL, PARTIAL
from coso.models import BranchStatus, CorrectiveAction, Evaluation, Unit

bp = Blueprint("feedback", __name__)

Errors = dict[str, list[str]]


def _locale() -> str:
    return str(get_locale())


def _user() -> Any:
    return current_user._get_current_object()


# ------------------------------------------------------------------- access


def _deny(unit: Unit) -> None:
    """403 with the reason: the unit is outside the user's area, or the role does not allow it."""
    if not scope.in_scope(current_user, unit):
        abort(403, description=_("This unit is outside your area."))
    abort(403, description=_("Your role does not allow this."))


def evaluation_or_403(evaluation_id: int, action: str = "view") -> Evaluation:
    """The evaluation, if the user may do ``action`` on its branch: else 404 or 403."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        abort(404)
    if not scope.may(current_user, action, evaluation.branch):
        _deny(evaluation.branch)
    return evaluation


def _authored_or_403(evaluation_id: int) -> Evaluation:
    """The evaluation, if the user wrote it and may still evaluate its branch."""
    evaluation = evaluation_or_403(evaluation_id)
    if evaluation.cadre_id != current_user.id or not scope.may(
        current_user, "evaluate", evaluation.branch
    ):
        abort(403, description=_("Only the cadre who wrote this evaluation can do this."))
    return evaluation


def _action_or_403(action_id: int, action: str = "view", lock: bool = False) -> CorrectiveAction:
    found = service.lock_action(action_id) if lock else db.session.get(CorrectiveAction, action_id)
    if found is None:
        abort(404)
    branch = db.session.get(Unit, found.branch_id)
    assert branch is not None
    if not scope.may(current_user, action, branch):
        _deny(branch)
    return found


def _require_lists() -> None:
    """The inbox and the actions list: secretaries, and the province read-only."""
    if not (scope.can(current_user, "respond") or scope.can(current_user, "evaluate_view")):
        abort(403, description=_("Your role does not allow this."))


def _next_url(default: str) -> str:
    """Where to go after a form: a local path sent by the form, else ``default``."""
    target = request.form.get("next", "") or request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


# ------------------------------------------------------------------ parsing


def _unit_arg(errors: Errors) -> Unit:
    """The ``unit`` filter: my own unit when absent; 404 unknown, 403 outside my area."""
    raw = request.args.get("unit", "").strip()
    if not raw:
        return current_user.unit
    if not raw.isdecimal() or len(raw) > 9:
        errors["unit"] = [_("Choose a unit from the list.")]
        return current_user.unit
    return scope.unit_or_403(current_user, int(raw))


def _page_arg(errors: Errors) -> int:
    raw = request.args.get("page", "").strip() or "1"
    if not raw.isdecimal() or len(raw) > 6 or int(raw) < 1:
        errors["page"] = [_("The page number is not valid.")]
        return 1
    return int(raw)


def _choice_arg(name: str, choices: tuple[str, ...], default: str, errors: Errors) -> str:
    raw = request.args.get(name, "").strip() or default
    if raw not in choices:
        errors[name] = [_("Choose a value from the list.")]
        return default
    return raw


def unit_options(selected: Unit) -> list[Unit]:
    """The units a list can be narrowed to: my own, those right under it, and the chosen one."""
    home = current_user.unit
    children = db.session.scalars(
        sa.select(Unit)
        .where(Unit.parent_id == home.id, Unit.active.is_(True))
        .order_by(Unit.name, Unit.id)
    ).all()
    options = [home, *children]
    if selected.id not in {unit.id for unit in options}:
        options.append(selected)
    return options


# -------------------------------------------------------------------- lists


@bp.get("/feedback")
@login_required
def inbox() -> ResponseReturnValue:
    """The secretary's home: evaluations in my area, newest first, unread ones marked."""
    _require_lists()
    errors: Errors = {}
    unit = _unit_arg(errors)
    show = _choice_arg("show", ("all", "unread"), "all", errors)
    number = _page_arg(errors)
    today = clock.today()
    result = queries.inbox(unit, today, unread_only=show == "unread", page=number)
    context = {
        "result": result,
        "unit": unit,
        "units": unit_options(unit),
        "show": show,
        "errors": errors,
        "today": today,
        "notices": notices(),
    }
    code = 422 if errors else 200
    if wants_fragment():
        return render_template("feedback/_inbox.html", **context), code
    return render_template("feedback/inbox.html", **context), code


@bp.get("/feedback/actions")
@login_required
def actions() -> ResponseReturnValue:
    """Corrective actions in my area, by status: open (overdue first due), proposed, closed."""
    _require_lists()
    errors: Errors = {}
    unit = _unit_arg(errors)
    which = _choice_arg("status", queries.ACTION_FILTERS, "open", errors)
    number = _page_arg(errors)
    today = clock.today()
    context = {
        "result": queries.actions(unit, today, which, number),
        "unit": unit,
        "units": unit_options(unit),
        "which": which,
        "errors": errors,
        "today": today,
        "may_respond": scope.may(current_user, "respond", unit),
        "next": request.full_path.rstrip("?"),
    }
    code = 422 if errors else 200
    if wants_fragment():
        return render_template("feedback/_actions_list.html", **context), code
    return render_template("feedback/actions.html", **context), code


@bp.get("/feedback/replies")
@login_required
def replies() -> ResponseReturnValue:
    """What branches answered to my evaluations; showing them marks them read."""
    scope.require(current_user, "evaluate")
    errors: Errors = {}
    number = _page_arg(errors)
    rows, total, number, pages = queries.replies(_user(), number)
    template = "feedback/_replies.html" if wants_fragment() else "feedback/replies.html"
    page = render_template(
        template, rows=rows, total=total, page=number, pages=pages, errors=errors
    )
    if service.mark_replies_read([row.feedback_id for row in rows if not row.read]):
        db.session.commit()
    return page, 422 if errors else 200


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
    return flags.effective_state(row, today, settings_for_path(branch.path).overdue_days)[0]


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
        "branch_alerts": queries.alerts_for([branch.id], today),
        "may_respond": scope.may(current_user, "respond", branch),
        "is_author": evaluation.cadre_id == current_user.id,
        "default_owner": branch.secretary_name or "",
        "default_due": rules.default_due(today),
        "errors": {},
        "values": MultiDict(),
        "form": "",
        "next": url_for("feedback.show", evaluation_id=evaluation.id),
    }
    context.update(extra)
    return context


@bp.get("/feedback/<int:evaluation_id>")
@login_required
def show(evaluation_id: int) -> ResponseReturnValue:
    """One evaluation as its branch reads it: scores, what failed and why, the answer so far."""
    evaluation = evaluation_or_403(evaluation_id)
    context = page_context(evaluation)
    if wants_fragment():
        return render_template("feedback/_page.html", **context)
    return render_template("feedback/show.html", **context)


def _section(
    evaluation: Evaluation, partial: str, anchor: str, **extra: Any
) -> ResponseReturnValue:
    """After a change: the section for htmx, else back to the page (PRG)."""
    if wants_fragment():
        return render_template(partial, **page_context(evaluation, **extra))
    return redirect(url_for("feedback.show", evaluation_id=evaluation.id, _anchor=anchor), 303)


def _invalid(
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
    evaluation = evaluation_or_403(evaluation_id, "respond")
    service.acknowledge(evaluation, _user())
    db.session.commit()
    if not wants_fragment():
        flash(_("Marked as read."), "info")
    return _section(evaluation, "feedback/_response.html", "response")


@bp.post("/feedback/<int:evaluation_id>/reply")
@login_required
def reply(evaluation_id: int) -> ResponseReturnValue:
    """Write or change the branch's reply; the cadre and the province see it."""
    evaluation = evaluation_or_403(evaluation_id, "respond")
    try:
        data = ReplySchema().load(request.form)
    except ValidationError as exc:
        return _invalid(evaluation, "feedback/_response.html", "reply", errors_of(exc))
    service.reply(evaluation, _user(), data["reply"])
    db.session.commit()
    if not wants_fragment():
        flash(_("Your reply was sent."), "info")
    return _section(evaluation, "feedback/_response.html", "response")


@bp.post("/feedback/<int:evaluation_id>/actions")
@login_required
def add_action(evaluation_id: int) -> ResponseReturnValue:
    """A corrective action the secretary sets: what, who, by when."""
    evaluation = evaluation_or_403(evaluation_id, "respond")
    schema = ActionSchema(
        today=clock.today(), item_codes=[item.code for item, _a in not_met(evaluation)]
    )
    try:
        data = schema.load(request.form)
    except ValidationError as exc:
        return _invalid(evaluation, "feedback/_actions.html", "action", errors_of(exc))
    service.create_action(evaluation, _user(), data)
    db.session.commit()
    if not wants_fragment():
        flash(_("The corrective action was added."), "info")
    return _section(evaluation, "feedback/_actions.html", "actions")


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


@bp.route("/feedback/<int:evaluation_id>/propose", methods=["GET", "POST"])
@login_required
def propose(evaluation_id: int) -> ResponseReturnValue:
    """The cadre proposes a corrective action on a failed item; a secretary accepts or declines.

    Done on the result page after the evaluation is stored, so the sync payload
    keeps the shape design.md fixes.
    """
    evaluation = _authored_or_403(evaluation_id)
    partial = "feedback/_on_result.html" if wants_fragment() else "feedback/propose.html"
    if request.method == "GET":
        return render_template(partial, evaluation=evaluation)
    choices = failed_items(evaluation, _locale())
    schema = ActionSchema(
        today=clock.today(), item_codes=[code for code, _t in choices], item_required=True
    )
    errors: Errors = {}
    data: dict[str, Any] = {}
    try:
        data = schema.load(request.form)
    except ValidationError as exc:
        errors.update(errors_of(exc))
    if evaluation.superseded_by is not None:
        errors["_schema"] = [_("This evaluation was corrected: propose on the correction.")]
    if errors:
        db.session.rollback()
        context = {"propose_errors": errors, "propose_values": request.form}
        return render_template(partial, evaluation=evaluation, **context), 422
    service.propose_action(evaluation, _user(), data)
    db.session.commit()
    if wants_fragment():
        return render_template(partial, evaluation=evaluation)
    flash(_("Your proposal was sent to the branch."), "info")
    target = url_for("evaluations.result", evaluation_id=evaluation.id, _anchor="result-feedback")
    return redirect(target, 303)


@bp.post("/feedback/<int:evaluation_id>/read")
@login_required
def mark_read(evaluation_id: int) -> ResponseReturnValue:
    """The cadre marks the branch's reply as read."""
    evaluation = _authored_or_403(evaluation_id)
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
    return redirect(_next_url(default), 303)


# ------------------------------------------------------------------ actions


def _action_context(action: CorrectiveAction, **extra: Any) -> dict[str, Any]:
    branch = db.session.get(Unit, action.branch_id)
    context: dict[str, Any] = {
        "action": action,
        "branch": branch,
        "branch_name": branch.name if branch else "",
        "today": clock.today(),
        "may_respond": scope.may(current_user, "respond", branch) if branch else False,
        "errors": {},
        "values": MultiDict(),
        "form": "",
        "next": _next_url(""),
    }
    context.update(extra)
    return context


@bp.get("/feedback/actions/<int:action_id>")
@login_required
def action(action_id: int) -> ResponseReturnValue:
    """One corrective action with what can be done to it."""
    found = _action_or_403(action_id)
    if wants_fragment():
        return render_template("feedback/_action.html", **_action_context(found))
    return render_template("feedback/action.html", **_action_context(found))


def _change(action_id: int, verb: str) -> ResponseReturnValue:
    """Accept, decline or close an action: validate, apply the transition, answer."""
    found = _action_or_403(action_id, "respond", lock=True)
    today = clock.today()
    schemas = {
        "accept": lambda: AcceptSchema(today=today),
        "decline": DeclineSchema,
        "close": CloseSchema,
    }
    errors: Errors = {}
    try:
        data = schemas[verb]().load(request.form)
        if verb == "accept":
            service.accept(found, _user(), data)
        elif verb == "decline":
            service.decline(found, _user(), data.get("note"))
        else:
            service.close(found, _user(), data["note"], today)
    except ValidationError as exc:
        errors = errors_of(exc)
    except rules.TransitionError:
        errors = {"_schema": [_("Someone has already dealt with this action. Reload the page.")]}
    if errors:
        db.session.rollback()
        found = _action_or_403(action_id)
        context = _action_context(found, errors=errors, values=request.form, form=verb)
        partial = "feedback/_action.html" if wants_fragment() else "feedback/action.html"
        return render_template(partial, **context), 422
    db.session.commit()
    if wants_fragment():
        return render_template("feedback/_action.html", **_action_context(found))
    messages = {
        "accept": _("The proposal was accepted."),
        "decline": _("The proposal was declined."),
        "close": _("The action was closed."),
    }
    flash(messages[verb], "info")
    default = url_for("feedback.action", action_id=found.id)
    return redirect(_next_url(default), 303)


@bp.post("/feedback/actions/<int:action_id>/accept")
@login_required
def accept(action_id: int) -> ResponseReturnValue:
    """Accept a cadre's proposal: it becomes an open action."""
    return _change(action_id, "accept")


@bp.post("/feedback/actions/<int:action_id>/decline")
@login_required
def decline(action_id: int) -> ResponseReturnValue:
    """Decline a cadre's proposal."""
    return _change(action_id, "decline")


@bp.post("/feedback/actions/<int:action_id>/close")
@login_required
def close(action_id: int) -> ResponseReturnValue:
    """Close an open action with a short note on what was done."""
    return _change(action_id, "close")


# ----------------------------------------------------------- template globals


def notices() -> rules.Notices:
    """The signed-in user's badge counts, computed once per request."""
    if not current_user.is_authenticated:
        return rules.Notices()
    if "coso_notices" not in g:
        g.coso_notices = queries.notices(_user(), clock.today())
    return g.coso_notices


def branch_alerts(branch_ids: Any) -> dict[int, rules.Alerts]:
    """Alerts for the branches a template lists, in one call (no query per row)."""
    return queries.alerts_for([int(i) for i in branch_ids], clock.today())


def secretary_summary() -> dict[str, Any]:
    """The home page's secretary panel: counts and the newest evaluations."""
    today = clock.today()
    unit = current_user.unit
    return {
        "notices": notices(),
        "inbox": queries.inbox(unit, today, size=5),
        "proposed": queries.action_counts(unit, today)["proposed"],
        "today": today,
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        feedback_notices=notices,
        feedback_alerts=branch_alerts,
        secretary_summary=secretary_summary,
        result_feedback=result_context,
        action_shown=rules.shown_status,
    )
