"""The province's own list of difficulty categories (issue 19, item 1): rename, reorder,
retire, add. Province users and administrators of the province edit it; each change is
audited (``difficulty.categories``). Routes on the difficulties' blueprint."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from coso import scope
from coso.difficulties import queries, rules, service
from coso.difficulties.views import bp
from coso.difficulties.words import category_label, problem_text
from coso.extensions import db
from coso.fields import is_storable
from coso.models import Unit, User
from coso.web import user_now


def _province_of_editor(user: User) -> Unit:
    """The province whose list ``user`` may edit: their own unit, when it is the province."""
    scope.require(user, "publish")
    province = queries.province_of(user.unit)
    if province.id != user.unit_id:
        abort(403, description=_("Only the province edits its list of categories."))
    return province


def _rows(province: Unit) -> list[dict[str, Any]]:
    rows = queries.category_rows(province)
    if rows:
        return [
            {
                "code": r.code,
                "label": category_label(r.code, r.label),
                "position": r.position,
                "active": r.active,
            }
            for r in rows
        ]
    return [
        {"code": code, "label": category_label(code, label), "position": i, "active": True}
        for i, (code, label) in enumerate(rules.DEFAULT_CATEGORIES, 1)
    ]


def _page(province: Unit, errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    rows = _rows(province)
    if request.method == "POST":  # what was typed stays in the form when it is refused
        for row in rows:
            row["label"] = request.form.get(f"label-{row['code']}", row["label"])
    return render_template(
        "difficulties/categories.html",
        province=province,
        rows=rows,
        own=bool(queries.category_rows(province)),
        errors=errors,
        new_label=request.form.get("new_label", "") if request.method == "POST" else "",
    ), status


@bp.get("/categories")
@login_required
def categories() -> ResponseReturnValue:
    """The province's categories, each editable, and a line to add one."""
    return _page(_province_of_editor(user_now()), {})


def _read_form(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    changes, errors = [], {}
    for row in rows:
        code = row["code"]
        label = request.form.get(f"label-{code}", "")
        position = request.form.get(f"position-{code}", "").strip()
        default = dict(rules.DEFAULT_CATEGORIES).get(code)
        if default is not None and label.strip() == category_label(code, default):
            label = default  # a default kept as it is stays translated for every reader
        problem = rules.label_problem(label)
        if problem or not is_storable(label):
            errors[f"label-{code}"] = [problem_text(problem or "label_required")]
        if not position.isdigit() or not 0 <= int(position) <= rules.POSITION_MAX:
            errors[f"position-{code}"] = [
                _("Enter a number from 0 to %(n)s.", n=rules.POSITION_MAX)
            ]
        changes.append(
            {
                "code": code,
                "label": label,
                "position": int(position) if position.isdigit() else 0,
                "active": request.form.get(f"active-{code}") == "1",
            }
        )
    return changes, errors


@bp.post("/categories")
@login_required
def save_categories() -> ResponseReturnValue:
    user = user_now()
    province = _province_of_editor(user)
    changes, errors = _read_form(_rows(province))
    new_label = request.form.get("new_label", "")
    if new_label.strip() and (rules.label_problem(new_label) or not is_storable(new_label)):
        errors["new_label"] = [problem_text(rules.label_problem(new_label) or "label_required")]
    if errors:
        return _page(province, errors, 422)
    try:
        service.save_categories(province, changes, new_label, user)
    except service.Refused as exc:
        db.session.rollback()
        return _page(province, {"list": [problem_text(exc.problem)]}, 422)
    db.session.commit()
    flash(_("The list of categories was saved."), "info")
    return redirect(url_for("difficulties.categories"), code=303)
