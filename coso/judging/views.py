"""The settings page: the thresholds and windows of the flag rules, and the visit-day target.

A unit stores only what differs from what it inherits (the nearest override
above, else domain.md's defaults). Saving re-judges the branches under the unit
(``rejudge.change_settings``) in the same transaction. Needs ``publish`` on the
unit. The page attaches to the ``admin`` blueprint (endpoints ``admin.settings*``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso import scope
from coso.admin.blueprint import bp
from coso.extensions import db
from coso.fields import form_data, plain_errors
from coso.judging.queries import inherited, inherited_from, settings_for_path
from coso.judging.rejudge import SettingsProblem, change_settings
from coso.judging.schema import SETTING_FIELDS, SettingsSchema, form_values
from coso.models import Unit, UnitSettings
from coso.web import render_page, unit_in_scope, user_now

ACTION = "publish"


@bp.get("/settings")
@login_required
def settings_home() -> ResponseReturnValue:
    scope.require(current_user, ACTION)
    return redirect(url_for("admin.settings", unit_id=current_user.unit_id))


def settings_unit(unit_id: int) -> Unit:
    unit = unit_in_scope(unit_id, ACTION)
    if unit.is_branch:
        abort(404)
    return unit


def _page(unit: Unit, values: dict[str, str], status: int = 200, **extra: Any) -> Any:
    row = db.session.get(UnitSettings, unit.id)
    context: dict[str, Any] = {
        "unit": unit,
        "values": values,
        "errors": {},
        "defaults": form_values(inherited(unit)),
        "overridden": set((row.values if row else {}).keys()),
        "sources": inherited_from(unit),
        "children_with_own": _children_with_own(unit),
    }
    context.update(extra)
    return render_page("admin/settings.html", "admin/_settings.html", status, **context)


def _children_with_own(unit: Unit) -> list[Unit]:
    """Units below that keep settings of their own (they override what is set here)."""
    return list(
        db.session.scalars(
            sa.select(Unit)
            .join(UnitSettings, UnitSettings.unit_id == Unit.id)
            .where(unit.subtree_clause(), Unit.id != unit.id)
            .order_by(Unit.depth, Unit.name)
            .limit(50)
        )
    )


@bp.route("/settings/<int:unit_id>", methods=["GET", "POST"])
@login_required
def settings(unit_id: int) -> ResponseReturnValue:
    """See and change the settings in force for a unit and everything under it."""
    unit = settings_unit(unit_id)
    if request.method == "GET":
        return _page(unit, form_values(settings_for_path(unit.path)))
    raw = form_data(request.form, SETTING_FIELDS)
    values = {key: value or "" for key, value in raw.items()}
    try:
        data = SettingsSchema().load(raw)
    except ValidationError as exc:
        return _page(unit, values, 422, errors=plain_errors(exc.messages))
    try:
        summary = change_settings(unit, data, user_now())
    except SettingsProblem as exc:
        db.session.rollback()
        return _page(unit, values, 422, errors={"_form": [str(exc)]})
    if summary is None:
        flash(_("Nothing changed."), "info")
    else:
        db.session.commit()
        flash(
            _(
                "Saved. %(b)s branch states were recomputed (%(e)s evaluations judged again).",
                b=summary.branches,
                e=summary.evaluations,
            ),
            "info",
        )
    return redirect(url_for("admin.settings", unit_id=unit.id), code=303)
