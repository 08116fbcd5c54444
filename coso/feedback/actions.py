"""Corrective actions: the list, one action, and what secretaries and cadres do to them.

Routes on the feedback blueprint (:mod:`coso.feedback.views`), with the same
endpoint names as before the split: ``feedback.actions``, ``feedback.action``,
``feedback.add_action``, ``feedback.propose``, ``feedback.accept``,
``feedback.decline``, ``feedback.close``. Who may do what is said in the views
module's docstring.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from coso import clock, scope, web
from coso.evaluations.queries import evaluation_or_403
from coso.extensions import db
from coso.feedback import counts, queries, rules, service, views
from coso.feedback.schema import AcceptSchema, ActionSchema, CloseSchema, DeclineSchema
from coso.feedback.views import (
    Errors,
    authored_or_403,
    bp,
    failed_items,
    invalid_form,
    next_url,
    not_met,
    require_lists,
    section,
)
from coso.fields import plain_errors
from coso.models import CorrectiveAction, Evaluation, Unit
from coso.web import render_page, user_now, wants_fragment


def _action_or_403(action_id: int, action: str = "view", lock: bool = False) -> CorrectiveAction:
    """The action, if the user may do ``action`` on its branch (locked to change it)."""
    found = service.lock_action(action_id) if lock else db.session.get(CorrectiveAction, action_id)
    if found is None:
        abort(404)
    branch = db.session.get(Unit, found.branch_id)
    assert branch is not None
    if not scope.may(current_user, action, branch):
        scope.deny(current_user, branch)
    return found


@bp.get("/feedback/actions")
@login_required
def actions() -> ResponseReturnValue:
    """Corrective actions in my area, by status: open (overdue first due), proposed, closed."""
    require_lists()
    errors: Errors = {}
    unit = web.unit_arg(errors)
    which = web.choice_arg("status", queries.ACTION_FILTERS, "open", errors)
    number = web.page_arg()
    today = clock.today()
    context = {
        "result": queries.actions(unit, today, which, number),
        "unit": unit,
        "units": web.unit_choices(unit, nearby=True),
        "which": which,
        "errors": errors,
        "today": today,
        "may_respond": scope.may(current_user, "respond", unit),
        "next": request.full_path.rstrip("?"),
    }
    return render_page(
        "feedback/actions.html", "feedback/_actions_list.html", 422 if errors else 200, **context
    )


def _action_context(action: CorrectiveAction, **extra: Any) -> dict[str, Any]:
    """Everything one action's page and its partial show."""
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
        "next": next_url(""),
    }
    context.update(extra)
    return context


@bp.get("/feedback/actions/<int:action_id>")
@login_required
def action(action_id: int) -> ResponseReturnValue:
    """One corrective action with what can be done to it."""
    found = _action_or_403(action_id)
    return render_page("feedback/action.html", "feedback/_action.html", **_action_context(found))


# ------------------------------------------------------ on one evaluation


@bp.post("/feedback/<int:evaluation_id>/actions")
@login_required
def add_action(evaluation_id: int) -> ResponseReturnValue:
    """A corrective action the secretary sets: what, who, by when."""
    evaluation = evaluation_or_403(current_user, evaluation_id, "respond")
    schema = ActionSchema(
        today=clock.today(), item_codes=[item.code for item, _a in not_met(evaluation)]
    )
    try:
        data = schema.load(request.form)
    except ValidationError as exc:
        return invalid_form(
            evaluation, "feedback/_actions.html", "action", plain_errors(exc.messages)
        )
    service.create_action(evaluation, user_now(), data)
    db.session.commit()
    if not wants_fragment():
        flash(_("The corrective action was added."), "info")
    return section(evaluation, "feedback/_actions.html", "actions")


@bp.route("/feedback/<int:evaluation_id>/propose", methods=["GET", "POST"])
@login_required
def propose(evaluation_id: int) -> ResponseReturnValue:
    """The cadre proposes a corrective action on a failed item; a secretary accepts or declines.

    Done on the result page after the evaluation is stored, so the sync payload
    keeps the shape design.md fixes.
    """
    evaluation = authored_or_403(evaluation_id)
    partial = "feedback/_on_result.html" if wants_fragment() else "feedback/propose.html"
    if request.method == "GET":
        return render_template(partial, evaluation=evaluation)
    choices = failed_items(evaluation, str(get_locale()))
    schema = ActionSchema(
        today=clock.today(), item_codes=[code for code, _t in choices], item_required=True
    )
    errors: Errors = {}
    data: dict[str, Any] = {}
    try:
        data = schema.load(request.form)
    except ValidationError as exc:
        errors.update(plain_errors(exc.messages))
    if evaluation.superseded_by is not None:
        errors["_schema"] = [_("This evaluation was corrected: propose on the correction.")]
    if errors:
        db.session.rollback()
        context = {"propose_errors": errors, "propose_values": request.form}
        return render_template(partial, evaluation=evaluation, **context), 422
    service.propose_action(evaluation, user_now(), data)
    db.session.commit()
    if wants_fragment():
        return render_template(partial, evaluation=evaluation)
    flash(_("Your proposal was sent to the branch."), "info")
    target = url_for("evaluations.result", evaluation_id=evaluation.id, _anchor="result-feedback")
    return redirect(target, 303)


# ------------------------------------------------------- changing an action


def _change(action_id: int, verb: str) -> ResponseReturnValue:
    """Accept, decline or close an action: validate, apply the transition, answer."""
    found = _action_or_403(action_id, "respond", lock=True)
    today = clock.today()
    schemas = {
        "accept": lambda: AcceptSchema(today=today),
        "decline": DeclineSchema,
        "close": CloseSchema,
    }
    # From the actions list: its tab and unit come along, so the answer keeps the list's
    # shape (an item that leaves the tab leaves it at once) and its tab counters move.
    tab = request.form.get("tab", "")
    unit = counts.list_unit() if tab in queries.ACTION_FILTERS else None
    in_list: dict[str, Any] = {"which": tab, "unit": unit} if unit is not None else {}
    errors: Errors = {}
    try:
        data = schemas[verb]().load(request.form)
        if verb == "accept":
            service.accept(found, user_now(), data)
        elif verb == "decline":
            service.decline(found, user_now(), data["note"])
        else:
            service.close(found, user_now(), data["note"], today)
    except ValidationError as exc:
        errors = plain_errors(exc.messages)
    except rules.TransitionError:
        errors = {"_schema": [_("Someone has already dealt with this action. Reload the page.")]}
    if errors:
        db.session.rollback()
        found = _action_or_403(action_id)
        context = _action_context(found, errors=errors, values=request.form, form=verb, **in_list)
        partial = "feedback/_action.html" if wants_fragment() else "feedback/action.html"
        return render_template(partial, **context), 422
    db.session.commit()
    messages = {
        "accept": _("The proposal was accepted."),
        "decline": _("The proposal was declined."),
        "close": _("The action was closed."),
    }
    if wants_fragment():
        shown = rules.shown_status(found.status, found.due_date, today)
        if in_list and not rules.in_tab(tab, shown):
            moved = _action_context(found, message=messages[verb], shown=shown, **in_list)
            return render_template("feedback/_action_moved.html", **moved)
        html = render_template("feedback/_action.html", **_action_context(found, **in_list))
        if views.on_feedback_page(found.evaluation_id):
            evaluation = db.session.get(Evaluation, found.evaluation_id)
            assert evaluation is not None
            html += views.branch_now(evaluation)
        return html
    flash(messages[verb], "info")
    default = url_for("feedback.action", action_id=found.id)
    return redirect(next_url(default), 303)


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
