"""The reviewer's queue and review form, and a cadre's reviews."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso import clock, scope
from coso.evaluations.words import value_label
from coso.extensions import db
from coso.fields import plain_errors
from coso.models import Visit
from coso.photos import queries as photo_queries
from coso.reviews import queries, rules, service
from coso.reviews.schema import ReviewSchema, scores_from
from coso.reviews.words import criterion_label, problem_text, state_label
from coso.web import page_arg, render_page, user_now

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
Errors = dict[str, list[str]]


@bp.get("")
@login_required
def queue() -> ResponseReturnValue:
    """Visits of the cadres in my area waiting for (or past) review, by state."""
    if not scope.can_review(current_user):
        abort(403, description=_("Your role does not allow this."))
    errors: Errors = {}
    state = request.args.get("state", "").strip() or None
    if state is not None and state not in rules.STATES:
        errors["state"] = [_("Choose a state from the list.")]
        state = None
    since = clock.today() - timedelta(days=365)
    result = queries.queue(user_now(), state, since, page_arg())
    return render_page(
        "reviews/queue.html",
        "reviews/_queue.html",
        422 if errors else 200,
        result=result,
        items=result.rows,
        args={"state": state} if state else {},
        state=state,
        states=rules.STATES,
        errors=errors,
    )


@bp.route("/<int:visit_id>", methods=["GET", "POST"])
@login_required
def show(visit_id: int) -> ResponseReturnValue:
    """A visit's report, its review history, and (for a reviewer) the review form."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    reviewer = scope.may_review(current_user, visit.user)
    if not queries.may_read(current_user, visit):
        abort(403, description=_("This cadre works outside your area."))
    rubric = queries.rubric_for(visit.user.unit)
    errors: Errors = {}
    form = {"state": "", "comment": ""}
    scores: dict[str, int] = {}
    if request.method == "POST":
        if not reviewer:
            abort(403, description=_("Only a reviewer of this cadre's area can review."))
        form = {k: request.form.get(k, "").replace("\x00", "") for k in ("state", "comment")}
        scores = scores_from(request.form, rubric)
        try:
            data = ReviewSchema().load(form)
        except ValidationError as exc:
            errors = plain_errors(exc.messages)
            data = None
        if data is not None:
            problems = rules.check(data["state"], scores, data["comment"], rubric)
            errors.update({k: [str(problem_text(p))] for k, p in problems.items()})
        if not errors and data is not None:
            service.review(visit, user_now(), data["state"], scores, data["comment"], rubric)
            db.session.commit()
            flash(_("The review was saved."), "info")
            return redirect(url_for("reviews.show", visit_id=visit.id), code=303)
    rows = queries.history(visit)
    failed, meeting_photos = queries.failed_items(visit, str(get_locale()))
    page = render_template(
        "reviews/show.html",
        visit=visit,
        history=rows,
        state=rules.current_state([r.state for r in rows]),
        reviewer=reviewer,
        rubric=rubric,
        form=form,
        scores=scores,
        errors=errors,
        share_of=queries.share_of,
        failed=failed,
        meeting_photos=meeting_photos,
        value_label=value_label,
        photos=photo_queries.of_visit(visit),
    )
    return page, 422 if errors else 200


@bp.get("/mine")
@login_required
def mine() -> ResponseReturnValue:
    """The reviews of my visits, newest first."""
    scope.require_goes_out(current_user)
    return render_template("reviews/mine.html", reviews=queries.mine(user_now()))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["review_state_label"] = state_label
    app.jinja_env.globals["review_criterion_label"] = criterion_label


@bp.route("/rubric", methods=["GET", "POST"])
@login_required
def rubric() -> ResponseReturnValue:
    """The province's review rubric: which criteria count and how they are scored."""
    scope.require(current_user, "publish")
    unit = user_now().unit
    current = {c["key"]: c["max"] for c in queries.rubric_for(unit)}
    choices = {k: str(current.get(k, 0)) for k in rules.CRITERIA}
    errors: Errors = {}
    if request.method == "POST":
        choices = {k: request.form.get(k, "0").strip() for k in rules.CRITERIA}
        new, problem = rules.rubric_from(choices)
        if problem:
            errors["rubric"] = [str(problem_text(problem))]
        else:
            service.set_rubric(unit, new, user_now())
            db.session.commit()
            flash(_("The rubric was saved."), "info")
            return redirect(url_for("reviews.rubric"), code=303)
    page = render_template(
        "reviews/rubric.html", unit=unit, choices=choices, criteria=rules.CRITERIA, errors=errors
    )
    return page, 422 if errors else 200
